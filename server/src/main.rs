use std::process::ExitCode;

fn main() -> ExitCode {
    // Like other Unix command-line tools, stop quietly when the reader of
    // our output goes away (`chalice-iam policy | head`) instead of
    // panicking on a failed write.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any other
    // thread exists has no other effect on the program.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    chalice_iam::cli::main()
}
