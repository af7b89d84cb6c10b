//! One cancellation switch for every binding: a caller (another thread, a JS
//! `AbortSignal`, a Kotlin coroutine, a C program's signal handler thread)
//! flips it, and every call, stream or pager watching it ends with
//! [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled) at once.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

use crate::error::{Error, Result};

/// A shared, one-way cancel switch. Clones share the switch.
#[derive(Debug, Clone)]
pub struct CancelToken {
    switch: Arc<watch::Sender<bool>>,
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelToken {
    /// A token that has not been cancelled.
    pub fn new() -> Self {
        Self {
            switch: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Cancels every call watching this token, now and later. Safe from any thread.
    pub fn cancel(&self) {
        self.switch.send_replace(true);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        *self.switch.borrow()
    }

    /// Resolves once the token is cancelled. Needs no runtime: any executor may poll it.
    pub async fn cancelled(&self) {
        let mut watcher = self.switch.subscribe();
        // The sender lives as long as `self`, so the wait only ends by cancellation.
        let _ = watcher.wait_for(|cancelled| *cancelled).await;
    }

    /// Runs `fut`, or drops it and fails with a cancellation error once the token fires.
    pub async fn run<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        if self.is_cancelled() {
            return Err(Error::cancelled());
        }
        tokio::select! {
            biased;
            () = self.cancelled() => Err(Error::cancelled()),
            out = fut => out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_wakes_a_waiter_on_another_thread() {
        let token = CancelToken::new();
        let waiter = {
            let token = token.clone();
            std::thread::spawn(move || {
                futures_executor::block_on(token.run(std::future::pending::<Result<()>>()))
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        token.cancel();
        let outcome = waiter.join().expect("the waiter thread ends");
        assert_eq!(
            outcome.expect_err("cancelled").kind(),
            crate::ErrorKind::Cancelled
        );
        assert!(token.is_cancelled());
    }
}
