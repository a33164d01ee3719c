use std::process::ExitCode;

fn main() -> ExitCode {
    chalice_iam::cli::main()
}
