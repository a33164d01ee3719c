//! The command line: `chalice-iam lsp | check | policy | fix`.

mod policy;

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
    /// Print the IAM policy document the code needs.
    Policy(policy::PolicyArgs),
    /// Run the language server on stdin/stdout.
    Lsp {
        /// Accepted and ignored: stdio is the only transport, and
        /// vscode-languageclient appends this flag.
        #[arg(long)]
        stdio: bool,
    },
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
    match cli.command {
        Command::Policy(args) => policy::run(args),
        Command::Lsp { .. } => crate::lsp::run_stdio(),
    }
}
