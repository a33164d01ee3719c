use std::process::ExitCode;

// Lowering, chalice's import and the inference allocate many small, short-
// lived values, and tree-sitter a node at a time: with glibc's allocator a
// fifth of `check`'s instructions were malloc and free, and threads
// contended for its arenas on large trees. mimalloc keeps per-thread free
// lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `calloc` for tree-sitter, which mimalloc's bindings do not export.
unsafe extern "C" fn mi_calloc(count: usize, size: usize) -> *mut std::ffi::c_void {
    match count.checked_mul(size) {
        // SAFETY: mi_zalloc has no preconditions; it returns zeroed memory
        // or null.
        Some(total) => unsafe { libmimalloc_sys::mi_zalloc(total) },
        None => std::ptr::null_mut(),
    }
}

fn main() -> ExitCode {
    // tree-sitter's C code allocates with malloc unless told otherwise; its
    // trees are most of what a large project allocates.
    // SAFETY: set before any tree or parser exists, so nothing allocated by
    // one allocator is freed by the other.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: libmimalloc_sys::mi_malloc,
            calloc: mi_calloc,
            realloc: libmimalloc_sys::mi_realloc,
            free: libmimalloc_sys::mi_free,
        }));
    }
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
