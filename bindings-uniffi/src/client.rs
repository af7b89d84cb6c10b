//! The `Client` object: construction, per-call options, and the free-form
//! requests the table does not cover. The namespace accessors and the root
//! operations are generated (`generated.rs`).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use mcore::{Dialect, Input};

use crate::errors::{MiosaError, invalid, usage};

/// Settings of a new client; every field is optional and defaults to the core's
/// value. Every value is checked by the core, as in every other language: a bad
/// one is `MiosaException.InvalidArgument` naming it.
#[derive(Clone, Default, PartialEq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct ClientOptions {
    /// API root (default `MIOSA_BASE_URL`, else `https://api.miosa.ai/api/v1`). Plain
    /// http only to this machine unless `allow_insecure_http`.
    #[uniffi(default = None)]
    pub base_url: Option<String>,
    /// Time to connect (default 30 s).
    #[uniffi(default = None)]
    pub connect_timeout: Option<Duration>,
    /// Limit on one whole attempt, and the idle limit of streams (default 60 s).
    #[uniffi(default = None)]
    pub timeout: Option<Duration>,
    /// Limit on a whole call including retries and waits (default none).
    #[uniffi(default = None)]
    pub operation_timeout: Option<Duration>,
    /// Retries after a failed attempt (default 2; 0 turns retries off).
    #[uniffi(default = None)]
    pub max_retries: Option<i32>,
    /// First backoff ceiling (default 0.5 s).
    #[uniffi(default = None)]
    pub retry_base_delay: Option<Duration>,
    /// Longest backoff wait (default 30 s).
    #[uniffi(default = None)]
    pub retry_max_delay: Option<Duration>,
    /// Largest buffered JSON response body in bytes (default 64 MiB).
    #[uniffi(default = None)]
    pub max_response_bytes: Option<i64>,
    /// Largest buffered download in bytes (default 1 GiB).
    #[uniffi(default = None)]
    pub max_download_bytes: Option<i64>,
    /// Largest SSE line or event in bytes (default 16 MiB).
    #[uniffi(default = None)]
    pub max_event_bytes: Option<i64>,
    /// Allows plain http to a host other than this machine.
    #[uniffi(default = None)]
    pub allow_insecure_http: Option<bool>,
    /// Headers sent on every request (e.g. `x-tenant-id` for white-label proxies).
    #[uniffi(default = None)]
    pub headers: Option<HashMap<String, String>>,
}

/// Per-call additions: extra headers, query and body fields (JSON object text), a timeout.
#[derive(Clone, Default, PartialEq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct RequestOptions {
    /// Extra request headers.
    #[uniffi(default = None)]
    pub extra_headers: Option<HashMap<String, String>>,
    /// Extra query parameters, as a JSON object.
    #[uniffi(default = None)]
    pub extra_query: Option<String>,
    /// Extra JSON body fields, as a JSON object merged over the call's own; a
    /// `null` there is sent as JSON `null`.
    #[uniffi(default = None)]
    pub extra_body: Option<String>,
    /// Per-attempt timeout, replacing the client's `timeout`.
    #[uniffi(default = None)]
    pub timeout: Option<Duration>,
    /// Largest buffered response body of these calls in bytes.
    #[uniffi(default = None)]
    pub max_response_bytes: Option<i64>,
}

fn seconds(d: Duration) -> Input {
    Input::Float(d.as_secs_f64())
}

fn headers_input(headers: Option<HashMap<String, String>>) -> Option<Input> {
    headers.map(|h| {
        let mut entries: Vec<_> = h.into_iter().map(|(k, v)| (k, Input::Str(v))).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Input::Map(entries)
    })
}

fn json_input(name: &str, text: Option<String>) -> Result<Option<Input>, MiosaError> {
    text.map(|t| crate::convert::json_value(name, &t).map(|v| Input::from_tagged_json(&v)))
        .transpose()
}

/// Only the given fields, under the names the core knows.
fn input_of(entries: Vec<(&str, Option<Input>)>) -> Input {
    Input::Map(
        entries
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
            .collect(),
    )
}

impl ClientOptions {
    fn to_input(&self, api_key: Option<String>) -> Input {
        let count = |n: Option<i64>| n.map(|n| Input::Int(n.into()));
        input_of(vec![
            ("apiKey", api_key.map(Input::Str)),
            ("baseUrl", self.base_url.clone().map(Input::Str)),
            ("connectTimeout", self.connect_timeout.map(seconds)),
            ("timeout", self.timeout.map(seconds)),
            ("operationTimeout", self.operation_timeout.map(seconds)),
            ("maxRetries", count(self.max_retries.map(i64::from))),
            ("retryBaseDelay", self.retry_base_delay.map(seconds)),
            ("retryMaxDelay", self.retry_max_delay.map(seconds)),
            ("maxResponseBytes", count(self.max_response_bytes)),
            ("maxDownloadBytes", count(self.max_download_bytes)),
            ("maxEventBytes", count(self.max_event_bytes)),
            (
                "allowInsecureHttp",
                self.allow_insecure_http.map(Input::Bool),
            ),
            ("headers", headers_input(self.headers.clone())),
        ])
    }
}

impl RequestOptions {
    fn to_core(&self) -> Result<mcore::RequestOptions, MiosaError> {
        let input = input_of(vec![
            ("extraHeaders", headers_input(self.extra_headers.clone())),
            (
                "extraQuery",
                json_input("extraQuery", self.extra_query.clone())?,
            ),
            (
                "extraBody",
                json_input("extraBody", self.extra_body.clone())?,
            ),
            ("timeout", self.timeout.map(seconds)),
            (
                "maxResponseBytes",
                self.max_response_bytes.map(|n| Input::Int(n.into())),
            ),
        ]);
        Ok(mcore::RequestOptions::from_input(
            &input,
            Dialect::CAMEL_SECONDS,
        )?)
    }
}

/// Header values may be credentials: `toString()`/`description` show names only.
fn header_names(headers: &Option<HashMap<String, String>>) -> Vec<&str> {
    let mut names: Vec<&str> = headers
        .iter()
        .flat_map(|h| h.keys().map(String::as_str))
        .collect();
    names.sort_unstable();
    names
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field(
                "base_url",
                &self.base_url.as_deref().map(mcore::redact::url),
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("retry_max_delay", &self.retry_max_delay)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_download_bytes", &self.max_download_bytes)
            .field("max_event_bytes", &self.max_event_bytes)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("header_names", &header_names(&self.headers))
            .finish()
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("header_names", &header_names(&self.extra_headers))
            .field("extra_query", &self.extra_query)
            .field("extra_body", &self.extra_body)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

/// What every namespace object holds: a slot shared with its `Client` that the
/// client empties when it is closed, so a namespace object that the garbage
/// collector has not reached yet keeps no runtime, thread or socket alive.
#[derive(Clone)]
pub(crate) struct Handle {
    slot: Arc<RwLock<Option<mcore::Client>>>,
    /// Where the calls of a `Client.recordingResponses` client note their HTTP response.
    recorder: Option<Arc<crate::observe::ResponseRecorder>>,
}

impl Handle {
    fn new(client: mcore::Client) -> Self {
        Self {
            slot: Arc::new(RwLock::new(Some(client))),
            recorder: None,
        }
    }

    pub(crate) fn recorder(&self) -> Option<&Arc<crate::observe::ResponseRecorder>> {
        self.recorder.as_ref()
    }

    /// The core client (for clients made with `with_cancellation`, the one
    /// carrying the token), or a usage error once its `Client` was closed.
    pub(crate) fn client(&self) -> Result<mcore::Client, MiosaError> {
        let slot = self.slot.read().unwrap_or_else(PoisonError::into_inner);
        slot.clone().ok_or_else(|| usage("the client was closed"))
    }

    fn release(&self) {
        let mut slot = self.slot.write().unwrap_or_else(PoisonError::into_inner);
        slot.take();
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handle")
    }
}

/// Cancels the calls of the clients derived from it with `Client.withCancellation`.
///
/// Swift needs it: UniFFI's Swift futures ignore Task cancellation, so
/// `Client.cancellable { }` (Extensions.swift) cancels this token from a Task
/// cancellation handler. Kotlin coroutines cancel calls without it.
#[derive(Debug, uniffi::Object)]
pub struct CancellationToken {
    token: mcore::CancelToken,
}

#[uniffi::export]
impl CancellationToken {
    /// A token that is not cancelled yet.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            token: mcore::CancelToken::new(),
        })
    }

    /// Cancels every call in flight through the token's clients, and every later one.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether `cancel()` was called.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// A MIOSA API client. Cheap to share between coroutines/tasks: every call runs
/// on the client's own runtime, so it can be awaited from any dispatcher or actor.
/// `toString()`/`description` shows the base URL only, never the API key.
#[derive(uniffi::Object)]
#[uniffi::export(Debug)]
pub struct Client {
    core: mcore::Client,
    pub(crate) inner: Handle,
}

impl Client {
    fn wrap(core: mcore::Client) -> Arc<Self> {
        Arc::new(Self {
            inner: Handle::new(core.clone()),
            core,
        })
    }

    /// A client sharing this one's connections whose calls note their HTTP response in `recorder`.
    pub(crate) fn recording(&self, recorder: Arc<crate::observe::ResponseRecorder>) -> Arc<Self> {
        let mut inner = Handle::new(self.core.clone());
        inner.recorder = Some(recorder);
        Arc::new(Self {
            inner,
            core: self.core.clone(),
        })
    }

    /// The core client behind this one.
    pub(crate) fn core(&self) -> &mcore::Client {
        &self.core
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Client(baseUrl={})", self.base_url())
    }
}

/// Closing the foreign object frees the core client at once, even while
/// namespace objects taken from it still wait for the garbage collector.
impl Drop for Client {
    fn drop(&mut self) {
        self.inner.release();
    }
}

#[uniffi::export]
impl Client {
    /// A client for `api_key` (must start with `msk_`; `null`/`nil` reads
    /// `MIOSA_API_KEY`), with optional settings; the base URL defaults to
    /// `MIOSA_BASE_URL` when set. An explicit value always wins.
    #[uniffi::constructor(default(api_key = None, options = None))]
    pub fn new(
        api_key: Option<String>,
        options: Option<ClientOptions>,
    ) -> Result<Arc<Self>, MiosaError> {
        let input = options.unwrap_or_default().to_input(api_key);
        let client = mcore::Client::from_input(&input, Dialect::CAMEL_SECONDS)?;
        Ok(Self::wrap(client))
    }

    /// A client from `MIOSA_API_KEY` and, when set, `MIOSA_BASE_URL` (the same as `Client()`).
    #[uniffi::constructor(default(options = None))]
    pub fn from_env(options: Option<ClientOptions>) -> Result<Arc<Self>, MiosaError> {
        Self::new(None, options)
    }

    /// The settings in effect as JSON text (snake_case names, seconds), secrets redacted.
    pub fn settings_json(&self) -> String {
        serde_json::json!({
            "settings": self.core.config().summary(),
            "options": self.core.options().summary(),
        })
        .to_string()
    }

    /// A client sharing this one's connections whose calls all carry `options`.
    pub fn with_options(&self, options: RequestOptions) -> Result<Arc<Self>, MiosaError> {
        Ok(Self::wrap(self.core.with_options(options.to_core()?)?))
    }

    /// A client sharing this one's connections whose calls, streams and pagers
    /// end with `MiosaError.Cancelled` once `token` is cancelled.
    pub fn with_cancellation(&self, token: Arc<CancellationToken>) -> Arc<Self> {
        Self::wrap(self.core.with_cancel(token.token.clone()))
    }

    /// The API root this client talks to.
    pub fn base_url(&self) -> String {
        mcore::redact::url(self.core.config().base_url())
    }

    /// Sends one request to any path of the API and returns the JSON answer
    /// (envelope removed) as text. `method` is GET, POST, PUT, PATCH or DELETE;
    /// `body` is JSON text.
    #[uniffi::method(default(body = None))]
    pub async fn request_json(
        &self,
        method: String,
        path: String,
        body: Option<String>,
    ) -> Result<String, MiosaError> {
        let method = match method.to_ascii_uppercase().as_str() {
            "GET" => mcore::HttpMethod::Get,
            "POST" => mcore::HttpMethod::Post,
            "PUT" => mcore::HttpMethod::Put,
            "PATCH" => mcore::HttpMethod::Patch,
            "DELETE" => mcore::HttpMethod::Delete,
            other => {
                return Err(invalid(format!("unsupported HTTP method `{other}`")));
            }
        };
        let body = body
            .map(|text| crate::convert::json_value("body", &text))
            .transpose()?;
        let value = self.core.request_json(method, &path, body).await?;
        Ok(value.to_string())
    }

    /// Downloads the raw bytes of any path of the API.
    pub async fn request_bytes(&self, path: String) -> Result<Vec<u8>, MiosaError> {
        let bytes = self.core.request_bytes(&path).await?;
        Ok(bytes.to_vec())
    }
}
