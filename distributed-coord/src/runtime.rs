//! A private tokio current-thread runtime driven by its own thread, so that the blocking APIs
//! of this crate can wrap the async ZooKeeper and etcd clients.
//!
//! The clients spawn background tasks (ZooKeeper's session pings, etcd's lease keep-alives):
//! those must run while the caller does something else, so one thread sits in
//! `Runtime::block_on` until the driver is dropped, and callers run their futures with
//! `Handle::block_on` (their I/O and timers are driven by that thread).

use std::future::Future;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

/// How long a dropped driver waits for its tasks (a session close, a lease revoke) to end.
const DRAIN: Duration = Duration::from_secs(2);

/// A current-thread runtime on a dedicated thread; dropped: remaining tasks get [`DRAIN`] to
/// finish, then the runtime is shut down.
#[derive(Debug)]
pub(crate) struct Driver {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Driver {
    /// Starts the runtime and its thread; an error line when either cannot be made.
    pub(crate) fn start(name: &str) -> Result<Driver, String> {
        let rt = Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("{name}: cannot build a tokio runtime: {e}"))?;
        let handle = rt.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("{name}-runtime"))
            .spawn(move || {
                // Ends when the sender is dropped or used: either way, time to stop.
                let _ = rt.block_on(stopped);
                let end = Instant::now() + DRAIN;
                rt.block_on(async {
                    while rt_alive_tasks() > 0 && Instant::now() < end {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(100));
            })
            .map_err(|e| format!("{name}: cannot start the runtime thread: {e}"))?;
        Ok(Driver {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Runs `fut` for at most `limit`; `None` when it did not finish in time.
    pub(crate) fn block_on_within<F: Future>(&self, limit: Duration, fut: F) -> Option<F::Output> {
        self.handle
            .block_on(async { tokio::time::timeout(limit, fut).await.ok() })
    }

    /// Spawns a background task on the runtime.
    pub(crate) fn spawn<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(fut)
    }
}

/// The number of tasks alive on the current runtime.
fn rt_alive_tasks() -> usize {
    Handle::current().metrics().num_alive_tasks()
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
