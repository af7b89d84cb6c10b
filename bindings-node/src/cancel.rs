//! Cancellation of in-flight calls from JavaScript (`AbortSignal`).

use napi_derive::napi;
use tokio::sync::watch;

/// A one-shot cancel switch. The JS layer creates one per call that has an
/// `AbortSignal` and flips it on `abort`; the native future then drops its
/// core request (which aborts it) and rejects as cancelled.
#[napi]
#[derive(Debug)]
pub struct CancelToken {
    tx: watch::Sender<bool>,
}

#[napi]
impl CancelToken {
    #[napi(constructor, catch_unwind)]
    #[allow(clippy::new_without_default)] // napi constructors cannot come from Default
    pub fn new() -> Self {
        Self {
            tx: watch::Sender::new(false),
        }
    }

    /// Cancels every call this token was given to (now or later).
    #[napi(catch_unwind)]
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    /// Whether `cancel` was called.
    #[napi(getter, catch_unwind)]
    pub fn cancelled(&self) -> bool {
        *self.tx.borrow()
    }
}

impl CancelToken {
    pub(crate) fn watch(&self) -> Cancelled {
        Cancelled(self.tx.subscribe())
    }
}

/// The waiting side of a [`CancelToken`], moved into a call's future.
#[derive(Debug)]
pub(crate) struct Cancelled(watch::Receiver<bool>);

impl Cancelled {
    /// Resolves once the token is cancelled; never, if it is dropped uncancelled.
    pub(crate) async fn wait(mut self) {
        if self.0.wait_for(|cancelled| *cancelled).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Runs `fut`, or gives up with a cancellation error when `cancel` fires first
/// (dropping `fut`, which aborts the core's request).
pub(crate) async fn run_cancellable<T>(
    fut: impl Future<Output = miosa::Result<T>>,
    cancel: Option<Cancelled>,
) -> miosa::Result<T> {
    match cancel {
        None => fut.await,
        Some(cancel) => {
            tokio::select! {
                biased;
                () = cancel.wait() => Err(crate::errors::cancelled()),
                out = fut => out,
            }
        }
    }
}
