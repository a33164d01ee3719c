//! Work started on its own thread and waited for only where its result is
//! needed, so that the caller gets on with other work meanwhile.
//!
//! The threads are kept for the next job. The language server starts one
//! at every keystroke (chalice's import of app.py), with a stack of 256 MB:
//! glibc keeps no stack that large for reuse, so each new thread mapped its
//! stack afresh and faulted its first pages in again.

use std::any::Any;
use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Mutex, OnceLock, PoisonError};

/// A job's outcome: its value, or the panic it raised.
type Outcome<T> = Result<T, Box<dyn Any + Send>>;

/// A job runs its work and returns what delivers the result: its thread
/// becomes idle in between, so that the caller, once it has the result,
/// finds the thread free for its next job.
type Job = Box<dyn FnOnce() -> Box<dyn FnOnce()> + Send>;

/// An idle kept thread: where its next job goes, and which thread it is.
struct Worker {
    jobs: Sender<Job>,
    thread: placement::ThreadId,
}

/// Idle kept threads, by stack size: each waits for its next job on its
/// own channel.
static IDLE: OnceLock<Mutex<HashMap<usize, Vec<Worker>>>> = OnceLock::new();

/// Kept idle threads per stack size; more, once done, end.
const MAX_IDLE: usize = 2;

fn idle() -> std::sync::MutexGuard<'static, HashMap<usize, Vec<Worker>>> {
    IDLE.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner)
}

/// Keeping a job off the caller's processor.
///
/// A job is started so that it runs beside its caller, who gets on with
/// its own work meanwhile. But Linux often wakes the job's thread on the
/// caller's processor (they share memory, and a small virtual machine may
/// not tell the scheduler that its processors share a cache), and the two
/// then take turns on it, for as long as 0.7 ms, while the other processor
/// idles: a fifth of the keystrokes of the language server's benchmark
/// waited so for chalice's import or for their own lowering. So before a
/// kept thread is handed a job, it is allowed every processor of the
/// process but the caller's current one (when there is another).
#[cfg(target_os = "linux")]
mod placement {
    pub type ThreadId = libc::pid_t;

    pub fn current_thread() -> ThreadId {
        // SAFETY: gettid has no preconditions.
        unsafe { libc::gettid() }
    }

    /// Lets `thread` run anywhere the process may but on the processor
    /// the calling thread is on; leaves it be when that leaves nowhere.
    pub fn off_this_processor(thread: ThreadId) {
        // SAFETY: plain system calls on a zeroed `cpu_set_t`, which the
        // CPU_* helpers only index within its size; a thread that is gone
        // makes sched_setaffinity fail, which changes nothing.
        unsafe {
            let here = libc::sched_getcpu();
            let mut allowed: libc::cpu_set_t = std::mem::zeroed();
            if here < 0 || libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut allowed) != 0 {
                return;
            }
            let here = here as usize;
            if here >= libc::CPU_SETSIZE as usize || !libc::CPU_ISSET(here, &allowed) || libc::CPU_COUNT(&allowed) < 2 {
                return;
            }
            libc::CPU_CLR(here, &mut allowed);
            libc::sched_setaffinity(thread, std::mem::size_of::<libc::cpu_set_t>(), &allowed);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod placement {
    pub type ThreadId = ();

    pub fn current_thread() -> ThreadId {}

    pub fn off_this_processor(_: ThreadId) {}
}

/// Runs `job` on an idle kept thread of `stack_size`, or on a new one
/// called `name`. False (and the job dropped) if no thread can be started.
fn run_on_worker(name: &str, stack_size: usize, job: Job) -> bool {
    let mut job = job;
    loop {
        let Some(worker) = idle().get_mut(&stack_size).and_then(Vec::pop) else { break };
        placement::off_this_processor(worker.thread);
        // A worker that ended (it cannot while idle, but a send that fails
        // gives the job back) is skipped.
        match worker.jobs.send(job) {
            Ok(()) => return true,
            Err(mpsc::SendError(back)) => job = back,
        }
    }
    let (to_worker, jobs) = mpsc::channel::<Job>();
    to_worker.send(job).expect("the receiver is alive");
    let started = std::thread::Builder::new().name(name.into()).stack_size(stack_size).spawn(move || {
        let thread = placement::current_thread();
        while let Ok(job) = jobs.recv() {
            let deliver = job();
            let kept = {
                let mut idle = idle();
                let kept = idle.entry(stack_size).or_default();
                let keep = kept.len() < MAX_IDLE;
                if keep {
                    kept.push(Worker { jobs: to_worker.clone(), thread });
                }
                keep
            };
            deliver();
            if !kept {
                return;
            }
        }
    });
    started.is_ok()
}

/// A result being computed on its own thread.
pub struct Pending<T> {
    done: OnceLock<T>,
    running: Mutex<Option<Receiver<Outcome<T>>>>,
}

impl<T: Send + 'static> Pending<T> {
    /// Runs `job` on a thread with a stack of `stack_size` bytes (a kept
    /// one, or a new one called `name`); runs `inline` here instead if no
    /// thread can be started.
    pub fn start(name: &str, stack_size: usize, job: impl FnOnce() -> T + Send + 'static, inline: impl FnOnce() -> T) -> Self {
        let done = OnceLock::new();
        let (sender, receiver) = mpsc::sync_channel::<Outcome<T>>(1);
        let wrapped: Job = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            Box::new(move || {
                // The caller may have stopped waiting (a newer version came).
                let _ = sender.send(outcome);
            })
        });
        let running = if run_on_worker(name, stack_size, wrapped) {
            Some(receiver)
        } else {
            let _ = done.set(inline());
            None
        };
        Pending { done, running: Mutex::new(running) }
    }

    /// The result if the job has finished, without waiting for it: a job
    /// still running is left to finish on its own, and its result dropped.
    pub fn into_finished(self) -> Option<T> {
        if let Some(done) = self.done.into_inner() {
            return Some(done);
        }
        let receiver = self.running.into_inner().unwrap_or_else(PoisonError::into_inner)?;
        match receiver.try_recv() {
            Ok(Ok(result)) => Some(result),
            Ok(Err(_)) | Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        }
    }

    /// The result, waiting for the job to finish if it has not. A panic in
    /// the job resumes here, as if it had happened on the caller's thread.
    pub fn get(&self) -> &T {
        self.done.get_or_init(|| {
            let receiver = self.running.lock().unwrap_or_else(PoisonError::into_inner).take();
            match receiver.map(|r| r.recv()) {
                Some(Ok(Ok(result))) => result,
                Some(Ok(Err(panic))) => std::panic::resume_unwind(panic),
                Some(Err(_)) => panic!("a background job ended without a result"),
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

    #[test]
    fn finished_threads_take_the_next_jobs_even_after_a_panic() {
        // A stack size no other test uses, so that no other job takes the
        // kept threads in between.
        const STACK: usize = (64 << 10) + 4096;
        let mut threads = std::collections::HashSet::new();
        for i in 0..20 {
            if i % 5 == 0 {
                let panicked: Pending<u8> = Pending::start("test", STACK, || panic!("in the job"), || unreachable!());
                assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *panicked.get())).is_err());
            }
            threads.insert(*Pending::start("test", STACK, || std::thread::current().id(), || unreachable!()).get());
        }
        // One job at a time, each started after the last one's result came
        // back, by when its thread waits for the next.
        assert_eq!(threads.len(), 1, "threads that ran 20 jobs one after another");
    }
}
