//! Work started on its own thread and waited for only where its result is
//! needed, so that the caller gets on with other work meanwhile.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;

/// A result being computed on its own thread.
pub struct Pending<T> {
    done: OnceLock<T>,
    running: Mutex<Option<JoinHandle<T>>>,
}

impl<T: Send + 'static> Pending<T> {
    /// Runs `job` on a thread called `name` with a stack of `stack_size`
    /// bytes; runs `inline` here instead if no thread can be started.
    pub fn start(name: &str, stack_size: usize, job: impl FnOnce() -> T + Send + 'static, inline: impl FnOnce() -> T) -> Self {
        let done = OnceLock::new();
        let running = match std::thread::Builder::new().name(name.into()).stack_size(stack_size).spawn(job) {
            Ok(handle) => Some(handle),
            Err(_) => {
                let _ = done.set(inline());
                None
            }
        };
        Pending { done, running: Mutex::new(running) }
    }

    /// The result if the job has finished, without waiting for it: a job
    /// still running is left to finish on its own, and its result dropped.
    pub fn into_finished(self) -> Option<T> {
        if let Some(done) = self.done.into_inner() {
            return Some(done);
        }
        let handle = self.running.into_inner().unwrap_or_else(PoisonError::into_inner)?;
        if !handle.is_finished() {
            return None;
        }
        handle.join().ok()
    }

    /// The result, waiting for the job to finish if it has not. A panic in
    /// the job resumes here, as if it had happened on the caller's thread.
    pub fn get(&self) -> &T {
        self.done.get_or_init(|| {
            let handle = self.running.lock().unwrap_or_else(PoisonError::into_inner).take();
            match handle.map(JoinHandle::join) {
                Some(Ok(result)) => result,
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => unreachable!("a pending result has either a value or a thread"),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_is_the_jobs_and_a_panic_resumes_in_the_caller() {
        let pending = Pending::start("test", 64 << 10, || 6 * 7, || unreachable!());
        assert_eq!(*pending.get(), 42);
        assert_eq!(*pending.get(), 42);
        let failing: Pending<u8> = Pending::start("test", 64 << 10, || panic!("in the job"), || unreachable!());
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *failing.get()));
        assert!(caught.is_err());

        let finished = Pending::start("test", 64 << 10, || 1, || unreachable!());
        let _ = finished.get();
        assert_eq!(finished.into_finished(), Some(1));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let running = Pending::start("test", 64 << 10, move || rx.recv().map_or(0, |_| 2), || unreachable!());
        assert_eq!(running.into_finished(), None, "a running job is not waited for");
        drop(tx);
    }
}
