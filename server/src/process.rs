//! What kind of run this process is, and what each kind trades.
//!
//! `check`, `policy` and `fix` are one-shot: they end when their output is
//! written, and leave what they built to the operating system, which takes
//! back a process's memory at once.
//! Freeing a large project's trees node by node before that takes longer
//! than analysing some of its files: a 10 MB app.py's `ast` alone takes
//! about a tenth of a second, on the thread every finding waits for. The
//! language server stays up and frees everything.

use std::sync::atomic::{AtomicBool, Ordering};

static ONE_SHOT: AtomicBool = AtomicBool::new(false);

/// Called by a command that exits when its run is over.
pub fn set_one_shot() {
    ONE_SHOT.store(true, Ordering::Relaxed);
}

/// Drops `value`, or, in a one-shot run, leaves it for the operating
/// system.
pub fn release<T>(value: T) {
    if ONE_SHOT.load(Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}
