//! Pull-model streams for the foreign side: an SSE `EventStream` and the
//! pager cell behind the generated `*Pager` objects. Each wraps the core's
//! `&mut self` iterator in an async mutex, so `next()` can be awaited from any
//! coroutine or task, and pairs it with a close signal, so `close()` also ends
//! a `next()` that is already waiting (it then returns null/nil).

use tokio::sync::{Mutex, watch};

use crate::errors::{MiosaError, cancelled};

/// Why a pending `next()` stopped early.
enum Stop {
    /// `close()` was called: the walk ends quietly.
    Closed,
    /// The client's cancellation token fired: the call fails with `Cancelled`.
    Cancelled,
}

/// Resolves when `close()` is called or the token (if any) is cancelled.
async fn stopped(closing: watch::Receiver<bool>, cancel: Option<watch::Receiver<bool>>) -> Stop {
    let cancelled = async {
        match cancel {
            Some(rx) => signalled(rx).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        () = signalled(closing) => Stop::Closed,
        () = cancelled => Stop::Cancelled,
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Event {
    /// The event type; `message` when the server sent no `event:` field.
    pub event: String,
    /// The data lines joined with `\n` (often JSON text).
    pub data: String,
    /// The last event id seen on the stream, if any.
    pub id: Option<String>,
    /// The reconnection delay the server asked for with this event, in milliseconds.
    pub retry: Option<i64>,
}

impl From<mcore::Event> for Event {
    fn from(e: mcore::Event) -> Self {
        Self {
            event: e.event,
            data: e.data,
            id: e.id,
            retry: e.retry.map(crate::convert::signed),
        }
    }
}

/// Resolves once the flag behind `rx` is set (or its sender is gone).
pub(crate) async fn signalled(mut rx: watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// A live server-sent event stream. Pull events with `next()` until it returns
/// null/nil (the stream ended: cleanly, at `[DONE]`, after an error, or after
/// `close()`); `close()` ends it and frees the connection at once.
/// Kotlin: `asFlow()`; Swift: `for try await event in stream.events()`.
#[derive(Debug, uniffi::Object)]
pub struct EventStream {
    inner: Mutex<Option<mcore::EventStream>>,
    closed: watch::Sender<bool>,
    cancel: Option<watch::Receiver<bool>>,
}

impl EventStream {
    pub(crate) fn new(stream: mcore::EventStream, cancel: Option<watch::Receiver<bool>>) -> Self {
        Self {
            inner: Mutex::new(Some(stream)),
            closed: watch::Sender::new(false),
            cancel,
        }
    }
}

#[uniffi::export]
impl EventStream {
    /// The next event, or null/nil once the stream has ended.
    pub async fn next(&self) -> Result<Option<Event>, MiosaError> {
        let closing = self.closed.subscribe();
        if *closing.borrow() {
            return Ok(None);
        }
        let mut guard = self.inner.lock().await;
        let Some(stream) = guard.as_mut() else {
            return Ok(None);
        };
        let item = tokio::select! {
            biased;
            stop = stopped(closing, self.cancel.clone()) => {
                end(&mut guard);
                return match stop {
                    Stop::Closed => Ok(None),
                    Stop::Cancelled => Err(cancelled()),
                };
            }
            item = stream.next() => item,
        };
        match item {
            Some(Ok(event)) => Ok(Some(event.into())),
            Some(Err(err)) => {
                end(&mut guard);
                Err(err.into())
            }
            None => {
                end(&mut guard);
                Ok(None)
            }
        }
    }

    /// Ends the stream now and frees its connection; a pending `next()` returns null/nil.
    /// Kotlin calls it `cancel()`, because Kotlin's `close()` (AutoCloseable) frees the object.
    pub fn close(&self) {
        self.closed.send_replace(true);
        // A pending next() holds the lock; it sees the signal and ends the stream itself.
        if let Ok(mut guard) = self.inner.try_lock() {
            end(&mut guard);
        }
    }
}

fn end(slot: &mut Option<mcore::EventStream>) {
    if let Some(mut stream) = slot.take() {
        stream.close();
    }
}

/// The state behind every generated `*Pager`: the core's lazy pager over JSON
/// items, fetched one page at a time as `next()` runs dry.
#[derive(Debug)]
pub(crate) struct PagerCell {
    inner: Mutex<Option<mcore::Pager>>,
    closed: watch::Sender<bool>,
    cancel: Option<watch::Receiver<bool>>,
}

impl PagerCell {
    pub(crate) fn new(pager: mcore::Pager, cancel: Option<watch::Receiver<bool>>) -> Self {
        Self {
            inner: Mutex::new(Some(pager)),
            closed: watch::Sender::new(false),
            cancel,
        }
    }

    /// The next item across pages; `None` after the last one or after `close()`.
    pub(crate) async fn next(&self) -> Result<Option<serde_json::Value>, MiosaError> {
        let closing = self.closed.subscribe();
        if *closing.borrow() {
            return Ok(None);
        }
        let mut guard = self.inner.lock().await;
        let Some(pager) = guard.as_mut() else {
            return Ok(None);
        };
        let item = tokio::select! {
            biased;
            stop = stopped(closing, self.cancel.clone()) => {
                guard.take();
                return match stop {
                    Stop::Closed => Ok(None),
                    Stop::Cancelled => Err(cancelled()),
                };
            }
            item = pager.next() => item,
        };
        match item {
            Some(Ok(value)) => Ok(Some(value)),
            Some(Err(err)) => Err(err.into()),
            None => {
                guard.take();
                Ok(None)
            }
        }
    }

    /// The next whole page; `None` after the last one or after `close()`.
    pub(crate) async fn next_page(&self) -> Result<Option<mcore::Page>, MiosaError> {
        let closing = self.closed.subscribe();
        if *closing.borrow() {
            return Ok(None);
        }
        let mut guard = self.inner.lock().await;
        let Some(pager) = guard.as_mut() else {
            return Ok(None);
        };
        let page = tokio::select! {
            biased;
            stop = stopped(closing, self.cancel.clone()) => {
                guard.take();
                return match stop {
                    Stop::Closed => Ok(None),
                    Stop::Cancelled => Err(cancelled()),
                };
            }
            page = pager.next_page() => page,
        };
        match page? {
            Some(page) => Ok(Some(page)),
            None => {
                guard.take();
                Ok(None)
            }
        }
    }

    /// Stops the walk; a pending `next()` returns null/nil and no further page is fetched.
    pub(crate) fn close(&self) {
        self.closed.send_replace(true);
        if let Ok(mut guard) = self.inner.try_lock() {
            guard.take();
        }
    }
}
