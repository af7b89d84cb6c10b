//! Server-sent events: frames written by a task into a channel that feeds
//! the response body, so each stream is plain imperative code.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::pipeline::Ctx;
use crate::state::StreamGuard;

type Chunk = Result<Bytes, std::io::Error>;

/// The sending side of one SSE response.
#[derive(Debug)]
pub struct Sse {
    tx: mpsc::Sender<Chunk>,
    /// Injected fault: drop the connection after this many events.
    cut_after: Option<usize>,
    /// Injected fault: after this many events, send nothing (no heartbeats
    /// either) for this long.
    stall: Option<(usize, std::time::Duration)>,
    sent: usize,
}

/// Opens an SSE response; the caller spawns a task that writes into `Sse`.
pub fn open(ctx: Option<&Ctx>) -> (Sse, Response) {
    let (tx, rx) = mpsc::channel::<Chunk>(64);
    // The guard lives in the body: hyper drops it when the stream ends or
    // the client closes the connection.
    let guard = ctx.map(|c| StreamGuard::new(&c.counters));
    let stream = futures_util::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        rx.recv().await.map(|chunk| (chunk, (rx, guard)))
    });
    let resp = sse_response(Body::from_stream(stream));
    let sse = Sse {
        tx,
        cut_after: ctx.and_then(|c| c.cut_after_events),
        stall: ctx.and_then(|c| c.stall),
        sent: 0,
    };
    (sse, resp)
}

/// A response with the SSE headers around `body`.
pub fn sse_response(body: Body) -> Response {
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// One event in wire form; multi-line data becomes several `data:` lines.
pub fn frame(event: Option<&str>, id: Option<&str>, data: &str) -> String {
    let mut out = String::new();
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(id);
        out.push('\n');
    }
    if let Some(ev) = event {
        out.push_str("event: ");
        out.push_str(ev);
        out.push('\n');
    }
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

impl Sse {
    /// Sends one event; false when the client is gone or a cut was injected.
    pub async fn event(&mut self, event: Option<&str>, id: Option<&str>, data: &str) -> bool {
        if let Some((after, pause)) = self.stall
            && self.sent >= after
        {
            self.stall = None;
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = self.tx.closed() => return false,
            }
        }
        if self.cut_after.is_some_and(|n| self.sent >= n) {
            // Let what was sent reach the client before the connection drops.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let _ = self
                .tx
                .send(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected stream cut",
                )))
                .await;
            return false;
        }
        self.sent += 1;
        self.send(frame(event, id, data)).await
    }

    /// Sends a `: comment` line (heartbeat).
    pub async fn comment(&mut self, text: &str) -> bool {
        self.send(format!(": {text}\n\n")).await
    }

    async fn send(&mut self, text: String) -> bool {
        self.tx.send(Ok(Bytes::from(text))).await.is_ok()
    }

    /// True once the client has gone away.
    pub fn closed(&self) -> bool {
        self.tx.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::frame;

    #[test]
    fn frames_multiline_data() {
        assert_eq!(
            frame(Some("ready"), Some("3"), "a\nb"),
            "id: 3\nevent: ready\ndata: a\ndata: b\n\n"
        );
        assert_eq!(frame(None, None, "[DONE]"), "data: [DONE]\n\n");
    }
}
