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

use std::sync::atomic::{AtomicBool, Ordering};

static ONE_SHOT: AtomicBool = AtomicBool::new(false);

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
