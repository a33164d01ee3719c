//! `chalice-iam fix`: apply the fix for every missing action to
//! `.chalice/config.json` and the policy file(s).
//!
//! The fix is computed from a snapshot of the files (each read once), and
//! its edits are applied to exactly those texts. Nothing is written when a
//! file changed on disk since it was read, or when an edit would land outside
//! the project. Each file is replaced atomically: written beside the target,
//! flushed, then renamed over it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::diagnostics::{FileEdit, Fix};
use crate::project::{is_inside, Project, Settings};

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
        Ok(p) => p.with_snapshot(),
        Err(e) => {
            eprintln!("chalice-iam: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(fix) = project.fix_all() else {
        println!("Nothing to fix.");
        return ExitCode::SUCCESS;
    };
    let planned = match plan(&project, &fix) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("chalice-iam: {e}");
            return ExitCode::from(2);
        }
    };
    if args.dry_run {
        for p in &planned {
            println!("--- {}", p.path.display());
            if p.old.is_none() {
                println!("(new file)");
            }
            print!("{}", p.new);
        }
        return ExitCode::SUCCESS;
    }
    match write_all(&planned) {
        Ok(()) => {
            for p in &planned {
                println!("wrote {}", p.path.display());
            }
            println!("{}", fix.title);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chalice-iam: {e}");
            ExitCode::from(2)
        }
    }
}

/// One file `fix` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub path: PathBuf,
    /// The text the fix was computed from; `None` for a new file.
    pub old: Option<String>,
    pub new: String,
}

/// The new text of every file `fix` edits or creates, from the texts the
/// project read (its snapshot, see [`Project::with_snapshot`]).
pub fn plan(project: &Project, fix: &Fix) -> Result<Vec<Planned>, String> {
    let mut by_path: BTreeMap<&Path, Vec<&FileEdit>> = BTreeMap::new();
    for edit in fix.edits.iter() {
        let path = edit.path();
        if !is_inside(project.root(), path) {
            return Err(format!("{} is outside the project; nothing written", path.display()));
        }
        by_path.entry(path).or_default().push(edit);
    }
    let mut planned = Vec::new();
    for (path, edits) in by_path {
        match edits.as_slice() {
            [FileEdit::Create { text, .. }] => planned.push(Planned { path: path.to_path_buf(), old: None, new: text.clone() }),
            _ => {
                let old = project.read_json(path).ok_or_else(|| format!("cannot read {}", path.display()))?;
                let mut ranges = Vec::new();
                for edit in &edits {
                    match edit {
                        FileEdit::Replace { range, new_text, .. } => ranges.push((*range, new_text)),
                        FileEdit::Create { .. } => return Err(format!("{}: created and edited by one fix", path.display())),
                    }
                }
                // Back to front, so earlier offsets stay valid.
                ranges.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
                let mut new = old.clone();
                let mut limit = old.len();
                for (range, text) in ranges {
                    let valid = range.start <= range.end
                        && range.end <= limit
                        && old.is_char_boundary(range.start)
                        && old.is_char_boundary(range.end);
                    if !valid {
                        return Err(format!("{}: the fix does not fit the file's text; nothing written", path.display()));
                    }
                    new.replace_range(range.start..range.end, text);
                    limit = range.start;
                }
                planned.push(Planned { path: path.to_path_buf(), old: Some(old), new });
            }
        }
    }
    Ok(planned)
}

/// Writes every planned file, or none when one of them changed since it
/// was read (checked for all first, then again for each just before it is
/// replaced).
pub fn write_all(planned: &[Planned]) -> Result<(), String> {
    for p in planned {
        check_unchanged(&p.path, p.old.as_deref()).map_err(|e| format!("{}: {e}", p.path.display()))?;
    }
    let mut written = Vec::new();
    for p in planned {
        if let Err(e) = write_atomically(&p.path, p.old.as_deref(), &p.new) {
            let done = if written.is_empty() { String::new() } else { format!(" (already written: {})", written.join(", ")) };
            return Err(format!("{}: {e}{done}", p.path.display()));
        }
        written.push(p.path.display().to_string());
    }
    Ok(())
}

/// `Ok` when `path` still holds exactly `expected`, or still does not exist
/// when `expected` is `None` (a dangling symbolic link counts as existing).
fn check_unchanged(path: &Path, expected: Option<&str>) -> std::io::Result<()> {
    match expected {
        None => match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
            Ok(_) => Err(std::io::Error::other("it appeared after the fix was computed; nothing written")),
        },
        Some(expected) => match crate::files::read(path) {
            Ok(bytes) if bytes == expected.as_bytes() => Ok(()),
            Ok(_) => Err(std::io::Error::other("the file changed after it was read; nothing written")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(std::io::Error::other("the file was deleted after it was read; nothing written"))
            }
            Err(e) => Err(e),
        },
    }
}

/// Replaces `path` with `new`, after checking that it still holds
/// `expected` (or still does not exist when `expected` is `None`). The text
/// goes to a new file beside the target, created exclusively (an existing
/// file or link of that name is never written through), flushed to disk,
/// then renamed over the target: a reader sees the old text or the new one,
/// never a mix, and a crash leaves the old file.
pub fn write_atomically(path: &Path, expected: Option<&str>, new: &str) -> std::io::Result<()> {
    check_unchanged(path, expected)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let (tmp, mut file) = create_temp(dir, name)?;
    let result = (|| {
        file.write_all(new.as_bytes())?;
        file.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        drop(file);
        // The last check, as close to the rename as it can be.
        check_unchanged(path, expected)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    // Make the rename itself durable (best effort: not every file system
    // lets a directory be opened and synced).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn create_temp(dir: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    let mut attempt = 0u32;
    loop {
        let tmp = dir.join(format!(".{name}.chalice-iam-{}-{attempt}.tmp", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "import boto3\nfrom chalice import Chalice\napp = Chalice(app_name='x')\n\n@app.route('/')\ndef index():\n    return boto3.resource('dynamodb').Table('t').scan()\n";
    const CONFIG: &str = "{\n  \"version\": \"2.0\",\n  \"app_name\": \"x\",\n  \"stages\": {\"dev\": {}}\n}\n";

    fn project() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("app.py"), APP).unwrap();
        std::fs::create_dir(root.join(".chalice")).unwrap();
        std::fs::write(root.join(".chalice/config.json"), CONFIG).unwrap();
        (dir, root)
    }

    fn planned_fix(root: &Path) -> Vec<Planned> {
        let project = Project::load(root, Settings::default()).unwrap().with_snapshot();
        let fix = project.fix_all().expect("a fix");
        plan(&project, &fix).unwrap()
    }

    #[test]
    fn a_file_changed_after_it_was_read_is_not_overwritten_and_nothing_is_written() {
        let (_dir, root) = project();
        let planned = planned_fix(&root);
        assert_eq!(planned.len(), 2, "{planned:?}");
        // Someone saves config.json between the fix and the write.
        let edited = CONFIG.replace("\"x\"", "\"y\"");
        std::fs::write(root.join(".chalice/config.json"), &edited).unwrap();
        let error = write_all(&planned).unwrap_err();
        assert!(error.contains("changed after it was read"), "{error}");
        assert_eq!(std::fs::read_to_string(root.join(".chalice/config.json")).unwrap(), edited);
        // The policy file, checked before anything was written, was not created either.
        assert!(!root.join(".chalice/policy-dev.json").exists());
        assert_eq!(std::fs::read_dir(root.join(".chalice")).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn the_snapshot_is_what_the_fix_applies_to() {
        let (_dir, root) = project();
        let project = Project::load(&root, Settings::default()).unwrap().with_snapshot();
        let fix = project.fix_all().unwrap();
        // A change on disk after the fix was computed does not move the
        // edit onto the new text: the plan uses the text the fix came from,
        // and writing then refuses.
        std::fs::write(root.join(".chalice/config.json"), format!("   {CONFIG}")).unwrap();
        let planned = plan(&project, &fix).unwrap();
        let config = planned.iter().find(|p| p.path.ends_with("config.json")).unwrap();
        assert_eq!(config.old.as_deref(), Some(CONFIG));
        assert!(write_all(&planned).is_err());
    }

    #[test]
    fn a_file_that_appears_is_not_overwritten() {
        let (_dir, root) = project();
        let planned = planned_fix(&root);
        std::fs::write(root.join(".chalice/policy-dev.json"), "{}").unwrap();
        assert!(write_all(&planned).unwrap_err().contains("appeared"));
        assert_eq!(std::fs::read_to_string(root.join(".chalice/policy-dev.json")).unwrap(), "{}");
        // A dangling link in its place is not written through either.
        std::fs::remove_file(root.join(".chalice/policy-dev.json")).unwrap();
        std::os::unix::fs::symlink(root.join("nowhere.json"), root.join(".chalice/policy-dev.json")).unwrap();
        assert!(write_all(&planned).is_err());
        assert!(!root.join("nowhere.json").exists());
    }

    #[test]
    fn writes_replace_the_file_and_keep_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, root) = project();
        let config = root.join(".chalice/config.json");
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o640)).unwrap();
        let planned = planned_fix(&root);
        write_all(&planned).unwrap();
        for p in &planned {
            assert_eq!(std::fs::read_to_string(&p.path).unwrap(), p.new);
        }
        assert_eq!(std::fs::metadata(&config).unwrap().permissions().mode() & 0o777, 0o640);
        let names: Vec<String> =
            std::fs::read_dir(root.join(".chalice")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        // The write is refused once the text is no longer the expected one.
        assert!(write_atomically(&config, Some(CONFIG), "{}").is_err());
    }

    #[test]
    fn a_planted_temporary_name_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("p.json");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let planted = dir.path().join(format!(".p.json.chalice-iam-{}-0.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, planted).unwrap();
        write_atomically(&target, None, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }

    #[test]
    fn edits_outside_the_project_are_refused() {
        let (_dir, root) = project();
        let project = Project::load(&root, Settings::default()).unwrap();
        let outside = root.join("../outside.json");
        let fix = Fix { title: "t".into(), edits: vec![FileEdit::Create { path: outside.clone(), text: "{}".into() }].into() };
        assert!(plan(&project, &fix).unwrap_err().contains("outside the project"));
        assert!(!outside.exists());
    }
}
