//! The command line: `chalice-iam lsp | check | policy | fix`.

mod check;
mod fix;
mod policy;
mod render;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "chalice-iam", version, about = "IAM permissions a Chalice app needs that `chalice deploy` will not grant")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report calls whose permissions the deployed roles will not have.
    Check(check::CheckArgs),
    /// Print the IAM policy document the code needs.
    Policy(policy::PolicyArgs),
    /// Grant every missing action in .chalice/config.json and the policy file.
    Fix(fix::FixArgs),
    /// Run the language server on stdin/stdout.
    Lsp {
        /// Accepted and ignored: stdio is the only transport, and
        /// vscode-languageclient appends this flag.
        #[arg(long)]
        stdio: bool,
    },
}

/// `3.12` → (3, 12).
pub(crate) fn parse_python_version(s: &str) -> Result<(u8, u8), String> {
    let (a, b) = s.split_once('.').ok_or_else(|| format!("expected MAJOR.MINOR, e.g. 3.12, not {s:?}"))?;
    let major = a.parse().map_err(|_| format!("invalid major version {a:?}"))?;
    let minor = b.parse().map_err(|_| format!("invalid minor version {b:?}"))?;
    if major != 3 {
        return Err("chalice runs on Python 3".into());
    }
    Ok((major, minor))
}

pub fn main() -> ExitCode {
    if let Err(e) = crate::python::parser() {
        eprintln!("chalice-iam: {e}");
        return ExitCode::from(2);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    if !matches!(cli.command, Command::Lsp { .. }) {
        crate::process::set_one_shot();
    }
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Policy(args) => policy::run(args),
        Command::Fix(args) => fix::run(args),
        Command::Lsp { .. } => crate::lsp::run_stdio(),
    }
}
