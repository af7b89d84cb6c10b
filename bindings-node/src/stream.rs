//! `NativeStream`: an open SSE connection pulled one event at a time. The JS
//! layer wraps `next()` in `[Symbol.asyncIterator]`, whose `return()` (run by
//! `break`) calls `close()`.

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

/// A live event stream. Dropping it (garbage collection) also closes it.
#[napi]
#[derive(Debug)]
pub struct NativeStream {
    /// `None` once closed or ended.
    inner: Arc<Mutex<Option<EventStream>>>,
    closed: watch::Sender<bool>,
    rt: tokio::runtime::Handle,
}

impl NativeStream {
    pub(crate) fn new(events: EventStream, rt: tokio::runtime::Handle) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Some(events))),
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
            let item = match guard.as_mut() {
                None => None,
                Some(events) => tokio::select! {
                    biased;
                    _ = closed.wait_for(|c| *c) => None,
                    item = events.next() => item,
                },
            };
            if !matches!(item, Some(Ok(_))) {
                // Ended, failed or closed: drop the stream, which frees the connection.
                *guard = None;
            }
            drop(guard);
            reply.settle(item.transpose(), |_env, ev| Ok(ev.map(SseEvent::from)));
        });
        Ok(promise)
    }

    /// Closes the connection now; a pending `next()` resolves with `null`.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.closed.send_replace(true);
        // When no `next()` holds the stream, drop it here; otherwise that `next()` does.
        if let Ok(mut guard) = self.inner.try_lock() {
            *guard = None;
        }
    }
}
