//! What kind of run this process is, and what each kind trades.
//!
//! `check`, `policy` and `fix` are one-shot: they end when their output is
//! written, so they spend memory to save time, and leave what they built to
//! the operating system, which takes back a process's memory at once.
//! Freeing a large project's trees node by node before that takes longer
//! than analysing some of its files: a 10 MB app.py's `ast` alone takes
//! about a tenth of a second, on the thread every finding waits for. The
//! language server stays up: it frees everything, and keeps its resident
//! memory small.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

static ONE_SHOT: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Whether this thread is doing a keystroke's work (see [`KeystrokeWork`]).
    static KEYSTROKE_WORK: Cell<bool> = const { Cell::new(false) };
}

/// A keystroke's work in the language server: applying an edit to the
/// document and its tree, and checking the project again from what the
/// last check left (chalice's import from its memo included). It allocates
/// many small blocks and frees nearly all of them before the next
/// keystroke; the binary's allocator gives it mimalloc, several times
/// faster at that than the C library's. Everything else (loading a
/// project, its first check, whatever runs without a memo) keeps the C
/// library's allocator, whose `malloc_trim` returns every free page to the
/// system however the survivors are scattered, where mimalloc gives back
/// only a page all of whose blocks are free. Held while the work runs on
/// this thread.
pub struct KeystrokeWork {
    was: bool,
}

impl KeystrokeWork {
    pub fn start() -> KeystrokeWork {
        KeystrokeWork { was: KEYSTROKE_WORK.with(|k| k.replace(true)) }
    }

    /// On a thread doing part of another's work (rayon's): a keystroke's
    /// work when the other's was (`doing_keystroke_work` there).
    pub fn carried(from_caller: bool) -> Option<KeystrokeWork> {
        from_caller.then(KeystrokeWork::start)
    }
}

impl Drop for KeystrokeWork {
    fn drop(&mut self) {
        KEYSTROKE_WORK.with(|k| k.set(self.was));
    }
}

/// Whether this thread is doing a keystroke's work (see [`KeystrokeWork`]);
/// false while the thread's locals are being torn down.
pub fn doing_keystroke_work() -> bool {
    KEYSTROKE_WORK.try_with(Cell::get).unwrap_or(false)
}

/// Called by a command that exits when its run is over.
pub fn set_one_shot() {
    ONE_SHOT.store(true, Ordering::Relaxed);
}

/// Whether this process exits when its run is over.
pub fn is_one_shot() -> bool {
    ONE_SHOT.load(Ordering::Relaxed)
}

/// Drops `value`, or, in a one-shot run, leaves it for the operating
/// system.
pub fn release<T>(value: T) {
    if is_one_shot() {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}
