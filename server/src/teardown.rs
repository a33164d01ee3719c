//! What a command-line run leaves to the operating system.
//!
//! `check` and `policy` end when their report is printed, and the kernel
//! takes back a process's memory at once. Freeing a large project's trees
//! node by node before that takes longer than analysing some of its files:
//! a 10 MB app.py's `ast` alone takes about a tenth of a second, on the
//! thread every finding waits for. The language server lives on and frees
//! everything.

use std::sync::atomic::{AtomicBool, Ordering};

static EXITS_AFTER_RUN: AtomicBool = AtomicBool::new(false);

/// Called by a command that exits when its run is over: what [`release`] is
/// given from then on is left for the operating system to take back.
pub fn exits_after_run() {
    EXITS_AFTER_RUN.store(true, Ordering::Relaxed);
}

/// Drops `value`, or leaves it for the operating system in a run that
/// exits when it is over.
pub fn release<T>(value: T) {
    if EXITS_AFTER_RUN.load(Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}
