//! Cancellation of in-flight calls from JavaScript (`AbortSignal`), through
//! the core's one cancel token.

use napi_derive::napi;

/// A one-shot cancel switch. The JS layer creates one per call that has an
/// `AbortSignal` and flips it on `abort`; the native future then drops its
/// core request (which aborts it) and rejects as cancelled.
#[napi]
#[derive(Debug)]
pub struct CancelToken {
    inner: miosa::CancelToken,
}

#[napi]
impl CancelToken {
    #[napi(constructor, catch_unwind)]
    #[allow(clippy::new_without_default)] // napi constructors cannot come from Default
    pub fn new() -> Self {
        Self {
            inner: miosa::CancelToken::new(),
        }
    }

    /// Cancels every call this token was given to (now or later).
    #[napi(catch_unwind)]
    pub fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether `cancel` was called.
    #[napi(getter, catch_unwind)]
    pub fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

impl CancelToken {
    /// The core token, to move into a call's future.
    pub(crate) fn token(&self) -> miosa::CancelToken {
        self.inner.clone()
    }
}

/// Runs `fut`, or gives up with a cancellation error when `cancel` fires first
/// (dropping `fut`, which aborts the core's request).
pub(crate) async fn run_cancellable<T>(
    fut: impl Future<Output = miosa::Result<T>>,
    cancel: Option<miosa::CancelToken>,
) -> miosa::Result<T> {
    match cancel {
        None => fut.await,
        Some(token) => token.run(fut).await.map_err(|err| match err.kind() {
            miosa::ErrorKind::Cancelled => crate::errors::cancelled(),
            _ => err,
        }),
    }
}
