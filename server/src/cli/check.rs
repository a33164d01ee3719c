//! `chalice-iam check`: report what the code needs that the deployed roles
//! will not grant, and problems in config and policy files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::diagnostics::{Diagnostic, Severity};
use crate::project::{Project, Settings};

use super::render::Report;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
}

#[derive(Args)]
pub struct CheckArgs {
    /// Chalice project directories, or single .py files analysed as app.py.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Check only this stage (default: every stage in .chalice/config.json).
    #[arg(long)]
    pub stage: Option<String>,
    /// The Python version chalice runs under, e.g. 3.11.
    #[arg(long, default_value = "3.12", value_parser = super::parse_python_version)]
    pub python_version: (u8, u8),
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Change a code's severity, as the editor setting does: CODE=LEVEL,
    /// with a code or its name and error, warning, information, hint or
    /// off (e.g. `--severity CIAM020=information`). Repeatable.
    #[arg(long = "severity", value_name = "CODE=LEVEL", value_parser = parse_severity)]
    pub severities: Vec<(String, Option<Severity>)>,
}

/// `CIAM020=information` → the code (or name) and its level (`None`: off).
fn parse_severity(s: &str) -> Result<(String, Option<Severity>), String> {
    let (code, level) = s.split_once('=').ok_or_else(|| format!("expected CODE=LEVEL, e.g. CIAM020=information, not {s:?}"))?;
    if crate::diagnostics::code_doc(code).is_none() {
        return Err(format!("{code:?} is not a diagnostic code or name (see docs/diagnostics.md)"));
    }
    let level = match level {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "information" | "info" => Some(Severity::Info),
        "hint" => Some(Severity::Hint),
        "off" => None,
        _ => return Err(format!("{level:?} is not one of error, warning, information, hint, off")),
    };
    Ok((code.to_string(), level))
}

pub fn run(args: CheckArgs) -> ExitCode {
    let settings = Settings {
        stage: args.stage.clone(),
        python_version: args.python_version,
        severities: args.severities.iter().cloned().collect(),
    };
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    // The sources' own texts, shared rather than copied: a large project
    // has findings in most of its files.
    let mut texts: BTreeMap<PathBuf, Arc<str>> = BTreeMap::new();
    for path in &args.paths {
        let project = match Project::load(path, settings.clone()) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("chalice-iam: {e}");
                return ExitCode::from(2);
            }
        };
        for (file, ds) in std::sync::Arc::unwrap_or_clone(project.diagnostics()) {
            if ds.is_empty() {
                continue;
            }
            let text = match project.sources.rel_path(&file).and_then(|rel| project.sources.files.get(&rel)) {
                Some(src) => src.text.clone(),
                None => project.read_json(&file).unwrap_or_default().into(),
            };
            texts.insert(file, text);
            diagnostics.extend(ds);
        }
        crate::process::release(project);
    }
    let base = std::env::current_dir().unwrap_or_default();
    let report = Report::new(&diagnostics, &texts, &base);
    let out = match args.format {
        Format::Text => report.text(),
        Format::Json => report.json(),
        Format::Sarif => report.sarif(),
        Format::Github => report.github(),
    };
    print!("{out}");
    // Information and hints are shown but do not fail a CI run.
    if diagnostics.iter().any(|d| matches!(d.severity, Severity::Error | Severity::Warning)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
