//! `chalice-iam policy`: print the IAM policy the code needs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::policy;
use crate::project::Sources;

#[derive(Args)]
pub struct PolicyArgs {
    /// A Chalice project directory, or a single .py file analysed as app.py.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The Chalice stage.
    #[arg(long, default_value = "dev")]
    pub stage: String,
}

pub fn run(args: PolicyArgs) -> ExitCode {
    let project = match Sources::load(&args.path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("chalice-iam: {e}");
            return ExitCode::from(2);
        }
    };
    for (rel, why) in &project.unreadable {
        eprintln!("chalice-iam: warning: {}: {why}; not analysed", project.path_of(rel).display());
    }
    let facts = project.analyze();
    let actions = facts.files.iter().flat_map(|f| &f.calls).flat_map(|c| c.actions.iter().map(String::as_str));
    print!("{}", policy::to_pretty(&policy::needed_policy(actions)));
    ExitCode::SUCCESS
}
