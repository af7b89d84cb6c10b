//! `NativeStream`: an open SSE connection. `next()` pulls one event;
//! `nextBatch(max)` pulls every event already buffered (at least one), so a
//! fast stream costs one cross-thread round trip per burst, not per event. The
//! JS layer wraps `nextBatch()` in `[Symbol.asyncIterator]`, whose `return()`
//! (run by `break`) calls `close()`.

use std::sync::Arc;

use miosa::EventStream;
use napi::Env;
use napi::bindgen_prelude::Object;
use napi_derive::napi;
use tokio::sync::{Mutex, watch};

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

/// The state behind a [`NativeStream`].
#[derive(Debug, Default)]
struct Slot {
    /// `None` once closed or ended.
    events: Option<EventStream>,
    /// An error that ended a batch: the events before it were delivered, and
    /// the next call reports it.
    failed: Option<miosa::Error>,
}

/// A live event stream. Dropping it (garbage collection) also closes it.
#[napi]
#[derive(Debug)]
pub struct NativeStream {
    inner: Arc<Mutex<Slot>>,
    closed: watch::Sender<bool>,
    rt: tokio::runtime::Handle,
}

impl NativeStream {
    pub(crate) fn new(events: EventStream, rt: tokio::runtime::Handle) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Slot {
                events: Some(events),
                failed: None,
            })),
            closed: watch::Sender::new(false),
            rt,
        }
    }
}

#[napi]
impl NativeStream {
    /// The next event, or `null` once the stream has ended or was closed.
    #[napi(catch_unwind, ts_return_type = "Promise<SseEvent | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (reply, promise) = Reply::<Option<SseEvent>>::new(env)?;
        let inner = Arc::clone(&self.inner);
        let mut closed = self.closed.subscribe();
        self.rt.spawn(async move {
            let mut guard = inner.lock().await;
            let item = if let Some(err) = guard.failed.take() {
                Some(Err(err))
            } else {
                match guard.events.as_mut() {
                    None => None,
                    Some(events) => tokio::select! {
                        biased;
                        _ = closed.wait_for(|c| *c) => None,
                        item = events.next() => item,
                    },
                }
            };
            if !matches!(item, Some(Ok(_))) {
                // Ended, failed or closed: drop the stream, which frees the connection.
                guard.events = None;
            }
            drop(guard);
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
        let inner = Arc::clone(&self.inner);
        let mut closed = self.closed.subscribe();
        let max = usize::try_from(max).unwrap_or(usize::MAX).max(1);
        self.rt.spawn(async move {
            let mut guard = inner.lock().await;
            let slot = &mut *guard;
            let outcome = if let Some(err) = slot.failed.take() {
                Err(err)
            } else {
                let batch = match slot.events.as_mut() {
                    None => Vec::new(),
                    Some(events) => tokio::select! {
                        biased;
                        _ = closed.wait_for(|c| *c) => Vec::new(),
                        batch = events.next_batch(max) => batch,
                    },
                };
                let mut delivered = Vec::with_capacity(batch.len());
                for item in batch {
                    match item {
                        Ok(ev) => delivered.push(SseEvent::from(ev)),
                        Err(err) => {
                            // The core ends a stream after an error; anything
                            // after it would be dropped by the close below.
                            slot.failed = Some(err);
                            break;
                        }
                    }
                }
                if delivered.is_empty() {
                    slot.failed.take().map_or(Ok(delivered), Err)
                } else {
                    Ok(delivered)
                }
            };
            if !matches!(&outcome, Ok(batch) if !batch.is_empty())
                || slot.failed.is_some()
                || *closed.borrow()
            {
                // Ended, failed or closed: drop the stream, which frees the connection.
                slot.events = None;
            }
            drop(guard);
            reply.settle(outcome, |_env, batch| Ok(batch));
        });
        Ok(promise)
    }

    /// Closes the connection now; a pending `next()` or `nextBatch()` resolves
    /// with `null` or an empty array, and events already buffered are dropped.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.closed.send_replace(true);
        // When no `next()` holds the stream, drop it here; otherwise that `next()` does.
        if let Ok(mut guard) = self.inner.try_lock() {
            *guard = Slot::default();
        }
    }
}
