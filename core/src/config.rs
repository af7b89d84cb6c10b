//! Client configuration: the seed's `Client.new/2` options, validated once.

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::settings::{Dialect, Input, process_env};

/// Default API root, as in every official SDK.
pub const DEFAULT_BASE_URL: &str = "https://api.miosa.ai/api/v1";
/// Default connect timeout (the seed's `timeout`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit of one attempt, and the idle limit of a stream (the seed's `receive_timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// An API key. Its text never appears in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Validates the `msk_` prefix the platform issues keys with.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        let trimmed = key.trim();
        if trimmed.is_empty() {
            return Err(Error::invalid("the API key is empty"));
        }
        if !trimmed.starts_with("msk_") {
            return Err(Error::invalid(
                "the API key must start with `msk_` (it looks like something else was passed)",
            ));
        }
        if trimmed.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Error::invalid(
                "the API key contains whitespace or control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the prefix class (msk_u_, msk_live_…) is shown: enough to debug, useless to steal.
        let class: String = self.0.chars().take(4).collect();
        write!(f, "ApiKey({class}…redacted)")
    }
}

/// When and how failed attempts are retried. On by default (3 attempts) under
/// the safe policy: never a mutation without an idempotency key, never a quota refusal.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = no retry).
    pub max_attempts: u32,
    /// First backoff ceiling; attempt n waits a uniform random time in `[0, base * 2^(n-1)]`.
    pub base_delay: Duration,
    /// Upper bound of any single wait, including server-requested ones.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// No retries.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Whether any retry can happen.
    pub fn enabled(&self) -> bool {
        self.max_attempts > 1
    }
}

impl Default for RetryPolicy {
    /// 3 attempts (2 retries), 0.5 s base, 30 s cap.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// `Debug` view of extra headers with credential values hidden.
pub(crate) struct RedactedHeaders<'a>(pub(crate) &'a [(String, String)]);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(crate::redact::headers(self.0).iter())
            .finish()
    }
}

/// Default limit of a buffered JSON response body (64 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 << 20;
/// Default limit of a buffered binary download (1 GiB).
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 1 << 30;
/// Default limit of one SSE line or event (16 MiB).
pub const DEFAULT_MAX_EVENT_BYTES: u64 = 16 << 20;

/// Everything a client is built from, checked once by [`Config::from_input`].
#[derive(Clone)]
pub struct Config {
    pub(crate) api_key: ApiKey,
    pub(crate) base_url: String,
    /// `base_url` parsed once: a call joins its path to it, since parsing the
    /// host again (IDNA included) was a tenth of a call's CPU.
    pub(crate) base: reqwest::Url,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) operation_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_response_bytes: u64,
    pub(crate) max_download_bytes: u64,
    pub(crate) max_event_bytes: u64,
    pub(crate) allow_insecure_http: bool,
    pub(crate) headers: Vec<(String, String)>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key)
            .field("base_url", &crate::redact::url(&self.base_url))
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_download_bytes", &self.max_download_bytes)
            .field("max_event_bytes", &self.max_event_bytes)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("headers", &RedactedHeaders(&self.headers))
            .finish()
    }
}

impl Config {
    /// Every default, for a key and base URL already checked.
    pub(crate) fn defaults(api_key: ApiKey, (base_url, base): (String, reqwest::Url)) -> Self {
        Self {
            api_key,
            base_url,
            base,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            operation_timeout: None,
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            allow_insecure_http: false,
            headers: Vec::new(),
        }
    }

    /// The API root every path is joined to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// Connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// Limit on one whole attempt (connect, headers and body), and the idle limit of streams.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// Limit on a whole call, all attempts and waits included (`None`: no limit).
    pub fn operation_timeout(&self) -> Option<Duration> {
        self.operation_timeout
    }
    /// Retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }
    /// Largest buffered JSON response body.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }
    /// Largest buffered binary download.
    pub fn max_download_bytes(&self) -> u64 {
        self.max_download_bytes
    }
    /// Largest SSE line or event.
    pub fn max_event_bytes(&self) -> u64 {
        self.max_event_bytes
    }
    /// Whether plain http to a non-loopback host was allowed.
    pub fn allow_insecure_http(&self) -> bool {
        self.allow_insecure_http
    }
    /// Extra headers sent on every request.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
}

/// Builder for [`crate::Client`]: `Client::builder(key).base_url(..).max_retries(0).build()`.
/// It collects plain values and leaves every check to [`Config::from_input`],
/// the same validation every binding goes through.
#[derive(Clone, Default)]
pub struct ClientBuilder {
    settings: Vec<(String, Input)>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Nothing is validated yet, so only the names of the settings are shown.
        let names: Vec<&str> = self.settings.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ClientBuilder")
            .field("settings", &names)
            .finish()
    }
}

fn seconds(duration: Duration) -> Input {
    Input::Float(duration.as_secs_f64())
}

impl ClientBuilder {
    /// A builder for `api_key`.
    pub(crate) fn new(api_key: impl Into<String>) -> Self {
        Self::from_env().set("api_key", Input::Str(api_key.into()))
    }

    /// A builder whose key and base URL default to `MIOSA_API_KEY` and `MIOSA_BASE_URL`.
    pub fn from_env() -> Self {
        Self::default()
    }

    fn set(mut self, name: &str, value: Input) -> Self {
        self.settings.retain(|(k, _)| k != name);
        self.settings.push((name.to_owned(), value));
        self
    }

    /// API root, e.g. a white-label proxy or a local emulator.
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.set("base_url", Input::Str(url.into()))
    }
    /// Connect timeout (default 30 s).
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.set("connect_timeout", seconds(timeout))
    }
    /// Limit on one whole attempt, and the idle limit of streams (default 60 s).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.set("timeout", seconds(timeout))
    }
    /// Limit on a whole call: every attempt and every backoff wait together.
    pub fn operation_timeout(self, timeout: Duration) -> Self {
        self.set("operation_timeout", seconds(timeout))
    }
    /// Retries after the first attempt (default 2; 0 turns retries off).
    pub fn max_retries(self, retries: u32) -> Self {
        self.set("max_retries", Input::Int(retries.into()))
    }
    /// A whole retry policy: attempts, backoff base and cap.
    pub fn retry_policy(self, policy: RetryPolicy) -> Self {
        self.set(
            "max_retries",
            Input::Int(i128::from(policy.max_attempts) - 1),
        )
        .set("retry_base_delay", seconds(policy.base_delay))
        .set("retry_max_delay", seconds(policy.max_delay))
    }
    /// Largest buffered JSON response body (default 64 MiB).
    pub fn max_response_bytes(self, bytes: u64) -> Self {
        self.set("max_response_bytes", Input::Int(bytes.into()))
    }
    /// Largest buffered binary download (default 1 GiB).
    pub fn max_download_bytes(self, bytes: u64) -> Self {
        self.set("max_download_bytes", Input::Int(bytes.into()))
    }
    /// Largest SSE line or event (default 16 MiB).
    pub fn max_event_bytes(self, bytes: u64) -> Self {
        self.set("max_event_bytes", Input::Int(bytes.into()))
    }
    /// Allows a plain `http://` base URL to a host other than this machine.
    pub fn allow_insecure_http(self, allow: bool) -> Self {
        self.set("allow_insecure_http", Input::Bool(allow))
    }
    /// A header sent on every request (e.g. `x-tenant-id` for white-label proxies).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let entry = (name.into(), Input::Str(value.into()));
        match self.settings.iter_mut().find(|(k, _)| k == "headers") {
            Some((_, Input::Map(headers))) => headers.push(entry),
            _ => self
                .settings
                .push(("headers".to_owned(), Input::Map(vec![entry]))),
        }
        self
    }

    pub(crate) fn into_config(self) -> Result<Config> {
        Config::from_input(
            &Input::Map(self.settings),
            Dialect::SNAKE_SECONDS,
            &process_env,
        )
    }

    /// Builds the client: its runtime and connection pool.
    pub fn build(self) -> Result<crate::Client> {
        crate::Client::from_config(self.into_config()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_start_with_msk() {
        assert!(ApiKey::new("msk_u_abc").is_ok());
        let err = ApiKey::new("sk_invalid_key").expect_err("refused");
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
        assert!(!err.to_string().contains("sk_invalid_key"));
        assert!(ApiKey::new("").is_err());
        assert!(ApiKey::new("msk_a b").is_err());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new("msk_live_supersecret123").expect("valid");
        let shown = format!("{key:?}");
        assert!(!shown.contains("supersecret"), "{shown}");
        let builder = ClientBuilder::new("msk_live_supersecret123")
            .header("x-tenant-token", "tok_supersecret456")
            .header("x-tenant-id", "ten_visible");
        assert!(
            !format!("{builder:?}").contains("supersecret"),
            "{builder:?}"
        );
        let config = builder.into_config().expect("valid");
        let shown = format!("{config:?}");
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(shown.contains("ten_visible"), "{shown}");
    }

    #[test]
    fn base_url_is_trimmed_and_checked() {
        let config = ClientBuilder::new("msk_u_x")
            .base_url("http://127.0.0.1:9/api/v1/")
            .into_config()
            .expect("valid");
        assert_eq!(config.base_url(), "http://127.0.0.1:9/api/v1");
        assert!(
            ClientBuilder::new("msk_u_x")
                .base_url("ftp://x")
                .into_config()
                .is_err()
        );
    }
}
