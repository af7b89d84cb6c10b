//! `GET /_emulator/stream`: a synthetic SSE stream for reliability tests and
//! benchmarks. Events `id: n` / `data: n` (padded with `x` to `size` bytes)
//! for n = 1..=count, written in large chunks straight from a generator (no
//! task, no channel), so a million events cost the emulator little. It
//! resumes after `Last-Event-ID` and honours the SSE faults
//! (`cut_after_events`, `stall_after_events`); unlike the other `_emulator`
//! routes it is recorded in the request log and faults apply to it. It ends
//! with `data: [DONE]`, and answers 204 to a resume past its last event.

use std::io::Write as _;
use std::time::Duration;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::Extension;
use axum::http::HeaderMap;
use axum::response::IntoResponse as _;
use axum::routing::get;
use bytes::Bytes;
use tokio::time::Instant;

use super::Resp;
use crate::errors::{ApiError, ApiResult};
use crate::json::Q;
use crate::pipeline::Ctx;
use crate::sse;
use crate::state::{App, StreamGuard};

/// Bytes gathered before a chunk is handed to the connection.
const CHUNK: usize = 32 * 1024;

pub fn routes() -> Router<App> {
    Router::new().route("/_emulator/stream", get(stream))
}

type Chunk = Result<Bytes, std::io::Error>;

/// The state of one generated stream.
struct Gen {
    next: u64,
    last: u64,
    size: usize,
    /// `retry:` line sent before the first event.
    preamble: Option<Bytes>,
    /// Events sent on this connection (faults count these).
    sent: usize,
    cut: Option<usize>,
    stall: Option<(usize, Duration)>,
    interval: Duration,
    heartbeat: Duration,
    due: Option<Instant>,
    done: bool,
    _guard: StreamGuard,
}

impl Gen {
    fn push_event(&mut self, buf: &mut Vec<u8>) {
        let n = self.next;
        let _ = write!(buf, "id: {n}\ndata: ");
        let mark = buf.len();
        let _ = write!(buf, "{n}");
        let written = buf.len() - mark;
        if self.size > written {
            buf.resize(buf.len() + self.size - written, b'x');
        }
        buf.extend_from_slice(b"\n\n");
        self.next += 1;
        self.sent += 1;
    }

    /// The next chunk: as many events as fit in [`CHUNK`], or in paced mode
    /// (`interval_ms`) one event or one heartbeat.
    async fn step(mut self) -> Option<(Chunk, Self)> {
        if self.done {
            return None;
        }
        let mut buf = Vec::with_capacity(CHUNK + 64 + self.size);
        if let Some(p) = self.preamble.take() {
            buf.extend_from_slice(&p);
        }
        loop {
            if self.next > self.last {
                // The end marker: without it a client would take the close for a cut.
                buf.extend_from_slice(b"data: [DONE]\n\n");
                self.done = true;
                break;
            }
            if let Some((after, pause)) = self.stall
                && self.sent >= after
            {
                if !buf.is_empty() {
                    break;
                }
                // Silence: no event and no heartbeat for `pause`.
                self.stall = None;
                tokio::time::sleep(pause).await;
                continue;
            }
            if self.cut.is_some_and(|n| self.sent >= n) {
                if !buf.is_empty() {
                    break;
                }
                // Let what was sent reach the client before the connection drops.
                tokio::time::sleep(Duration::from_millis(50)).await;
                self.done = true;
                let cut =
                    std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected stream cut");
                return Some((Err(cut), self));
            }
            if !self.interval.is_zero() {
                if !buf.is_empty() {
                    break;
                }
                if let Some(due) = self.due {
                    let now = Instant::now();
                    if now < due {
                        if self.heartbeat.is_zero() || due - now <= self.heartbeat {
                            tokio::time::sleep_until(due).await;
                        } else {
                            tokio::time::sleep(self.heartbeat).await;
                            return Some((Ok(Bytes::from_static(b": heartbeat\n\n")), self));
                        }
                    }
                }
                self.push_event(&mut buf);
                self.due = Some(Instant::now() + self.interval);
                break;
            }
            self.push_event(&mut buf);
            if buf.len() >= CHUNK {
                break;
            }
        }
        if buf.is_empty() {
            None
        } else {
            Some((Ok(Bytes::from(buf)), self))
        }
    }
}

fn bounded(q: &Q, key: &str, default: i64, max: i64) -> ApiResult<i64> {
    let v = q.int(key)?.unwrap_or(default);
    if !(0..=max).contains(&v) {
        return Err(ApiError::validation(
            key,
            &format!("must be between 0 and {max}"),
        ));
    }
    Ok(v)
}

fn millis(v: i64) -> Duration {
    Duration::from_millis(v.unsigned_abs())
}

/// `?count=N` (100) `&size=B` `&retry_ms=R` `&interval_ms=I` `&heartbeat_ms=H`.
async fn stream(Extension(ctx): Extension<Ctx>, headers: HeaderMap, q: Q) -> Resp {
    let count = bounded(&q, "count", 100, 1_000_000_000)?;
    let size = bounded(&q, "size", 0, 64 * 1024)?;
    let retry = q.int("retry_ms")?;
    if retry.is_some_and(|r| r < 0) {
        return Err(ApiError::validation("retry_ms", "must not be negative"));
    }
    let interval = bounded(&q, "interval_ms", 0, 600_000)?;
    let heartbeat = bounded(&q, "heartbeat_ms", 0, 600_000)?;
    // An id this stream never sent (or garbage) restarts it, as a server would.
    let after: u64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or_else(|| q.str("last_event_id"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if after > 0 && after >= count.unsigned_abs() {
        // Resumed past the last event: 204 tells the client the stream is over.
        return Ok(axum::http::StatusCode::NO_CONTENT.into_response());
    }
    let generator = Gen {
        next: after.saturating_add(1),
        last: count.unsigned_abs(),
        size: usize::try_from(size).unwrap_or(0),
        preamble: retry.map(|r| Bytes::from(format!("retry: {r}\n\n"))),
        sent: 0,
        cut: ctx.cut_after_events,
        stall: ctx.stall,
        interval: millis(interval),
        heartbeat: millis(heartbeat),
        due: None,
        done: false,
        _guard: StreamGuard::new(&ctx.counters),
    };
    let body = futures_util::stream::unfold(generator, Gen::step);
    Ok(sse::sse_response(AxumBody::from_stream(body)))
}
