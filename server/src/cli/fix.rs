//! `chalice-iam fix`: apply the fix for every missing action to
//! `.chalice/config.json` and the policy file(s).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::diagnostics::FileEdit;
use crate::project::{Project, Settings};

#[derive(Args)]
pub struct FixArgs {
    /// A Chalice project directory.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Fix only this stage (default: every stage in .chalice/config.json).
    #[arg(long)]
    pub stage: Option<String>,
    #[arg(long, default_value = "3.12", value_parser = super::parse_python_version)]
    pub python_version: (u8, u8),
    /// Print what would change instead of writing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: FixArgs) -> ExitCode {
    let settings = Settings { stage: args.stage.clone(), python_version: args.python_version, ..Settings::default() };
    let project = match Project::load(&args.path, settings) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("chalice-iam: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(fix) = project.fix_all() else {
        println!("Nothing to fix.");
        return ExitCode::SUCCESS;
    };
    // Read every target first: the fix was computed from these texts, and
    // a file that changes before we write must not be overwritten.
    let mut planned = Vec::new();
    for edit in &fix.edits {
        match edit {
            FileEdit::Create { path, text } => {
                if path.exists() {
                    eprintln!("chalice-iam: {} appeared while fixing; not overwritten", path.display());
                    return ExitCode::from(2);
                }
                planned.push((path.clone(), None, text.clone()));
            }
            FileEdit::Replace { path, range, new_text } => {
                let Some(old) = project.read_json(path) else {
                    eprintln!("chalice-iam: cannot read {}", path.display());
                    return ExitCode::from(2);
                };
                if range.end > old.len() || !old.is_char_boundary(range.start) || !old.is_char_boundary(range.end) {
                    eprintln!("chalice-iam: {} changed while fixing; nothing written", path.display());
                    return ExitCode::from(2);
                }
                let mut new = old.clone();
                new.replace_range(range.start..range.end, new_text);
                planned.push((path.clone(), Some(old), new));
            }
        }
    }
    if args.dry_run {
        for (path, old, new) in &planned {
            println!("--- {}", path.display());
            if old.is_none() {
                println!("(new file)");
            }
            print!("{new}");
        }
        return ExitCode::SUCCESS;
    }
    for (path, old, new) in &planned {
        if let Err(e) = write_atomically(path, old.as_deref(), new) {
            eprintln!("chalice-iam: {}: {e}", path.display());
            return ExitCode::from(2);
        }
        println!("wrote {}", path.display());
    }
    println!("{}", fix.title);
    ExitCode::SUCCESS
}

/// Writes `new` to a temporary file beside `path` and renames it over
/// `path`, after checking that `path` still holds `expected` (or still does
/// not exist when `expected` is `None`).
pub fn write_atomically(path: &Path, expected: Option<&str>, new: &str) -> std::io::Result<()> {
    let current = std::fs::read_to_string(path).ok();
    if current.as_deref() != expected {
        return Err(std::io::Error::other("the file changed after it was read; nothing written"));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("policy.json");
    let tmp = dir.join(format!(".{name}.chalice-iam-{}.tmp", std::process::id()));
    std::fs::write(&tmp, new)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
