//! The one inference worker: a thread that owns the engine.
//!
//! llama.cpp wants one backend per process and its contexts are not `Sync`,
//! so the engine is built on this thread and never leaves it. Work arrives as
//! jobs with a [`Priority`]; the highest waiting priority runs next (a hotkey
//! rephrase goes ahead of queued chat turns), first come first served within
//! a priority. Every job gets a [`CancelToken`], cancellable while it waits
//! or while it runs. `Background` work is speculative (preparing copied
//! text): any other job submitted cancels it, waiting or running.

use super::{CancelToken, PauseGate};
use crate::error::{Error, Result};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

/// Order in which waiting jobs run: `Interactive` first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Work nobody asked for yet: cancelled by any other job's arrival.
    Background = 0,
    Normal = 1,
    /// The user is waiting with nothing else to look at (the hotkey).
    Interactive = 2,
}

type Job<E> = Box<dyn FnOnce(&mut E) + Send>;

struct Queued<E> {
    priority: Priority,
    seq: u64,
    job: Job<E>,
}

impl<E> PartialEq for Queued<E> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<E> Eq for Queued<E> {}
impl<E> PartialOrd for Queued<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Queued<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Higher priority first; within a priority, lower seq (older) first.
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

struct Queue<E> {
    heap: BinaryHeap<Queued<E>>,
    next_seq: u64,
    closed: bool,
}

struct Shared<E> {
    queue: Mutex<Queue<E>>,
    ready: Condvar,
    /// The `Background` jobs not finished yet, by sequence number.
    background: Arc<Mutex<Vec<(u64, CancelToken)>>>,
}

/// Handle to the worker thread. Dropping it finishes queued jobs and joins.
pub struct Worker<E> {
    shared: Arc<Shared<E>>,
    thread: Option<JoinHandle<()>>,
    /// Jobs below `Interactive` wait while this gate is held.
    pause: Option<PauseGate>,
}

/// A submitted job: wait for its result or cancel it.
#[derive(Debug)]
pub struct Ticket<R> {
    cancel: CancelToken,
    /// The job's result, or what its panic said.
    result: mpsc::Receiver<std::result::Result<R, String>>,
}

impl<R> Ticket<R> {
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
    /// Blocks until the job has run. Fails if the job panicked (the worker
    /// goes on with the next one) or the worker is gone.
    pub fn wait(self) -> Result<R> {
        match self.result.recv() {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(panic)) => Err(Error::Inference(format!(
                "the request failed inside the engine ({panic}); other requests are served"
            ))),
            Err(_) => Err(Error::Inference("the inference worker stopped".into())),
        }
    }
}

impl<E: 'static> Worker<E> {
    /// Starts the worker thread and builds the engine on it with `make`.
    /// Returns once the engine is ready, or with the error that stopped it.
    pub fn spawn<F>(make: F) -> Result<Self>
    where
        F: FnOnce() -> Result<E> + Send + 'static,
    {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                heap: BinaryHeap::new(),
                next_seq: 0,
                closed: false,
            }),
            ready: Condvar::new(),
            background: Arc::new(Mutex::new(Vec::new())),
        });
        let (ready_tx, ready_rx) = mpsc::channel::<Result<()>>();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("pith-inference".into())
            .spawn(move || {
                let mut engine = match make() {
                    Ok(engine) => {
                        let _ = ready_tx.send(Ok(()));
                        engine
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Some(job) = next_job(&thread_shared) {
                    job(&mut engine);
                }
            })
            .map_err(|e| Error::io("could not start the inference thread", e))?;
        let outcome = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(Error::Inference("the engine panicked while loading".into())));
        let worker = Worker {
            shared,
            thread: Some(thread),
            pause: None,
        };
        outcome.map(|()| worker)
    }

    /// Makes this worker's jobs below `Interactive` wait between tokens
    /// while `gate` is held (by urgent work on another worker).
    #[must_use]
    pub fn paused_by(mut self, gate: PauseGate) -> Self {
        self.pause = Some(gate);
        self
    }

    /// Queues `job`; it runs on the worker thread with the engine and the
    /// ticket's cancel token.
    pub fn submit<R, F>(&self, priority: Priority, job: F) -> Ticket<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut E, &CancelToken) -> R + Send + 'static,
    {
        let cancel = match &self.pause {
            Some(gate) if priority < Priority::Interactive => CancelToken::paused_by(gate.clone()),
            _ => CancelToken::new(),
        };
        let (tx, rx) = mpsc::channel();
        let job_cancel = cancel.clone();
        let seq = {
            let mut q = self
                .shared
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            q.next_seq += 1;
            q.next_seq - 1
        };
        {
            let mut background = self
                .shared
                .background
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if priority == Priority::Background {
                background.push((seq, cancel.clone()));
            } else {
                for (_, token) in background.drain(..) {
                    token.cancel();
                }
            }
        }
        let unfinished = Arc::clone(&self.shared.background);
        let boxed: Job<E> = Box::new(move |engine: &mut E| {
            // A panicking job must not take the worker down with it: every
            // later request would wait for ever.
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(engine, &job_cancel)))
                    .map_err(|payload| {
                        payload
                            .downcast_ref::<&str>()
                            .map(|s| (*s).to_string())
                            .or_else(|| payload.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "a panic".into())
                    });
            unfinished
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|(s, _)| *s != seq);
            let _ = tx.send(outcome);
        });
        let mut q = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        q.heap.push(Queued {
            priority,
            seq,
            job: boxed,
        });
        drop(q);
        self.shared.ready.notify_one();
        Ticket { cancel, result: rx }
    }

    /// Runs `job` and waits for it: the blocking form of [`Worker::submit`].
    pub fn run<R, F>(&self, priority: Priority, job: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut E, &CancelToken) -> R + Send + 'static,
    {
        self.submit(priority, job).wait()
    }
}

fn next_job<E>(shared: &Shared<E>) -> Option<Job<E>> {
    let mut q = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if let Some(item) = q.heap.pop() {
            return Some(item.job);
        }
        if q.closed {
            return None;
        }
        q = shared.ready.wait(q).unwrap_or_else(PoisonError::into_inner);
    }
}

impl<E> Drop for Worker<E> {
    fn drop(&mut self) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.shared.ready.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    #[test]
    fn a_panicking_job_is_reported_and_the_next_one_is_served() {
        // Before: the panic ended the worker thread and every later request
        // waited for ever (`pith serve` answered 503 to everyone).
        let worker = Worker::spawn(|| Ok(0u32)).expect("spawns");
        let err = worker
            .run(Priority::Normal, |_: &mut u32, _| -> u32 {
                panic!("index out of bounds")
            })
            .expect_err("the panic is an error");
        assert_eq!(err.code(), crate::ErrorCode::Inference);
        assert!(err.to_string().contains("index out of bounds"), "{err}");
        let next = worker.run(Priority::Normal, |n: &mut u32, _| {
            *n += 1;
            *n
        });
        assert_eq!(next.expect("served"), 1);
    }

    #[test]
    fn a_failing_engine_factory_reports_its_error() {
        let err = Worker::<()>::spawn(|| Err(Error::EmptyInput)).err();
        assert!(matches!(err, Some(Error::EmptyInput)));
    }

    #[test]
    fn waiting_jobs_run_by_priority_then_arrival() {
        let worker = Worker::spawn(|| Ok(Vec::<&'static str>::new())).expect("spawns");
        // Hold the worker busy until every job is queued.
        let (release_tx, release_rx) = channel::<()>();
        let gate = worker.submit(Priority::Normal, move |_, _| {
            let _ = release_rx.recv();
        });
        let order = [
            (Priority::Background, "background"),
            (Priority::Normal, "chat-1"),
            (Priority::Interactive, "hotkey"),
            (Priority::Normal, "chat-2"),
        ];
        let tickets: Vec<_> = order
            .iter()
            .map(|&(p, name)| worker.submit(p, move |log: &mut Vec<_>, _| log.push(name)))
            .collect();
        release_tx.send(()).expect("gate open");
        gate.wait().expect("gate ran");
        for t in tickets {
            t.wait().expect("job ran");
        }
        let log = worker
            .run(Priority::Normal, |log, _| log.clone())
            .expect("runs");
        assert_eq!(log, ["hotkey", "chat-1", "chat-2", "background"]);
    }

    #[test]
    fn a_held_gate_pauses_lower_priority_jobs_between_checks_and_never_interactive_ones() {
        use std::time::{Duration, Instant};
        let gate = PauseGate::default();
        let worker = Worker::spawn(|| Ok(()))
            .expect("spawn")
            .paused_by(gate.clone());
        let hold = gate.hold();
        let interactive = worker.run(Priority::Interactive, |_: &mut (), cancel| {
            cancel.is_cancelled()
        });
        assert!(!interactive.expect("runs"), "never paused");
        let started = Instant::now();
        let normal = worker.submit(Priority::Normal, |_: &mut (), cancel| {
            let was = cancel.is_cancelled();
            (was, Instant::now())
        });
        std::thread::sleep(Duration::from_millis(100));
        let released = Instant::now();
        drop(hold);
        let (cancelled, checked_at) = normal.wait().expect("runs");
        assert!(!cancelled);
        assert!(checked_at >= released, "the check waited for the gate");
        assert!(started.elapsed() >= Duration::from_millis(100));
        // Cancelling ends the wait even while the gate is held.
        let _hold = gate.hold();
        let waiting = worker.submit(Priority::Normal, |_: &mut (), cancel| cancel.is_cancelled());
        waiting.cancel();
        assert!(waiting.wait().expect("runs"));
    }

    #[test]
    fn any_other_job_cancels_background_work_waiting_or_running() {
        let worker = Worker::spawn(|| Ok(0u32)).expect("spawn");
        let (started_tx, started_rx) = channel();
        let running = worker.submit(Priority::Background, move |_, cancel| {
            let _ = started_tx.send(());
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !cancel.is_cancelled() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            cancel.is_cancelled()
        });
        started_rx.recv().expect("started");
        let waiting = worker.submit(Priority::Background, |_, cancel| cancel.is_cancelled());
        // Background work does not cancel background work.
        assert!(!waiting.cancel_token().is_cancelled());
        let chat = worker.submit(Priority::Normal, |_, cancel| cancel.is_cancelled());
        assert!(
            running.wait().expect("ran"),
            "the running one was cancelled"
        );
        assert!(waiting.wait().expect("ran"), "the waiting one too");
        assert!(!chat.wait().expect("ran"), "the new job runs");
        // A finished background job is forgotten: later jobs find none.
        let done = worker.submit(Priority::Background, |_, _| 1);
        assert_eq!(done.wait().expect("ran"), 1);
        worker.run(Priority::Normal, |_, _| ()).expect("ran");
    }

    #[test]
    fn a_job_cancelled_while_waiting_sees_its_token_cancelled() {
        let worker = Worker::spawn(|| Ok(())).expect("spawns");
        let (release_tx, release_rx) = channel::<()>();
        let gate = worker.submit(Priority::Normal, move |_, _| {
            let _ = release_rx.recv();
        });
        let queued = worker.submit(Priority::Normal, |_, cancel| cancel.is_cancelled());
        queued.cancel();
        release_tx.send(()).expect("gate open");
        gate.wait().expect("gate ran");
        assert!(queued.wait().expect("ran"));
        let fresh = worker.run(Priority::Normal, |_, cancel| cancel.is_cancelled());
        assert!(!fresh.expect("ran"), "a new job gets a fresh token");
    }
}
