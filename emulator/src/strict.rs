//! Strict mode: which keys a request sent and which of them its route read.
//!
//! The pipeline notes the top-level keys of a JSON object body and the query
//! keys; the body and query readers note every key a route asks for. In
//! strict mode a successful answer whose request carried a key that no
//! reader asked for becomes 422 naming that key, so a client sending a field
//! the API does not take learns it at once instead of seeing it ignored.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::errors::ApiError;
use crate::state::lock;

#[derive(Debug)]
pub struct Tracker {
    strict: bool,
    sent_body: Vec<String>,
    sent_query: Vec<String>,
    read: Mutex<Reads>,
}

#[derive(Debug, Default)]
struct Reads {
    body: BTreeSet<String>,
    query: BTreeSet<String>,
}

impl Tracker {
    /// The keys of this request; `json_body` is the body when it is JSON.
    pub fn new(strict: bool, uri: &Uri, json_body: Option<&[u8]>) -> Arc<Self> {
        let sent_body = json_body
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .and_then(|v| match v {
                Value::Object(m) => Some(m.keys().cloned().collect()),
                _ => None,
            })
            .unwrap_or_default();
        let mut sent_query: Vec<String> =
            axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
                .map(|q| {
                    q.0.into_iter()
                        .map(|(k, _)| k.strip_suffix("[]").map_or(k.clone(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
        sent_query.dedup();
        Arc::new(Self {
            strict,
            sent_body,
            sent_query,
            read: Mutex::new(Reads::default()),
        })
    }

    pub fn strict(&self) -> bool {
        self.strict
    }

    pub fn read_body(&self, key: &str) {
        lock(&self.read).body.insert(key.to_owned());
    }

    pub fn read_query(&self, key: &str) {
        lock(&self.read).query.insert(key.to_owned());
    }

    /// The first key sent that the route never read, body before query.
    fn unread(&self) -> Option<(&'static str, &str)> {
        let read = lock(&self.read);
        self.sent_body
            .iter()
            .find(|k| !read.body.contains(k.as_str()))
            .map(|k| ("body", k.as_str()))
            .or_else(|| {
                self.sent_query
                    .iter()
                    .find(|k| !read.query.contains(k.as_str()))
                    .map(|k| ("query", k.as_str()))
            })
    }
}

/// In strict mode, turns a successful answer into 422 when the request
/// carried a key its route does not take.
pub fn verdict(tracker: Option<&Arc<Tracker>>, resp: Response) -> Response {
    let Some(t) = tracker.filter(|t| t.strict) else {
        return resp;
    };
    // A WebSocket upgrade (101) is a success too: refused before the socket opens.
    let upgrade = resp.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS;
    if !resp.status().is_success() && !upgrade {
        return resp;
    }
    match t.unread() {
        None => resp,
        Some((place, key)) => ApiError::validation(
            key,
            &format!("is not a {place} parameter of this call (strict mode)"),
        )
        .into_response(),
    }
}
