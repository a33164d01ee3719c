//! Giving freed heap memory back to the operating system.
//!
//! Loading a project and computing its diagnostics allocate far more than
//! they keep (whole syntax trees, the module converted for chalice's
//! analyzer, per-round evaluation state). glibc keeps what is freed in its
//! arenas for reuse, so the server's resident size would stay at the peak
//! of the largest computation: on the 50,000-line benchmark project that is
//! about 150 MB resident for 70 MB live. `malloc_trim` releases the free
//! pages. It takes milliseconds on a large heap, so it runs on a blocking
//! thread once the server has gone quiet after publishing diagnostics,
//! never in the path of a keystroke's diagnostics. The binary allocates a
//! keystroke's work with mimalloc (see `main.rs`), whose empty pages go
//! back when it collects.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A trim runs once no computation has finished for this long: after the
/// user stops typing, not between keystrokes.
const QUIET: Duration = Duration::from_millis(150);
/// While computations keep coming, a trim still runs at most this long
/// after the last one, so memory does not stay at its peak during a long
/// burst of edits.
const AT_LEAST_EVERY: Duration = Duration::from_secs(5);

/// Milliseconds since the first call, plus one (0 stands for "never").
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// When the last computation finished and when the last trim ran.
static LAST_COMPUTATION: AtomicU64 = AtomicU64::new(0);
static LAST_TRIM: AtomicU64 = AtomicU64::new(0);

/// Called after each computation: schedules a trim for when the server has
/// been quiet for [`QUIET`], or right away when none ran for
/// [`AT_LEAST_EVERY`].
pub fn release_freed_memory() {
    let finished = now_ms();
    LAST_COMPUTATION.store(finished, Ordering::Relaxed);
    let last_trim = LAST_TRIM.load(Ordering::Relaxed);
    if last_trim == 0 || finished >= last_trim + AT_LEAST_EVERY.as_millis() as u64 {
        trim_unless_done_since(last_trim);
        return;
    }
    tokio::spawn(async move {
        tokio::time::sleep(QUIET).await;
        // A newer computation scheduled its own trim.
        if LAST_COMPUTATION.load(Ordering::Relaxed) == finished {
            trim_unless_done_since(last_trim);
        }
    });
}

/// Trims on a blocking thread unless another trim ran since `last_trim`.
fn trim_unless_done_since(last_trim: u64) {
    if LAST_TRIM.compare_exchange(last_trim, now_ms(), Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        tokio::task::spawn_blocking(trim);
    }
}

unsafe extern "C" {
    // Exported by the mimalloc library that `libmimalloc-sys` builds; its
    // Rust declaration needs a feature (and another crate) for nothing else.
    fn mi_collect(force: bool);
}

/// An item of `libmimalloc-sys`, named so that its library (and so
/// `mi_collect`) is linked into every binary built from this crate, its
/// tests included, not only into `chalice-iam`, whose allocator uses it.
#[used]
static LINKS_MIMALLOC: unsafe extern "C" fn(*mut std::ffi::c_void) = libmimalloc_sys::mi_free;

fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of glibc's arenas to the
    // kernel; it takes the arenas' locks like any allocation does.
    unsafe {
        libc::malloc_trim(0);
    }
    // SAFETY: collects this thread's mimalloc heap and the pages abandoned
    // by threads that ended, returning the empty ones; nothing else changes.
    unsafe {
        mi_collect(true);
    }
}
