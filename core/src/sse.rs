//! Server-sent events, parsed by the WHATWG EventSource rules: LF, CR and CRLF
//! line ends (also split across chunks), multi-line `data` joined with `\n`,
//! one leading space removed after the colon, `event`/`id`/`retry` fields,
//! comments as heartbeats, a leading BOM, and pending data dropped at the end.

use serde::{Deserialize, Serialize};

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The event type; `message` when the server sent no `event:` field.
    pub event: String,
    /// The data lines joined with `\n`.
    pub data: String,
    /// The last event id seen on the stream (ids persist across events), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The reconnection delay the server asked for, in milliseconds, if it sent one with this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u64>,
}

impl Event {
    /// Whether this is the `data: [DONE]` sentinel that ends OpenAI-style streams.
    pub fn is_done_sentinel(&self) -> bool {
        self.data == "[DONE]"
    }

    /// Parses `data` as JSON.
    pub fn json(&self) -> crate::Result<serde_json::Value> {
        serde_json::from_str(&self.data)
            .map_err(|e| crate::Error::decode(format!("event data is not JSON: {e}")))
    }
}

/// Incremental parser: feed it bytes as they arrive, collect events.
///
/// With a limit ([`SseParser::with_limit`]), a line or an event's data longer
/// than the limit stops the parser ([`SseParser::exceeded`]): memory stays
/// bounded whatever the server sends.
#[derive(Debug)]
pub struct SseParser {
    line: Vec<u8>,
    data: String,
    has_data: bool,
    event_type: String,
    last_event_id: String,
    retry: Option<u64>,
    seen_first_bytes: bool,
    after_cr: bool,
    comments: u64,
    limit: usize,
    exceeded: bool,
}

impl Default for SseParser {
    fn default() -> Self {
        Self {
            line: Vec::new(),
            data: String::new(),
            has_data: false,
            event_type: String::new(),
            last_event_id: String::new(),
            retry: None,
            seen_first_bytes: false,
            after_cr: false,
            comments: 0,
            limit: usize::MAX,
            exceeded: false,
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser that resumes after a reconnect: the last event id carries over.
    pub fn resuming(last_event_id: Option<String>) -> Self {
        Self {
            last_event_id: last_event_id.unwrap_or_default(),
            ..Self::default()
        }
    }

    /// A parser that stops once a line or an event's data exceeds `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        Self::new().limited(limit)
    }

    /// This parser with a size limit on lines and events.
    pub fn limited(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The size limit on one line or event.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether a line or event went over the limit; the parser then ignores further input.
    pub fn exceeded(&self) -> bool {
        self.exceeded
    }

    /// The id of the last event (what `Last-Event-ID` should carry on reconnect).
    pub fn last_event_id(&self) -> Option<&str> {
        (!self.last_event_id.is_empty()).then_some(self.last_event_id.as_str())
    }

    /// The reconnection delay last requested by the server, in milliseconds.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry
    }

    /// How many comment lines (heartbeats) have been seen.
    pub fn comments(&self) -> u64 {
        self.comments
    }

    /// Feeds a chunk; complete events are appended to `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<Event>) {
        if self.exceeded {
            return;
        }
        if !self.seen_first_bytes {
            // The BOM may itself arrive split across chunks.
            let pending = self.line.len();
            let needed = BOM.len() - pending;
            let take = needed.min(chunk.len());
            if BOM[pending..pending + take] == chunk[..take] {
                self.line.extend_from_slice(&chunk[..take]);
                chunk = &chunk[take..];
                if self.line.len() < BOM.len() {
                    return;
                }
                self.line.clear();
            } else {
                // Not a BOM after all: what was held back is ordinary text.
            }
            self.seen_first_bytes = true;
        }
        // Whole lines are found with one scan and parsed straight from the chunk;
        // only a line split across chunks is copied into `self.line`.
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.after_cr {
                // The LF of a CRLF pair, possibly the first byte of the next chunk.
                self.after_cr = false;
                if rest[0] == b'\n' {
                    rest = &rest[1..];
                    continue;
                }
            }
            let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
                if self.line.len().saturating_add(rest.len()) > self.limit {
                    self.stop();
                    return;
                }
                self.line.extend_from_slice(rest);
                break;
            };
            if self.line.len().saturating_add(end) > self.limit {
                self.stop();
                return;
            }
            self.after_cr = rest[end] == b'\r';
            if self.line.is_empty() {
                self.process_line(&rest[..end], out);
            } else {
                self.line.extend_from_slice(&rest[..end]);
                let mut line = std::mem::take(&mut self.line);
                self.process_line(&line, out);
                line.clear();
                self.line = line;
            }
            if self.exceeded {
                return;
            }
            rest = &rest[end + 1..];
        }
    }

    /// Gives up on the stream: what was buffered is freed at once.
    fn stop(&mut self) {
        self.exceeded = true;
        self.line = Vec::new();
        self.data = String::new();
        self.has_data = false;
    }

    /// Ends the stream: a trailing event without its blank line is discarded, as the spec says.
    pub fn finish(&mut self) {
        self.line.clear();
        self.data.clear();
        self.has_data = false;
        self.event_type.clear();
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<Event>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            self.comments += 1;
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&value);
            }
            b"data" => {
                if self
                    .data
                    .len()
                    .saturating_add(value.len())
                    .saturating_add(1)
                    > self.limit
                {
                    self.stop();
                    return;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"id" if !value.contains('\0') => {
                self.last_event_id.clear();
                self.last_event_id.push_str(&value);
            }
            b"retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Event>) {
        let event_type = std::mem::take(&mut self.event_type);
        if !self.has_data {
            return;
        }
        self.has_data = false;
        out.push(Event {
            event: if event_type.is_empty() {
                "message".to_owned()
            } else {
                event_type
            },
            data: std::mem::take(&mut self.data),
            id: self.last_event_id().map(str::to_owned),
            retry: self.retry,
        });
    }
}

/// Parses a whole stream given as chunks; used by tests and by bindings to run the shared vectors.
pub fn parse_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Event> {
    let mut parser = SseParser::new();
    let mut out = Vec::new();
    for chunk in chunks {
        parser.feed(chunk, &mut out);
    }
    parser.finish();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(input: &str) -> Vec<(String, String)> {
        parse_chunks([input.as_bytes()])
            .into_iter()
            .map(|e| (e.event, e.data))
            .collect()
    }

    #[test]
    fn mixed_line_endings() {
        assert_eq!(
            events("data: a\r\n\r\ndata: b\r\rdata: c\n\n"),
            vec![
                ("message".into(), "a".into()),
                ("message".into(), "b".into()),
                ("message".into(), "c".into())
            ]
        );
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_end() {
        let out = parse_chunks([&b"data: a\r"[..], b"\n\r", b"\ndata: b\n\n"]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].data, "a");
    }

    #[test]
    fn a_line_or_event_over_the_limit_stops_the_parser() {
        let mut parser = SseParser::with_limit(16);
        let mut out = Vec::new();
        parser.feed(b"data: short\n\n", &mut out);
        assert_eq!(out.len(), 1);
        // A line that never ends, fed in pieces.
        for _ in 0..10 {
            parser.feed(b"data: xxxxxx", &mut out);
        }
        assert!(parser.exceeded());
        assert_eq!(out.len(), 1);
        // An event whose data lines each fit but together do not.
        let mut parser = SseParser::with_limit(16);
        parser.feed(b"data: 0123456789\ndata: 0123456789\n\n", &mut out);
        assert!(parser.exceeded());
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn bom_split_across_chunks() {
        let out = parse_chunks([&b"\xEF"[..], b"\xBB", b"\xBFdata: x\n\n"]);
        assert_eq!(out[0].data, "x");
    }
}
