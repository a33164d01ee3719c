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
}

pub fn run(args: CheckArgs) -> ExitCode {
    let settings = Settings { stage: args.stage.clone(), python_version: args.python_version, ..Settings::default() };
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
        for (file, ds) in project.diagnostics() {
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
        // The process exits soon: freeing a large project's syntax IR node
        // by node would take longer than analysing some of its files.
        std::mem::forget(project);
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
