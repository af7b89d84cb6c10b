//! `NativeStream`: an open SSE connection. `next()` pulls one event;
//! `nextBatch(max)` pulls every event already buffered (at least one), so a
//! fast stream costs one cross-thread round trip per burst, not per event. The
//! JS layer wraps `nextBatch()` in `[Symbol.asyncIterator]`, whose `return()`
//! (run by `break`) calls `close()`.

use std::sync::{Arc, Mutex};

use miosa::EventStream;
use napi::Env;
use napi::bindgen_prelude::Object;
use napi_derive::napi;

use crate::reply::Reply;

/// One server-sent event.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// The event type (`message` when the server sent none).
    pub event: String,
    /// The data lines joined with `\n`.
    pub data: String,
    /// The last event id seen on the stream, if any.
    pub id: Option<String>,
    /// The reconnection delay the server asked for, in ms, if sent with this event.
    pub retry: Option<f64>,
}

impl From<miosa::Event> for SseEvent {
    fn from(ev: miosa::Event) -> Self {
        Self {
            event: ev.event,
            data: ev.data,
            id: ev.id,
            // Milliseconds fit a JS number exactly far beyond any sane delay.
            #[allow(clippy::cast_precision_loss)]
            retry: ev.retry.map(|ms| ms as f64),
        }
    }
}

/// A live event stream. Dropping it (garbage collection) also closes it.
/// The core's stream serves overlapping reads one after another and its
/// `close()` wakes a pending one.
#[napi]
#[derive(Debug)]
pub struct NativeStream {
    events: Arc<EventStream>,
    /// An error that ended a batch: the events before it were delivered, and
    /// the next call reports it.
    failed: Arc<Mutex<Option<miosa::Error>>>,
    rt: tokio::runtime::Handle,
}

impl NativeStream {
    pub(crate) fn new(events: EventStream, rt: tokio::runtime::Handle) -> Self {
        Self {
            events: Arc::new(events),
            failed: Arc::default(),
            rt,
        }
    }
}

fn take(failed: &Mutex<Option<miosa::Error>>) -> Option<miosa::Error> {
    failed
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

#[napi]
impl NativeStream {
    /// The next event, or `null` once the stream has ended or was closed.
    #[napi(catch_unwind, ts_return_type = "Promise<SseEvent | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (reply, promise) = Reply::<Option<SseEvent>>::new(env)?;
        let events = Arc::clone(&self.events);
        let failed = Arc::clone(&self.failed);
        self.rt.spawn(async move {
            let item = match take(&failed) {
                Some(err) => Some(Err(err)),
                None => events.next().await,
            };
            if !matches!(item, Some(Ok(_))) {
                // Ended, failed or closed: free the connection.
                events.close();
            }
            reply.settle(item.transpose(), |_env, ev| Ok(ev.map(SseEvent::from)));
        });
        Ok(promise)
    }

    /// Waits for at least one event, then also takes every event already
    /// buffered, up to `max` (at least 1). Resolves with an empty array once the
    /// stream has ended or was closed. An error ends its batch: the events
    /// before it resolve first, and the next call rejects with it (after which
    /// the stream has ended).
    #[napi(catch_unwind, ts_return_type = "Promise<Array<SseEvent>>")]
    pub fn next_batch<'env>(&self, env: &'env Env, max: u32) -> napi::Result<Object<'env>> {
        let (reply, promise) = Reply::<Vec<SseEvent>>::new(env)?;
        let events = Arc::clone(&self.events);
        let failed = Arc::clone(&self.failed);
        let max = usize::try_from(max).unwrap_or(usize::MAX).max(1);
        self.rt.spawn(async move {
            let outcome = if let Some(err) = take(&failed) {
                Err(err)
            } else {
                let mut delivered = Vec::new();
                let mut error = None;
                for item in events.next_batch(max).await {
                    match item {
                        Ok(ev) => delivered.push(SseEvent::from(ev)),
                        Err(err) => {
                            // The core ends a stream after an error.
                            error = Some(err);
                            break;
                        }
                    }
                }
                match error {
                    Some(err) if delivered.is_empty() => Err(err),
                    Some(err) => {
                        *failed
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(err);
                        Ok(delivered)
                    }
                    None => Ok(delivered),
                }
            };
            if !matches!(&outcome, Ok(batch) if !batch.is_empty()) {
                // Ended, failed or closed: free the connection.
                events.close();
            }
            reply.settle(outcome, |_env, batch| Ok(batch));
        });
        Ok(promise)
    }

    /// Closes the connection now; a pending `next()` or `nextBatch()` resolves
    /// with `null` or an empty array, and events already buffered are dropped.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.events.close();
    }
}
