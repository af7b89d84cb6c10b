//! Live SSE streams. A task on the client's runtime reads the connection and
//! hands events through a bounded channel, so the consumer may sit on any
//! executor (or block), backpressure is free, and dropping the stream stops
//! the task and frees the connection.
//!
//! A connection that breaks or closes before the stream's end marker
//! (`[DONE]`, a terminal event named in the table, or a 204 on reconnect) is
//! reopened with `Last-Event-ID` after the server's `retry` delay, so nothing
//! is lost and nothing repeats; a POST stream only under an idempotency key
//! with retries on. Streams whose events carry no `id` cannot be resumed:
//! there the break is reported as a connection error. Every line and event
//! is bounded by `max_event_bytes`.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::sync::{Mutex, mpsc};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::cancel::CancelToken;
use crate::error::{Error, ErrorKind, Result};
use crate::request::Prepared;
use crate::retry;
use crate::sse::{Event, SseParser};
use crate::transport::{Transport, ensure_may_block};

/// What a stream callback wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep delivering events.
    Continue,
    /// Close the connection and return.
    Stop,
}

/// Reconnects allowed in a row without an event delivered in between.
const MAX_RECONNECTS: u32 = 8;
const DEFAULT_RECONNECT_DELAY: Duration = Duration::from_millis(500);
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(10);
/// Events buffered between the reader task and the consumer.
const CHANNEL_EVENTS: usize = 64;

/// An open event stream. Iterate it (async `next`, `Stream`, or `next_blocking`);
/// drop or `close` it to end the connection.
///
/// Every method takes `&self`: concurrent `next()` calls are served one after
/// another (each event goes to exactly one caller, none is lost), and
/// [`EventStream::close`] from any thread wakes a pending `next()` at once.
#[derive(Debug)]
pub struct EventStream {
    rx: Mutex<mpsc::Receiver<Result<Event>>>,
    closed: CancelToken,
    /// The caller's cancel token (the client handle's), if any.
    cancel: Option<CancelToken>,
    task: AbortHandle,
    /// The process that opened the stream: its connection and reader task do
    /// not exist in a `fork()` child.
    pid: u32,
    /// Keeps the client's runtime running while the stream is held, so a stream
    /// outlives the client that opened it (the reader task lets go when it ends).
    _runtime: Transport,
}

impl EventStream {
    /// Connects (errors such as 401/404 surface here) and starts the reader task.
    pub(crate) async fn open(
        transport: Transport,
        prepared: Prepared,
        cancel: Option<CancelToken>,
    ) -> Result<Self> {
        let response = transport
            .with_retries(&prepared, |attempt| {
                transport.connect_stream(&prepared, None, attempt)
            })
            .await?;
        let (tx, rx) = mpsc::channel(CHANNEL_EVENTS);
        let max_event_bytes = usize::try_from(prepared.body_limit.bytes).unwrap_or(usize::MAX);
        let reader = Reader {
            transport: transport.clone(),
            prepared,
            parser: SseParser::with_limit(max_event_bytes),
            terminated: false,
            tx,
        };
        // Reconnects log to the logger of the call that opened the stream.
        let task = transport
            .handle()
            .spawn(crate::log::in_scope(
                crate::log::current_scope(),
                reader.run(response),
            ))
            .abort_handle();
        Ok(Self {
            rx: Mutex::new(rx),
            closed: CancelToken::new(),
            cancel,
            task,
            pid: std::process::id(),
            _runtime: transport,
        })
    }

    /// Fails in a `fork()` child: the parent's connection cannot be read there.
    fn check_process(&self) -> Result<()> {
        if self.pid == std::process::id() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Usage,
            "this event stream was opened by the parent process before fork(); \
             open a new stream in the child",
        ))
    }

    /// The next event; `None` once the stream has ended (cleanly, at its end
    /// marker, after an error, or closed).
    pub async fn next(&self) -> Option<Result<Event>> {
        if let Err(err) = self.check_process() {
            return Some(Err(err));
        }
        if self.closed.is_cancelled() {
            return None;
        }
        tokio::select! {
            biased;
            () = self.closed.cancelled() => None,
            () = self.caller_cancelled() => {
                self.close();
                Some(Err(Error::cancelled()))
            }
            item = async { self.rx.lock().await.recv().await } => item,
        }
    }

    /// Resolves when the caller's cancel token fires; never without one.
    async fn caller_cancelled(&self) {
        match &self.cancel {
            Some(token) => token.cancelled().await,
            None => std::future::pending().await,
        }
    }

    /// Blocking form of [`EventStream::next`] for threads without an executor.
    pub fn next_blocking(&self) -> Option<Result<Event>> {
        if let Err(err) = ensure_may_block() {
            return Some(Err(err));
        }
        futures_executor::block_on(self.next())
    }

    /// The next event only if one is already buffered: no waiting, no thread
    /// switch. `Pending` when nothing has arrived yet (or another caller is
    /// reading), `Ready(None)` once ended.
    /// Bindings call this before falling back to a blocking or async `next`, so a
    /// fast stream costs one cross-thread hand-off per burst, not per event.
    pub fn try_next(&self) -> Poll<Option<Result<Event>>> {
        if let Err(err) = self.check_process() {
            return Poll::Ready(Some(Err(err)));
        }
        if self.closed.is_cancelled() {
            return Poll::Ready(None);
        }
        let Ok(mut rx) = self.rx.try_lock() else {
            return Poll::Pending;
        };
        match rx.try_recv() {
            Ok(item) => Poll::Ready(Some(item)),
            Err(mpsc::error::TryRecvError::Empty) => Poll::Pending,
            Err(mpsc::error::TryRecvError::Disconnected) => Poll::Ready(None),
        }
    }

    /// Waits for at least one event, then also takes every event already
    /// buffered, up to `max`; an empty batch means the stream has ended.
    pub async fn next_batch(&self, max: usize) -> Vec<Result<Event>> {
        if let Err(err) = self.check_process() {
            return vec![Err(err)];
        }
        let mut batch = Vec::with_capacity(max.clamp(1, 64));
        if self.closed.is_cancelled() {
            return batch;
        }
        // `recv_many` is cancel safe: when another branch wins, nothing was taken.
        let caller_cancelled = tokio::select! {
            biased;
            () = self.closed.cancelled() => false,
            () = self.caller_cancelled() => true,
            _ = async { self.rx.lock().await.recv_many(&mut batch, max.max(1)).await } => false,
        };
        if caller_cancelled {
            self.close();
            return vec![Err(Error::cancelled())];
        }
        batch
    }

    /// Ends the stream now and frees its connection; a pending `next()`
    /// returns `None` at once, and events already buffered are dropped.
    pub fn close(&self) {
        self.closed.cancel();
        self.task.abort();
        if let Ok(mut rx) = self.rx.try_lock() {
            rx.close();
            while rx.try_recv().is_ok() {}
        }
    }

    /// Whether [`EventStream::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// The seed's callback form: calls `f` for each event until it returns
    /// [`Control::Stop`] or the stream ends; stopping closes the connection.
    pub async fn for_each<F>(self, mut f: F) -> Result<()>
    where
        F: FnMut(Event) -> Control,
    {
        while let Some(item) = self.next().await {
            if f(item?) == Control::Stop {
                break;
            }
        }
        self.close();
        Ok(())
    }

    /// Blocking form of [`EventStream::for_each`].
    pub fn for_each_blocking<F>(self, mut f: F) -> Result<()>
    where
        F: FnMut(Event) -> Control,
    {
        while let Some(item) = self.next_blocking() {
            if f(item?) == Control::Stop {
                break;
            }
        }
        self.close();
        Ok(())
    }
}

impl Stream for EventStream {
    type Item = Result<Event>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Err(err) = self.check_process() {
            return Poll::Ready(Some(Err(err)));
        }
        if self.closed.is_cancelled() {
            return Poll::Ready(None);
        }
        self.rx.get_mut().poll_recv(cx)
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Reader {
    transport: Transport,
    prepared: Prepared,
    parser: SseParser,
    /// Whether the stream's end marker (`[DONE]`, a terminal event) was seen.
    terminated: bool,
    tx: mpsc::Sender<Result<Event>>,
}

enum Ended {
    /// The stream reached its end, or the consumer left: nothing more to do.
    Finished,
    /// The connection broke or closed early; the error says how.
    Broken(Error),
}

impl Reader {
    async fn run(mut self, first: reqwest::Response) {
        let mut response = first;
        let mut reconnects: u32 = 0;
        loop {
            let (delivered, mut err) = match self.pump(response).await {
                (_, Ended::Finished) => return,
                (delivered, Ended::Broken(err)) => (delivered, err),
            };
            if delivered {
                reconnects = 0;
            }
            // A stream without ids cannot resume, an idle one is dead, not
            // dropped, and an over-limit one would only fail again.
            let resumable = !matches!(err.kind(), ErrorKind::Timeout | ErrorKind::LimitExceeded)
                && self.transport.may_reconnect(&self.prepared);
            let last_id = match self.parser.last_event_id() {
                Some(id) if resumable => id.to_owned(),
                _ => {
                    let _ = self.tx.send(Err(err)).await;
                    return;
                }
            };
            response = loop {
                reconnects += 1;
                if reconnects > MAX_RECONNECTS {
                    let _ = self.tx.send(Err(err.with_attempts(reconnects))).await;
                    return;
                }
                let backoff = self
                    .parser
                    .retry_ms()
                    .map(Duration::from_millis)
                    .unwrap_or(DEFAULT_RECONNECT_DELAY)
                    .saturating_mul(1 << (reconnects - 1).min(4));
                // A 429/503 on a reconnect may say how long to wait.
                let delay = err
                    .retry_after()
                    .map_or(backoff, |asked| asked.max(backoff))
                    .min(MAX_RECONNECT_DELAY);
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = self.tx.closed() => return,
                }
                match self
                    .transport
                    .connect_stream(&self.prepared, Some(&last_id), reconnects + 1)
                    .await
                {
                    // 204 No Content: the server says the stream is over.
                    Ok(next) if next.status() == reqwest::StatusCode::NO_CONTENT => return,
                    Ok(next) => break next,
                    // A refusal (401, 404, quota...) ends the stream; a transient
                    // answer (429, 5xx) is a server restarting: keep trying.
                    Err(e) if e.status().is_some() && !retry::is_retryable(&e) => {
                        let _ = self.tx.send(Err(e)).await;
                        return;
                    }
                    Err(e) => err = e,
                }
            };
            let limit = self.parser.limit();
            self.parser = SseParser::resuming(Some(last_id)).limited(limit);
        }
    }

    /// Reads one connection until it ends. Only progress resets the idle
    /// timer: an event or a heartbeat comment, never a mere byte, so a trickle
    /// cannot keep a dead stream alive.
    async fn pump(&mut self, response: reqwest::Response) -> (bool, Ended) {
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return (false, Ended::Finished);
        }
        let idle = self.prepared.timeout;
        let mut body = response.bytes_stream();
        let mut events = Vec::new();
        let mut delivered = false;
        let mut deadline = Instant::now() + idle;
        loop {
            let chunk = tokio::select! {
                next = tokio::time::timeout_at(deadline, body.next()) => next,
                () = self.tx.closed() => return (delivered, Ended::Finished),
            };
            let chunk = match chunk {
                Err(_) => {
                    let err = Error::new(
                        ErrorKind::Timeout,
                        format!("the stream sent no event for {} s", idle.as_secs_f64()),
                    );
                    return (delivered, Ended::Broken(err));
                }
                Ok(None) => return (delivered, self.closed_by_server()),
                Ok(Some(Err(e))) => return (delivered, Ended::Broken(Error::from_reqwest(&e))),
                Ok(Some(Ok(bytes))) => bytes,
            };
            let heartbeats = self.parser.comments();
            self.parser.feed(&chunk, &mut events);
            if !events.is_empty() || self.parser.comments() != heartbeats {
                deadline = Instant::now() + idle;
            }
            for event in events.drain(..) {
                if event.is_done_sentinel() {
                    self.terminated = true;
                    return (delivered, Ended::Finished);
                }
                let terminal = self.prepared.stream_end.contains(&event.event.as_str());
                if self.tx.send(Ok(event)).await.is_err() {
                    return (delivered, Ended::Finished);
                }
                delivered = true;
                if terminal {
                    self.terminated = true;
                    return (delivered, Ended::Finished);
                }
            }
            if self.parser.exceeded() {
                let limit = self.prepared.body_limit;
                let err = Error::limit_exceeded("an SSE line or event", limit.setting, limit.bytes);
                return (delivered, Ended::Broken(err));
            }
        }
    }

    /// The server ended the response cleanly. With ids, that is a cut like any
    /// other (a proxy's idle limit, a restart) and the stream resumes; without
    /// ids, a stream that has a declared end marker was cut short; one that
    /// has none ends here, as the server said.
    fn closed_by_server(&mut self) -> Ended {
        self.parser.finish();
        if self.terminated {
            return Ended::Finished;
        }
        let has_ids = self.parser.last_event_id().is_some();
        if has_ids || !self.prepared.stream_end.is_empty() {
            return Ended::Broken(Error::new(
                ErrorKind::Connection,
                "the server closed the stream before its end",
            ));
        }
        Ended::Finished
    }
}
