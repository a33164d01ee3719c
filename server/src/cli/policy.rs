//! `chalice-iam policy`: print an IAM policy document for a Chalice project.
//!
//! With `--autogen` it prints what `chalice deploy` (chalice 1.34.0) would
//! attach, by emulating chalice (see [`crate::chalice`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::chalice::{self, ChaliceConfig, DeployFailure, DeployInputs, FailureOrigin, RoleKind};
use crate::project::Settings;

#[derive(Args, Debug)]
pub struct PolicyArgs {
    /// A Chalice project directory (app.py, .chalice/config.json) or a
    /// single .py file, analysed as the app.py of a project without config.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The chalice stage to resolve config.json for.
    #[arg(long, default_value = chalice::DEFAULT_STAGE)]
    pub stage: String,
    /// Print the document attached to this Lambda function's role (its
    /// `lambda_functions` name, e.g. `api_handler`).
    #[arg(long)]
    pub function: Option<String>,
    /// The Python version chalice runs under (it changes how comprehensions
    /// are analysed).
    #[arg(long, default_value = "3.12", value_parser = super::parse_python_version)]
    pub python_version: (u8, u8),
    /// Print the policy `chalice deploy` would attach instead of the one the
    /// code needs.
    #[arg(long)]
    pub autogen: bool,
}

/// Usage and I/O problems, and chalice failures: all exit with status 2.
const FAILURE: u8 = 2;

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("chalice-iam: {message}");
    ExitCode::from(FAILURE)
}

pub fn run(args: PolicyArgs) -> ExitCode {
    if args.autogen {
        run_autogen(&args)
    } else {
        run_needed(&args)
    }
}

/// The policy the code needs: every action of every call in app.py and
/// chalicelib (or, with `--function`, of the code that function runs).
fn run_needed(args: &PolicyArgs) -> ExitCode {
    let settings = Settings { stage: Some(args.stage.clone()), python_version: args.python_version, ..Settings::default() };
    let project = match crate::project::Project::load(&args.path, settings) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    for (rel, why) in &project.sources.unreadable {
        eprintln!("chalice-iam: warning: {}: {why}; not analysed", project.sources.path_of(rel).display());
    }
    let doc = match &args.function {
        None => project.needed_policy(),
        Some(name) => match project.needed_policy_for_function(name) {
            Ok(doc) => doc,
            Err(e) => return fail(e),
        },
    };
    print!("{}", crate::policy::to_pretty(&doc));
    crate::process::release(project);
    ExitCode::SUCCESS
}

/// The project as chalice would see it.
struct Project {
    app_path: PathBuf,
    app_source: String,
    config: ChaliceConfig,
}

fn load_project(path: &Path) -> Result<Project, ExitCode> {
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    let (app_path, project_dir) = if meta.is_dir() {
        (path.join("app.py"), path.to_path_buf())
    } else {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        (path.to_path_buf(), parent.to_path_buf())
    };
    let bytes = crate::files::read(&app_path).map_err(|e| fail(format!("cannot read {}: {e}", app_path.display())))?;
    let app_source = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            return Err(fail(format!(
                "chalice would fail: UnicodeDecodeError: {} is not valid UTF-8 (byte {})",
                app_path.display(),
                e.utf8_error().valid_up_to()
            )))
        }
    };
    let config = if meta.is_dir() {
        match ChaliceConfig::load(&project_dir) {
            Ok(c) => c,
            Err(e) => {
                let config_path = project_dir.join(".chalice").join("config.json");
                let text = crate::files::read_to_string(&config_path).unwrap_or_default();
                let at = e.span.map(|s| format!(" ({})", location(&config_path, &text, s.start))).unwrap_or_default();
                return Err(fail(format!("chalice would fail: {}{at}", e.message)));
            }
        }
    } else {
        ChaliceConfig::defaults(&project_dir)
    };
    Ok(Project { app_path, app_source, config })
}

/// `path:line:col`, 1-based, columns in characters.
fn location(path: &Path, text: &str, offset: usize) -> String {
    let (line, col) = crate::json::line_col(text, offset);
    format!("{}:{line}:{col}", path.display())
}

fn run_autogen(args: &PolicyArgs) -> ExitCode {
    let project = match load_project(&args.path) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let config = &project.config;
    let config_path = config.path.clone().unwrap_or_default();
    if config.path.is_some() && !config.stage_is_defined(&args.stage) {
        eprintln!(
            "chalice-iam: note: stage '{}' is not under `stages` in {}; chalice uses the top-level settings for it",
            args.stage,
            config_path.display()
        );
    }
    let inputs = DeployInputs {
        config,
        app_source: &project.app_source,
        stage: &args.stage,
        python_version: args.python_version,
        cli_autogen_policy: None,
        app_policy_cache: None,
        imported: None,
    };
    let deploy = match chalice::emulate_deploy(&inputs) {
        Ok(d) => d,
        Err(f) => return fail(describe_failure(&f, &project)),
    };

    let mut seen_spans = Vec::new();
    for role in &deploy.roles {
        for w in config.warnings(&role.settings) {
            if !seen_spans.contains(&w.span) {
                seen_spans.push(w.span);
                let at = w.span.map(|s| format!(" ({})", location(&config_path, &config.text, s.start))).unwrap_or_default();
                eprintln!("chalice-iam: warning: {}{at}", w.message);
            }
        }
    }
    for note in &deploy.graph.notes {
        eprintln!(
            "chalice-iam: note: {} ({})",
            note.message,
            location(&project.app_path, &project.app_source, note.range.start)
        );
    }
    // chalice prints these to stdout; ours is reserved for the document.
    for w in &deploy.warnings {
        eprintln!("{w}");
    }

    let document = match &args.function {
        Some(name) => {
            let Some(role) = deploy.role_of(name) else {
                let names: Vec<&str> = deploy.roles.iter().map(|r| r.function.as_str()).collect();
                return fail(format!(
                    "app.py defines no Lambda function named '{name}' (functions: {})",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ));
            };
            if let RoleKind::PreCreated { arn } = &role.role {
                eprintln!(
                    "chalice-iam: note: '{name}' uses the pre-created role {}; chalice attaches no policy to it",
                    arn.as_deref().unwrap_or("None")
                );
            }
            deploy.document_for(name)
        }
        None => {
            if deploy.no_functions {
                eprintln!(
                    "chalice-iam: note: app.py defines no Lambda function, so chalice creates no role; \
                     this is the document an autogenerated role would get"
                );
            } else if deploy.autogen_document.is_none() {
                eprintln!("chalice-iam: note: no Lambda function uses the autogenerated role:");
                for r in &deploy.roles {
                    let what = match &r.role {
                        RoleKind::Autogen => "autogenerated policy".to_string(),
                        RoleKind::FileBased { policy_file } => format!("policy file {}", policy_file.display()),
                        RoleKind::PreCreated { arn } => format!("pre-created role {}", arn.as_deref().unwrap_or("None")),
                    };
                    eprintln!("  {}: {what}", r.function);
                }
            }
            deploy.autogen_document.as_ref().map(|d| d.to_json())
        }
    };
    if let Some(doc) = document {
        match serde_json::to_string_pretty(&doc) {
            Ok(text) => println!("{text}"),
            Err(e) => return fail(format!("cannot print the policy: {e}")),
        }
    }
    ExitCode::SUCCESS
}

fn describe_failure(f: &DeployFailure, project: &Project) -> String {
    let at = match (&f.origin, f.range) {
        (FailureOrigin::AppPy, Some(r)) => format!(" ({})", location(&project.app_path, &project.app_source, r.start)),
        (FailureOrigin::ConfigJson, Some(r)) => {
            let path = project.config.path.clone().unwrap_or_default();
            format!(" ({})", location(&path, &project.config.text, r.start))
        }
        (FailureOrigin::PolicyFile(p), Some(r)) => {
            let text = crate::files::read_to_string(p).unwrap_or_default();
            format!(" ({})", location(p, &text, r.start))
        }
        _ => String::new(),
    };
    format!("chalice would fail: {}: {}{at}", f.exception, f.message)
}
