//! Live SSE streams. A task on the client's runtime reads the connection and
//! hands events through a bounded channel, so the consumer may sit on any
//! executor (or block), backpressure is free, and dropping the stream stops
//! the task and frees the connection.
//!
//! A connection that breaks mid-stream (not a clean end) is reopened with
//! `Last-Event-ID` after the server's `retry` delay, so nothing is lost and
//! nothing repeats. Streams whose events carry no `id` cannot be resumed:
//! there the break is reported as a connection error.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::client::{Client, ensure_may_block};
use crate::dispatch::{Prepared, check_status, request, with_retries};
use crate::error::{Error, ErrorKind, Result};
use crate::retry;
use crate::sse::{Event, SseParser};

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

/// An open event stream. Iterate it (async `next`, `Stream`, or `next_blocking`);
/// drop or `close` it to end the connection.
#[derive(Debug)]
pub struct EventStream {
    rx: mpsc::Receiver<Result<Event>>,
    task: AbortHandle,
}

impl EventStream {
    /// Connects (errors such as 401/404 surface here) and starts the reader task.
    pub(crate) async fn open(client: Client, prepared: Prepared) -> Result<Self> {
        let engine = client.engine()?;
        let response =
            with_retries(&client, &prepared, || connect(&client, &prepared, None)).await?;
        let (tx, rx) = mpsc::channel(64);
        let reader = Reader {
            client: client.clone(),
            prepared,
            parser: SseParser::new(),
            tx,
        };
        let task = engine.handle().spawn(reader.run(response)).abort_handle();
        Ok(Self { rx, task })
    }

    /// The next event; `None` once the stream has ended (cleanly, at `[DONE]`, or after an error).
    pub async fn next(&mut self) -> Option<Result<Event>> {
        self.rx.recv().await
    }

    /// Blocking form of [`EventStream::next`] for threads without an executor.
    pub fn next_blocking(&mut self) -> Option<Result<Event>> {
        if let Err(err) = ensure_may_block() {
            return Some(Err(err));
        }
        self.rx.blocking_recv()
    }

    /// The next event only if one is already buffered: no waiting, no thread
    /// switch. `Pending` when nothing has arrived yet, `Ready(None)` once ended.
    /// Bindings call this before falling back to a blocking or async `next`, so a
    /// fast stream costs one cross-thread hand-off per burst, not per event.
    pub fn try_next(&mut self) -> Poll<Option<Result<Event>>> {
        match self.rx.try_recv() {
            Ok(item) => Poll::Ready(Some(item)),
            Err(mpsc::error::TryRecvError::Empty) => Poll::Pending,
            Err(mpsc::error::TryRecvError::Disconnected) => Poll::Ready(None),
        }
    }

    /// Waits for at least one event, then also takes every event already
    /// buffered, up to `max`; an empty batch means the stream has ended.
    pub async fn next_batch(&mut self, max: usize) -> Vec<Result<Event>> {
        let mut batch = Vec::with_capacity(max.clamp(1, 64));
        self.rx.recv_many(&mut batch, max.max(1)).await;
        batch
    }

    /// Ends the stream now and frees its connection.
    pub fn close(&mut self) {
        self.task.abort();
        self.rx.close();
        // Events already buffered are dropped too: after `close`, `next` is `None`.
        while self.rx.try_recv().is_ok() {}
    }

    /// The seed's callback form: calls `f` for each event until it returns
    /// [`Control::Stop`] or the stream ends; stopping closes the connection.
    pub async fn for_each<F>(mut self, mut f: F) -> Result<()>
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
    pub fn for_each_blocking<F>(mut self, mut f: F) -> Result<()>
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
        self.rx.poll_recv(cx)
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Opens (or, with `last_event_id`, reopens) the stream's connection: headers
/// within the receive timeout, then a non-2xx status becomes its error.
async fn connect(
    client: &Client,
    prepared: &Prepared,
    last_event_id: Option<&str>,
) -> Result<reqwest::Response> {
    let engine = client.engine()?;
    let mut req = request(client, &engine.http, prepared, false);
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let response = tokio::time::timeout(prepared.timeout, req.send())
        .await
        .map_err(|_| {
            let message = if last_event_id.is_some() {
                "timed out reopening the stream"
            } else {
                "timed out waiting for the stream to open"
            };
            Error::new(ErrorKind::Timeout, message)
        })?
        .map_err(|e| Error::from_reqwest(&e))?;
    check_status(response).await
}

struct Reader {
    client: Client,
    prepared: Prepared,
    parser: SseParser,
    tx: mpsc::Sender<Result<Event>>,
}

enum Ended {
    /// The server closed the stream cleanly, or sent `[DONE]`, or the consumer left.
    Finished,
    /// The connection broke; the error says how.
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
            // A stream without ids cannot resume, and an idle one is dead, not dropped.
            let last_id = match self.parser.last_event_id() {
                Some(id) if err.kind() != ErrorKind::Timeout => id.to_owned(),
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
                match self.reconnect(&last_id).await {
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
            self.parser = SseParser::resuming(Some(last_id));
        }
    }

    async fn reconnect(&self, last_id: &str) -> Result<reqwest::Response> {
        connect(&self.client, &self.prepared, Some(last_id)).await
    }

    /// Reads one connection until it ends. Any byte (a heartbeat comment included)
    /// resets the idle timer, so a healthy long stream lives and a dead one fails fast.
    async fn pump(&mut self, response: reqwest::Response) -> (bool, Ended) {
        let idle = self.prepared.timeout;
        let mut body = response.bytes_stream();
        let mut events = Vec::new();
        let mut delivered = false;
        loop {
            let chunk = tokio::select! {
                next = tokio::time::timeout(idle, body.next()) => next,
                () = self.tx.closed() => return (delivered, Ended::Finished),
            };
            let chunk = match chunk {
                Err(_) => {
                    let err = Error::new(
                        ErrorKind::Timeout,
                        format!("the stream was idle for {} s", idle.as_secs_f64()),
                    );
                    return (delivered, Ended::Broken(err));
                }
                Ok(None) => {
                    self.parser.finish();
                    return (delivered, Ended::Finished);
                }
                Ok(Some(Err(e))) => return (delivered, Ended::Broken(Error::from_reqwest(&e))),
                Ok(Some(Ok(bytes))) => bytes,
            };
            self.parser.feed(&chunk, &mut events);
            for event in events.drain(..) {
                if event.is_done_sentinel() {
                    return (delivered, Ended::Finished);
                }
                if self.tx.send(Ok(event)).await.is_err() {
                    return (delivered, Ended::Finished);
                }
                delivered = true;
            }
        }
    }
}
