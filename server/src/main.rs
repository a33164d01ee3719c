use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// The allocator of the one-shot commands (`check`, `policy`, `fix`):
/// mimalloc. Lowering, chalice's import and the inference allocate many
/// small, short-lived values, and tree-sitter a node at a time: with glibc's
/// allocator a sixth of `check`'s instructions were malloc and free, and
/// threads contended for its arenas on large trees.
///
/// The language server keeps the system allocator: it stays up, and gives
/// freed memory back with `malloc_trim` after publishing (`lsp::memory`),
/// which mimalloc's retained pages would defeat (about 40 MB more resident
/// with the 50,000-line project open).
struct CommandAllocator;

/// Set once, before the command runs, for the one-shot commands.
static USE_MIMALLOC: AtomicBool = AtomicBool::new(false);

unsafe extern "C" {
    // Exported by the mimalloc library that `libmimalloc-sys` builds; its
    // Rust declaration needs a feature (and another crate) for nothing else.
    fn mi_is_in_heap_region(p: *const std::ffi::c_void) -> bool;
}

/// Whether `ptr` was allocated by mimalloc: memory allocated before the
/// switch (by the runtime, the argument parsing) is the system's.
fn from_mimalloc(ptr: *mut u8) -> bool {
    // SAFETY: a lookup in mimalloc's own page map; any pointer may be asked.
    USE_MIMALLOC.load(Ordering::Relaxed) && unsafe { mi_is_in_heap_region(ptr.cast()) }
}

// SAFETY: every block is freed or resized by the allocator that made it
// (`from_mimalloc`); each allocator upholds GlobalAlloc's contract itself.
unsafe impl GlobalAlloc for CommandAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if USE_MIMALLOC.load(Ordering::Relaxed) {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        } else {
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if USE_MIMALLOC.load(Ordering::Relaxed) {
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        } else {
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if from_mimalloc(ptr) {
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if from_mimalloc(ptr) {
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        } else {
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

#[global_allocator]
static ALLOCATOR: CommandAllocator = CommandAllocator;

/// `calloc` for tree-sitter, which mimalloc's bindings do not export.
unsafe extern "C" fn mi_calloc(count: usize, size: usize) -> *mut std::ffi::c_void {
    match count.checked_mul(size) {
        // SAFETY: mi_zalloc has no preconditions; it returns zeroed memory
        // or null.
        Some(total) => unsafe { libmimalloc_sys::mi_zalloc(total) },
        None => std::ptr::null_mut(),
    }
}

/// mimalloc asks for transparent huge pages, which the kernel (with the
/// usual `madvise` setting) provides by compacting memory on page faults. A
/// short run gains: a twentieth of the page faults (16 ms of 85 ms of CPU
/// on the 5,000-line app). A long one with a large heap loses: the
/// compaction cost 0.6 s of system time on the 1,000,000-line tree and
/// 2.4 s on a 10 MB app.py. So a run still going after a moment (one that
/// will build a large heap) faults in ordinary pages from then on.
fn large_runs_without_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        let _ = std::thread::Builder::new().name("thp-off".into()).stack_size(64 << 10).spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(150));
            // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process,
            // read by the kernel on later page faults.
            unsafe {
                libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
            }
        });
    }
}

fn main() -> ExitCode {
    let one_shot = std::env::args_os().nth(1).is_some_and(|command| command != "lsp");
    if one_shot {
        USE_MIMALLOC.store(true, Ordering::Relaxed);
        // tree-sitter's C code allocates with malloc unless told otherwise;
        // its trees are most of what a large project allocates. Those read
        // once and dropped come from per-thread arenas (`python::arena`),
        // the rest from mimalloc.
        // SAFETY: set before any tree or parser exists, so nothing
        // allocated by one allocator is freed by the other.
        unsafe {
            chalice_iam::python::arena::install(chalice_iam::python::arena::Fallback {
                malloc: libmimalloc_sys::mi_malloc,
                calloc: mi_calloc,
                realloc: libmimalloc_sys::mi_realloc,
                free: libmimalloc_sys::mi_free,
            });
        }
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
    if one_shot {
        large_runs_without_huge_pages();
    }
    chalice_iam::cli::main()
}
