use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// The process's allocator: mimalloc, or the C library's.
///
/// The one-shot commands (`check`, `policy`, `fix`) allocate with mimalloc.
/// Lowering, chalice's import and the inference allocate many small,
/// short-lived values, and tree-sitter a node at a time: with glibc's
/// allocator a sixth of `check`'s instructions were malloc and free, and
/// threads contended for its arenas on large trees.
///
/// The language server stays up and keeps its resident memory small: it
/// allocates from the C library, which gives every free page back with
/// `malloc_trim` (`lsp::memory`), but for a keystroke's work
/// (`process::KeystrokeWork`), which allocates with mimalloc. A sixth of the
/// server's CPU at a keystroke was glibc's malloc and free
/// (`malloc_consolidate` among them). mimalloc for everything took 0.4 ms
/// off the keystroke benchmark's median (of 2.8), but with the 50,000-line
/// project open kept 3 MB more resident even when set to give empty pages
/// back at once, and 50 MB more when not: it gives back a page only once
/// all of it is free, and each thread that allocates keeps pages of its own.
/// For a keystroke's work alone: 0.3 ms, and about 1 MB more.
struct ProcessAllocator;

/// Nothing chosen yet: the runtime and the argument parsing allocate from
/// the C library.
const SYSTEM: u8 = 0;
/// A one-shot command: mimalloc.
const ONE_SHOT: u8 = 1;
/// The language server: mimalloc for a keystroke's work.
const SERVER: u8 = 2;

/// Set once, before the command runs.
static MODE: AtomicU8 = AtomicU8::new(SYSTEM);

unsafe extern "C" {
    // Exported by the mimalloc library that `libmimalloc-sys` builds; its
    // Rust declarations need a feature (and another crate) for nothing else.
    fn mi_is_in_heap_region(p: *const std::ffi::c_void) -> bool;
    fn mi_option_set(option: i32, value: std::ffi::c_long);
}

/// Whether a new block comes from mimalloc.
fn allocate_with_mimalloc() -> bool {
    match MODE.load(Ordering::Relaxed) {
        ONE_SHOT => true,
        SERVER => chalice_iam::process::doing_keystroke_work(),
        _ => false,
    }
}

/// Whether `ptr` was allocated by mimalloc: memory allocated before the
/// mode was set, and the server's but for a keystroke's work, is the
/// system's.
fn from_mimalloc(ptr: *const std::ffi::c_void) -> bool {
    match MODE.load(Ordering::Relaxed) {
        SYSTEM => false,
        // Outside every block the C library made, it is mimalloc's: the
        // lookup in mimalloc's page map was half of what a free cost.
        ONE_SHOT if !SystemBlocks::may_hold(ptr) => true,
        // SAFETY: a lookup in mimalloc's own page map; any pointer may be
        // asked.
        _ => unsafe { mi_is_in_heap_region(ptr) },
    }
}

/// The addresses the C library's blocks lie between, in a one-shot run:
/// those made before the mode was set, and those resized since. (The
/// language server allocates from both all along; it does not keep them.)
struct SystemBlocks;

static SYSTEM_LOWEST: AtomicUsize = AtomicUsize::new(usize::MAX);
static SYSTEM_END: AtomicUsize = AtomicUsize::new(0);

impl SystemBlocks {
    /// Notes a block the C library returned.
    fn made(ptr: *mut u8, size: usize) -> *mut u8 {
        if !ptr.is_null() && MODE.load(Ordering::Relaxed) != SERVER {
            SYSTEM_LOWEST.fetch_min(ptr as usize, Ordering::Relaxed);
            SYSTEM_END.fetch_max(ptr as usize + size, Ordering::Relaxed);
        }
        ptr
    }

    /// Whether `ptr` may be the C library's. A block is handed to another
    /// thread only through something that orders the note before it.
    fn may_hold(ptr: *const std::ffi::c_void) -> bool {
        let at = ptr as usize;
        SYSTEM_LOWEST.load(Ordering::Relaxed) <= at && at < SYSTEM_END.load(Ordering::Relaxed)
    }
}

// SAFETY: every block is freed or resized by the allocator that made it
// (`from_mimalloc`); each allocator upholds GlobalAlloc's contract itself.
unsafe impl GlobalAlloc for ProcessAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if allocate_with_mimalloc() {
            unsafe { mimalloc_alloc(layout, false) }
        } else {
            SystemBlocks::made(unsafe { System.alloc(layout) }, layout.size())
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if allocate_with_mimalloc() {
            unsafe { mimalloc_alloc(layout, true) }
        } else {
            SystemBlocks::made(unsafe { System.alloc_zeroed(layout) }, layout.size())
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if from_mimalloc(ptr.cast()) {
            // SAFETY: a block of mimalloc's, aligned or not: mi_free frees both.
            unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
        } else {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if from_mimalloc(ptr.cast()) {
            if malloc_aligns(layout.align(), new_size) {
                // SAFETY: a block of mimalloc's, resized keeping an
                // alignment its plain allocations have (see `malloc_aligns`).
                unsafe { libmimalloc_sys::mi_realloc(ptr.cast(), new_size).cast() }
            } else {
                unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
            }
        } else {
            SystemBlocks::made(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
        }
    }
}

/// Whether a plain `mi_malloc(size)` is aligned to `align`: as the C
/// library's malloc, to 16 bytes for blocks of 16 bytes or more (the rule
/// std's own System allocator relies on).
fn malloc_aligns(align: usize, size: usize) -> bool {
    align <= 16 && align <= size
}

/// A block from mimalloc. Nearly every Rust allocation asks an alignment
/// plain `mi_malloc` already gives, and its path is the short one: the
/// inference on the 50,000-line project spent 16.1M instructions
/// allocating through the aligned entry points, 10.1M through the plain
/// ones.
unsafe fn mimalloc_alloc(layout: Layout, zeroed: bool) -> *mut u8 {
    match (malloc_aligns(layout.align(), layout.size()), zeroed) {
        // SAFETY: no preconditions; null on failure, as GlobalAlloc wants.
        (true, false) => unsafe { libmimalloc_sys::mi_malloc(layout.size()).cast() },
        (true, true) => unsafe { libmimalloc_sys::mi_zalloc(layout.size()).cast() },
        (false, false) => unsafe { mimalloc::MiMalloc.alloc(layout) },
        (false, true) => unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) },
    }
}

#[global_allocator]
static ALLOCATOR: ProcessAllocator = ProcessAllocator;

/// `calloc` for tree-sitter, which mimalloc's bindings do not export.
unsafe extern "C" fn mi_calloc(count: usize, size: usize) -> *mut std::ffi::c_void {
    match count.checked_mul(size) {
        // SAFETY: mi_zalloc has no preconditions; it returns zeroed memory
        // or null.
        Some(total) => unsafe { libmimalloc_sys::mi_zalloc(total) },
        None => std::ptr::null_mut(),
    }
}

/// tree-sitter's allocator in the language server: the Rust side's rule
/// (mimalloc for a keystroke's work; each block freed by the allocator that
/// made it). Its trees are edited on one thread and dropped on another.
mod server_tree_allocator {
    use std::ffi::c_void;

    pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
        if super::allocate_with_mimalloc() { unsafe { libmimalloc_sys::mi_malloc(size) } } else { unsafe { libc::malloc(size) } }
    }

    pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
        if super::allocate_with_mimalloc() { unsafe { super::mi_calloc(count, size) } } else { unsafe { libc::calloc(count, size) } }
    }

    pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
        if ptr.is_null() {
            return unsafe { malloc(size) };
        }
        if super::from_mimalloc(ptr) { unsafe { libmimalloc_sys::mi_realloc(ptr, size) } } else { unsafe { libc::realloc(ptr, size) } }
    }

    pub unsafe extern "C" fn free(ptr: *mut c_void) {
        if ptr.is_null() {
        } else if super::from_mimalloc(ptr) {
            unsafe { libmimalloc_sys::mi_free(ptr) }
        } else {
            unsafe { libc::free(ptr) }
        }
    }
}

/// The language server's mimalloc settings, before its first allocation:
/// its arena commits memory as it is used rather than ahead (6 MB less
/// resident with the 50,000-line project open). Empty pages go back to the
/// system 10 ms after they empty, as by default: giving them back at once
/// cost the keystroke benchmark's median 0.07 ms, and saved no memory.
fn server_mimalloc_options() {
    // mimalloc's `mi_option_t`: mi_option_arena_eager_commit.
    const ARENA_EAGER_COMMIT: i32 = 4;
    // SAFETY: options are read when mimalloc initializes, which no
    // allocation from it has done yet.
    unsafe {
        mi_option_set(ARENA_EAGER_COMMIT, 0);
    }
}

/// A one-shot run faults in ordinary pages, not transparent huge pages.
/// With the kernel set to give huge pages to any large enough mapping
/// (`always`), each first touch of mimalloc's arena zeroed 2 MB: the
/// 5,000-line app's `check` ran at 29.2 ms with ordinary pages against
/// 35.6 ms (± 9 %) with huge pages, and 22 MB resident instead of 61 MB.
/// With the `madvise` setting, mimalloc's own requests for huge pages had
/// saved a short run a twentieth of its page faults, but made the kernel
/// compact memory on page faults in a long one: 0.6 s of system time on
/// the 1,000,000-line tree and 2.4 s on a 10 MB app.py.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process, read by
    // the kernel on later page faults.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    let one_shot = std::env::args_os().nth(1).is_some_and(|command| command != "lsp");
    if !one_shot {
        server_mimalloc_options();
        MODE.store(SERVER, Ordering::Relaxed);
        // SAFETY: set before any tree or parser exists; every block is
        // freed by the allocator that made it.
        unsafe {
            tree_sitter::set_allocator(Some(tree_sitter::Allocator {
                malloc: server_tree_allocator::malloc,
                calloc: server_tree_allocator::calloc,
                realloc: server_tree_allocator::realloc,
                free: server_tree_allocator::free,
            }));
        }
    }
    if one_shot {
        without_huge_pages();
        MODE.store(ONE_SHOT, Ordering::Relaxed);
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
    chalice_iam::cli::main()
}
