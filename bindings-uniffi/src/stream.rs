//! Pull-model streams for the foreign side: an SSE `EventStream` and the
//! pager cell behind the generated `*Pager` objects. Both are the core's
//! closable types: `next()` can be awaited from any coroutine or task (even
//! several at once, each getting its own item), `close()` also ends a `next()`
//! that is already waiting (it then returns null/nil), and a client's
//! cancellation token ends them with `MiosaError.Cancelled`.

use crate::errors::MiosaError;

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

/// A live server-sent event stream. Pull events with `next()` until it returns
/// null/nil (the stream ended: at its end marker, after an error, or after
/// `close()`); `close()` ends it and frees the connection at once.
/// Kotlin: `asFlow()`; Swift: `for try await event in stream.events()`.
#[derive(Debug, uniffi::Object)]
pub struct EventStream {
    inner: mcore::EventStream,
}

impl EventStream {
    pub(crate) fn new(stream: mcore::EventStream) -> Self {
        Self { inner: stream }
    }
}

#[uniffi::export]
impl EventStream {
    /// The next event; null/nil once the stream has ended or was closed.
    pub async fn next(&self) -> Result<Option<Event>, MiosaError> {
        match self.inner.next().await {
            Some(Ok(event)) => Ok(Some(event.into())),
            Some(Err(err)) => {
                self.inner.close();
                Err(err.into())
            }
            None => {
                self.inner.close();
                Ok(None)
            }
        }
    }

    /// Ends the stream now and frees its connection; a pending `next()` returns null/nil.
    /// Kotlin calls it `cancel()`, because Kotlin's `close()` (AutoCloseable) frees the object.
    pub fn close(&self) {
        self.inner.close();
    }
}

/// The core's pager behind a generated `*Pager` object.
#[derive(Debug)]
pub(crate) struct PagerCell {
    inner: mcore::Pager,
}

impl PagerCell {
    pub(crate) fn new(pager: mcore::Pager) -> Self {
        Self { inner: pager }
    }

    pub(crate) async fn next(&self) -> Result<Option<serde_json::Value>, MiosaError> {
        match self.inner.next().await {
            Some(Ok(value)) => Ok(Some(value)),
            Some(Err(err)) => Err(err.into()),
            None => Ok(None),
        }
    }

    pub(crate) async fn next_page(&self) -> Result<Option<mcore::Page>, MiosaError> {
        Ok(self.inner.next_page().await?)
    }

    pub(crate) fn close(&self) {
        self.inner.close();
    }
}
