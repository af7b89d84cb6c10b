//! Client configuration: the seed's `Client.new/2` options, validated once.

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};

/// Default API root, as in every official SDK.
pub const DEFAULT_BASE_URL: &str = "https://api.miosa.ai/api/v1";
/// Default connect timeout (the seed's `timeout`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit on one whole attempt (connect, headers and body), and the
/// idle limit between stream events (the seed's `receive_timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on a buffered JSON response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 << 20;
/// Default cap on a buffered binary download.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 1 << 30;
/// Default cap on one SSE line or event.
pub const DEFAULT_MAX_EVENT_BYTES: u64 = 16 << 20;

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

/// When and how failed attempts are retried. Off by default, as in the seed.
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
    /// The policy `retry: true` selects: 3 attempts, 0.5 s base, 30 s cap.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Whether a header's value is a credential (never printed by `Debug`).
pub(crate) fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || ["token", "secret", "key", "password", "signature", "auth"]
        .iter()
        .any(|word| name.contains(word))
}

/// `Debug` view of extra headers with credential values hidden.
pub(crate) struct RedactedHeaders<'a>(pub(crate) &'a [(String, String)]);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in self.0 {
            if is_secret_header(name) {
                list.entry(&(name, "<redacted>"));
            } else {
                list.entry(&(name, value));
            }
        }
        list.finish()
    }
}

/// Everything a client is built from.
#[derive(Clone)]
pub struct Config {
    pub(crate) api_key: ApiKey,
    pub(crate) base_url: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) operation_timeout: Option<Duration>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) max_response_bytes: u64,
    pub(crate) max_download_bytes: u64,
    pub(crate) max_event_bytes: u64,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("operation_timeout", &self.operation_timeout)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_download_bytes", &self.max_download_bytes)
            .field("max_event_bytes", &self.max_event_bytes)
            .finish()
    }
}

impl Config {
    /// The API root every path is joined to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// Connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// Limit on one whole attempt (connect, headers and body), and the idle
    /// limit between the events of a stream.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// Retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }
    /// Limit on a whole call, all attempts and waits included (`None`: no limit).
    pub fn operation_timeout(&self) -> Option<Duration> {
        self.operation_timeout
    }
    /// Extra headers sent on every request.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }
    /// Cap on a buffered JSON response body, in bytes.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }
    /// Cap on a buffered binary download, in bytes.
    pub fn max_download_bytes(&self) -> u64 {
        self.max_download_bytes
    }
    /// Cap on one SSE line or event, in bytes.
    pub fn max_event_bytes(&self) -> u64 {
        self.max_event_bytes
    }
}

/// Builder for [`crate::Client`]: `Client::builder(key).base_url(..).retry(true).build()`.
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: String,
    base_url: Option<String>,
    connect_timeout: Duration,
    receive_timeout: Duration,
    retry: RetryPolicy,
    operation_timeout: Option<Duration>,
    headers: Vec<(String, String)>,
    max_response_bytes: u64,
    max_download_bytes: u64,
    max_event_bytes: u64,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key is not validated yet, so not even its prefix is shown.
        f.debug_struct("ClientBuilder")
            .field("api_key", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("receive_timeout", &self.receive_timeout)
            .field("retry", &self.retry)
            .field("operation_timeout", &self.operation_timeout)
            .field("headers", &RedactedHeaders(&self.headers))
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_download_bytes", &self.max_download_bytes)
            .field("max_event_bytes", &self.max_event_bytes)
            .finish()
    }
}

impl ClientBuilder {
    pub(crate) fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            base_url: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            receive_timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::disabled(),
            operation_timeout: None,
            headers: Vec::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }

    /// API root, e.g. a white-label proxy or a local emulator.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    /// Connect timeout (the seed's `timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// Response timeout, and the idle limit of streams (the seed's `receive_timeout`).
    pub fn receive_timeout(mut self, timeout: Duration) -> Self {
        self.receive_timeout = timeout;
        self
    }
    /// `true` selects [`RetryPolicy::default`], `false` turns retries off.
    pub fn retry(mut self, enabled: bool) -> Self {
        self.retry = if enabled {
            RetryPolicy::default()
        } else {
            RetryPolicy::disabled()
        };
        self
    }
    /// A custom retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// Limit on a whole call: every attempt and every backoff wait together.
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = Some(timeout);
        self
    }
    /// Cap on a buffered JSON response body.
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.max_response_bytes = bytes;
        self
    }
    /// Cap on a buffered binary download.
    pub fn max_download_bytes(mut self, bytes: u64) -> Self {
        self.max_download_bytes = bytes;
        self
    }
    /// Cap on one SSE line or event.
    pub fn max_event_bytes(mut self, bytes: u64) -> Self {
        self.max_event_bytes = bytes;
        self
    }
    /// A header sent on every request (e.g. `x-tenant-id` for white-label proxies).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(crate) fn into_config(self) -> Result<Config> {
        let api_key = ApiKey::new(self.api_key)?;
        let base_url = normalize_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        if self.retry.max_attempts == 0 {
            return Err(Error::invalid("retry max_attempts must be at least 1"));
        }
        for (name, value) in &self.headers {
            validate_header(name, value)?;
        }
        Ok(Config {
            api_key,
            base_url,
            connect_timeout: self.connect_timeout,
            timeout: self.receive_timeout,
            retry: self.retry,
            operation_timeout: self.operation_timeout,
            headers: self.headers,
            max_response_bytes: self.max_response_bytes,
            max_download_bytes: self.max_download_bytes,
            max_event_bytes: self.max_event_bytes,
        })
    }

    /// Builds the client: its runtime and connection pool.
    pub fn build(self) -> Result<crate::Client> {
        crate::Client::from_config(self.into_config()?)
    }
}

pub(crate) fn validate_header(name: &str, value: &str) -> Result<()> {
    reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::invalid(format!("invalid header name `{name}`")))?;
    reqwest::header::HeaderValue::from_str(value)
        .map_err(|_| Error::invalid(format!("invalid value for header `{name}`")))?;
    Ok(())
}

fn normalize_base_url(url: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed)
        .map_err(|e| Error::invalid(format!("invalid base_url `{trimmed}`: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::invalid(format!(
            "base_url must be http or https, got `{}`",
            parsed.scheme()
        )));
    }
    Ok(trimmed.to_owned())
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
