//! The `Client` object: construction, per-call options, and the free-form
//! requests the table does not cover. The namespace accessors and the root
//! operations are generated (`generated.rs`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::convert::json_object;
use crate::errors::{MiosaError, invalid};

/// Options of a new client; every field is optional and defaults to the core's value.
#[derive(Clone, Default, PartialEq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct ClientOptions {
    /// API root, e.g. a white-label proxy or a local emulator (default `https://api.miosa.ai/api/v1`).
    #[uniffi(default = None)]
    pub base_url: Option<String>,
    /// Connect timeout in milliseconds (default 30 000).
    #[uniffi(default = None)]
    pub timeout_ms: Option<i64>,
    /// Per-attempt receive timeout in milliseconds (default 60 000); also the SSE idle timeout.
    #[uniffi(default = None)]
    pub receive_timeout_ms: Option<i64>,
    /// Deadline of a whole call including retries, in milliseconds (default none).
    #[uniffi(default = None)]
    pub operation_timeout_ms: Option<i64>,
    /// Retry transient failures (429, 5xx, timeouts, resets) with backoff (default false).
    #[uniffi(default = None)]
    pub retry: Option<bool>,
    /// Attempts in all when retrying (default 3). Setting it, or a delay, turns retries on unless `retry` is false.
    #[uniffi(default = None)]
    pub max_attempts: Option<i32>,
    /// First backoff delay in milliseconds (default 500).
    #[uniffi(default = None)]
    pub base_delay_ms: Option<i64>,
    /// Longest backoff delay in milliseconds (default 30 000).
    #[uniffi(default = None)]
    pub max_delay_ms: Option<i64>,
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
    pub headers: Option<HashMap<String, String>>,
    /// Extra query parameters, as a JSON object.
    #[uniffi(default = None)]
    pub query: Option<String>,
    /// Extra JSON body fields, as a JSON object (merged over the call's own).
    #[uniffi(default = None)]
    pub body: Option<String>,
    /// Per-attempt timeout in milliseconds, replacing the client's receive timeout.
    #[uniffi(default = None)]
    pub timeout_ms: Option<i64>,
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
            .field("base_url", &self.base_url)
            .field("timeout_ms", &self.timeout_ms)
            .field("receive_timeout_ms", &self.receive_timeout_ms)
            .field("operation_timeout_ms", &self.operation_timeout_ms)
            .field("retry", &self.retry)
            .field("max_attempts", &self.max_attempts)
            .field("base_delay_ms", &self.base_delay_ms)
            .field("max_delay_ms", &self.max_delay_ms)
            .field("header_names", &header_names(&self.headers))
            .finish()
    }
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("header_names", &header_names(&self.headers))
            .field("query", &self.query)
            .field("body", &self.body)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// What every namespace object holds: the core client (which, for clients
/// made with `with_cancellation`, carries the token that cancels their calls).
#[derive(Debug, Clone)]
pub(crate) struct Handle {
    pub(crate) client: mcore::Client,
}

impl Handle {
    fn new(client: mcore::Client) -> Self {
        Self { client }
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
/// `toString()`/`description` never shows the API key.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Debug)]
pub struct Client {
    pub(crate) inner: Handle,
}

#[uniffi::export]
impl Client {
    /// A client for `api_key` (must start with `msk_`), with optional settings.
    #[uniffi::constructor(default(options = None))]
    pub fn new(api_key: String, options: Option<ClientOptions>) -> Result<Arc<Self>, MiosaError> {
        let options = options.unwrap_or_default();
        let mut builder = mcore::Client::builder(api_key);
        if let Some(url) = options.base_url {
            builder = builder.base_url(url);
        }
        if let Some(d) = millis("timeout_ms", options.timeout_ms)? {
            builder = builder.timeout(d);
        }
        if let Some(d) = millis("receive_timeout_ms", options.receive_timeout_ms)? {
            builder = builder.receive_timeout(d);
        }
        if let Some(d) = millis("operation_timeout_ms", options.operation_timeout_ms)? {
            builder = builder.operation_timeout(d);
        }
        let base_delay = millis("base_delay_ms", options.base_delay_ms)?;
        let max_delay = millis("max_delay_ms", options.max_delay_ms)?;
        let tuned = options.max_attempts.is_some() || base_delay.is_some() || max_delay.is_some();
        if options.retry == Some(false) {
            builder = builder.retry(false);
        } else if tuned {
            let defaults = mcore::RetryPolicy::default();
            let max_attempts = match options.max_attempts {
                Some(n) => {
                    u32::try_from(n).map_err(|_| invalid("max_attempts must not be negative"))?
                }
                None => defaults.max_attempts,
            };
            builder = builder.retry_policy(mcore::RetryPolicy {
                max_attempts,
                base_delay: base_delay.unwrap_or(defaults.base_delay),
                max_delay: max_delay.unwrap_or(defaults.max_delay),
            });
        } else if let Some(retry) = options.retry {
            builder = builder.retry(retry);
        }
        let mut headers: Vec<_> = options.headers.unwrap_or_default().into_iter().collect();
        headers.sort();
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        Ok(Arc::new(Self {
            inner: Handle::new(builder.build()?),
        }))
    }

    /// A client from `MIOSA_API_KEY` and, when set, `MIOSA_BASE_URL`.
    #[uniffi::constructor]
    pub fn from_env() -> Result<Arc<Self>, MiosaError> {
        Ok(Arc::new(Self {
            inner: Handle::new(mcore::Client::from_env()?),
        }))
    }

    /// A client sharing this one's connections whose calls all carry `options`.
    pub fn with_options(&self, options: RequestOptions) -> Result<Arc<Self>, MiosaError> {
        let mut core_options = mcore::RequestOptions::new();
        let mut headers: Vec<_> = options.headers.unwrap_or_default().into_iter().collect();
        headers.sort();
        core_options.headers = headers;
        core_options.query = optional_object("query", options.query)?;
        core_options.body = optional_object("body", options.body)?;
        core_options.timeout = millis("timeout_ms", options.timeout_ms)?;
        Ok(Arc::new(Self {
            inner: Handle {
                client: self.inner.client.with_options(core_options)?,
            },
        }))
    }

    /// A client sharing this one's connections whose calls, streams and pagers
    /// end with `MiosaError.Cancelled` once `token` is cancelled.
    pub fn with_cancellation(&self, token: Arc<CancellationToken>) -> Arc<Self> {
        Arc::new(Self {
            inner: Handle {
                client: self.inner.client.with_cancel(token.token.clone()),
            },
        })
    }

    /// The API root this client talks to.
    pub fn base_url(&self) -> String {
        self.inner.client.config().base_url().to_owned()
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
        let value = self.inner.client.request_json(method, &path, body).await?;
        Ok(value.to_string())
    }

    /// Downloads the raw bytes of any path of the API.
    pub async fn request_bytes(&self, path: String) -> Result<Vec<u8>, MiosaError> {
        let bytes = self.inner.client.request_bytes(&path).await?;
        Ok(bytes.to_vec())
    }
}

/// A duration given in milliseconds; negative values are refused.
fn millis(name: &str, value: Option<i64>) -> Result<Option<Duration>, MiosaError> {
    value
        .map(|ms| {
            u64::try_from(ms)
                .map(Duration::from_millis)
                .map_err(|_| invalid(format!("{name} must not be negative")))
        })
        .transpose()
}

fn optional_object(name: &str, text: Option<String>) -> Result<Map<String, Value>, MiosaError> {
    match text {
        Some(text) => json_object(name, &text),
        None => Ok(Map::new()),
    }
}
