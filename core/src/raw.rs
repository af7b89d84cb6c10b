//! Raw responses: the status, headers and request id of the HTTP response a
//! call's result came from. Any call run inside [`Client::with_response`]
//! reports the last response it received, whichever language started it.

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::client::Client;
use crate::error::Result;

/// The HTTP response behind a result: status, headers and the server's request id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseMeta {
    /// HTTP status code.
    pub status: u16,
    /// Response headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The `x-request-id` header, when the server sent one.
    pub request_id: Option<String>,
}

impl ResponseMeta {
    pub(crate) fn from_response(response: &reqwest::Response) -> Self {
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                value
                    .to_str()
                    .ok()
                    .map(|v| (name.as_str().to_owned(), v.to_owned()))
            })
            .collect();
        Self {
            status: response.status().as_u16(),
            request_id: request_id_of(response.headers()),
            headers,
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The server's request id header.
pub(crate) fn request_id_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

type Slot = Arc<Mutex<Option<ResponseMeta>>>;

tokio::task_local! {
    static SLOT: Slot;
}

/// Notes `response` as the current call's last response, when a caller asked for it.
pub(crate) fn record(response: &reqwest::Response) {
    let _ = SLOT.try_with(|slot| {
        *slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(ResponseMeta::from_response(response));
    });
}

/// The slot of the calling task, carried into the tasks it spawns.
pub(crate) fn current_slot() -> Option<Slot> {
    SLOT.try_with(Arc::clone).ok()
}

/// Runs `fut` so that its responses are recorded into `slot`.
pub(crate) async fn in_slot<F: Future>(slot: Option<Slot>, fut: F) -> F::Output {
    match slot {
        Some(slot) => SLOT.scope(slot, fut).await,
        None => fut.await,
    }
}

impl Client {
    /// Runs any call of this client (e.g. `client.sandboxes().get(id)`) and
    /// returns its result with the HTTP response it came from; a call made of
    /// several requests reports the last one.
    ///
    /// ```no_run
    /// # async fn demo(client: miosa::Client) -> miosa::Result<()> {
    /// let (sandbox, response) = client.with_response(client.sandboxes().get("sb_1")).await?;
    /// println!("{} {:?} {}", response.status, response.request_id, sandbox.id);
    /// # Ok(()) }
    /// ```
    pub async fn with_response<T, F>(&self, call: F) -> Result<(T, ResponseMeta)>
    where
        F: Future<Output = Result<T>>,
    {
        let slot: Slot = Arc::default();
        let value = SLOT.scope(Arc::clone(&slot), call).await?;
        let meta = slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .unwrap_or_default();
        Ok((value, meta))
    }
}
