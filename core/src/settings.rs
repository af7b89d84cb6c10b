//! Client settings and per-call options from plain values: the one place where
//! every language's input is checked. Bindings convert their native values to
//! [`Input`] and pass them through; names and time units follow the caller's
//! [`Dialect`], so an error names the parameter as the caller wrote it.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use crate::client::RequestOptions;
use crate::config::{Config, DEFAULT_BASE_URL, RetryPolicy};
use crate::error::{Error, Result};

/// Environment variable read when no API key is given.
pub const ENV_API_KEY: &str = "MIOSA_API_KEY";
/// Environment variable read when no base URL is given.
pub const ENV_BASE_URL: &str = "MIOSA_BASE_URL";

/// Longest duration any setting accepts (one day): longer is surely a unit mistake.
const MAX_DURATION: Duration = Duration::from_secs(86_400);
/// Most retries a client may make after the first attempt.
const MAX_RETRIES: u64 = 100;
/// Largest byte limit accepted (1 TiB).
const MAX_BYTES: u64 = 1 << 40;

/// A value as a binding received it, before any check. Dynamic languages can
/// pass anything, so non-finite floats, huge integers and foreign types are
/// representable and refused here with the parameter's name.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// `None`, `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer of any size the language has.
    Int(i128),
    /// A float, possibly NaN or infinite.
    Float(f64),
    /// A string.
    Str(String),
    /// A list or array.
    List(Vec<Input>),
    /// A dictionary or object, in the caller's order.
    Map(Vec<(String, Input)>),
    /// Binary content (`bytes`, `Buffer`, `ByteArray`, `Data`); JSON carries it as base64 text.
    Bytes(bytes::Bytes),
    /// A value with no plain form; the text names its type (e.g. `function`).
    Other(String),
}

impl Input {
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Null => "null".into(),
            Self::Bool(b) => format!("the boolean {b}"),
            Self::Int(n) => format!("the integer {n}"),
            Self::Float(f) if f.is_nan() => "NaN".into(),
            Self::Float(f) if f.is_infinite() => "an infinite number".into(),
            Self::Float(f) => format!("the number {f}"),
            Self::Str(s) if s.is_empty() => "an empty string".into(),
            Self::Str(_) => "a string".into(),
            Self::List(_) => "a list".into(),
            Self::Map(_) => "an object".into(),
            Self::Bytes(_) => "bytes".into(),
            Self::Other(type_name) => format!("a value of type `{type_name}`"),
        }
    }

    /// JSON for a body or query field; `at` names the field in errors.
    pub fn to_json(&self, at: &str) -> Result<Value> {
        Ok(match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Int(n) => i64::try_from(*n)
                .map(Value::from)
                .or_else(|_| u64::try_from(*n).map(Value::from))
                .map_err(|_| refuse(at, "must fit in 64 bits to be sent as JSON", self))?,
            Self::Float(f) => Number::from_f64(*f)
                .map(Value::Number)
                .ok_or_else(|| refuse(at, "must be a finite number to be sent as JSON", self))?,
            Self::Str(s) => Value::String(s.clone()),
            Self::List(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| item.to_json(&format!("{at}[{i}]")))
                    .collect::<Result<_>>()?,
            ),
            Self::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.to_json(&format!("{at}.{k}"))?)))
                    .collect::<Result<_>>()?,
            ),
            Self::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Self::Other(_) => return Err(refuse(at, "cannot be sent as JSON", self)),
        })
    }

    /// Whether binary content sits anywhere inside.
    pub fn holds_bytes(&self) -> bool {
        match self {
            Self::Bytes(_) => true,
            Self::List(items) => items.iter().any(Self::holds_bytes),
            Self::Map(entries) => entries.iter().any(|(_, v)| v.holds_bytes()),
            _ => false,
        }
    }

    /// Reads the vector form used by `tests/settings`: plain JSON, plus
    /// `{"$float": "NaN" | "Infinity" | "-Infinity"}`, `{"$int": "<digits>"}`
    /// and `{"$type": "<name>"}` for what JSON cannot hold; `{"$bytes": "<base64>"}`
    /// carries binary content through a JSON-only channel.
    pub fn from_tagged_json(value: &Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i.into()),
                None => match n.as_u64() {
                    Some(u) => Self::Int(u.into()),
                    None => Self::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
            },
            Value::String(s) => Self::Str(s.clone()),
            Value::Array(items) => Self::List(items.iter().map(Self::from_tagged_json).collect()),
            Value::Object(map) => {
                if map.len() == 1 {
                    let (tag, inner) = map.iter().next().expect("one entry");
                    match (tag.as_str(), inner.as_str()) {
                        ("$float", Some(text)) => {
                            return Self::Float(text.parse().unwrap_or(f64::NAN));
                        }
                        ("$int", Some(text)) => {
                            if let Ok(n) = text.parse() {
                                return Self::Int(n);
                            }
                        }
                        ("$type", Some(name)) => return Self::Other(name.to_owned()),
                        ("$bytes", Some(text)) => {
                            if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(text) {
                                return Self::Bytes(b.into());
                            }
                        }
                        _ => {}
                    }
                }
                Self::Map(
                    map.iter()
                        .map(|(k, v)| (k.clone(), Self::from_tagged_json(v)))
                        .collect(),
                )
            }
        }
    }
}

impl From<Value> for Input {
    fn from(value: Value) -> Self {
        match value {
            Value::Object(map) => Self::Map(map.into_iter().map(|(k, v)| (k, v.into())).collect()),
            Value::Array(items) => Self::List(items.into_iter().map(Into::into).collect()),
            other => Self::from_tagged_json(&other),
        }
    }
}

/// How a language spells setting names and which unit its durations use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// `connectTimeout` rather than `connect_timeout`.
    pub camel_case: bool,
    /// Durations in milliseconds rather than seconds.
    pub millis: bool,
}

impl Dialect {
    /// Rust and Python: snake_case, seconds.
    pub const SNAKE_SECONDS: Self = Self {
        camel_case: false,
        millis: false,
    };
    /// Node: camelCase, milliseconds.
    pub const CAMEL_MILLIS: Self = Self {
        camel_case: true,
        millis: true,
    };
    /// Kotlin and Swift: camelCase, seconds.
    pub const CAMEL_SECONDS: Self = Self {
        camel_case: true,
        millis: false,
    };
    /// C: snake_case, milliseconds.
    pub const SNAKE_MILLIS: Self = Self {
        camel_case: false,
        millis: true,
    };

    /// `name` (snake_case) as this dialect writes it.
    pub fn spell(self, name: &str) -> String {
        if !self.camel_case {
            return name.to_owned();
        }
        let mut out = String::with_capacity(name.len());
        let mut upper = false;
        for c in name.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }

    fn unit(self) -> &'static str {
        if self.millis {
            "milliseconds"
        } else {
            "seconds"
        }
    }
}

/// Client settings, in the order the README's contract table lists them.
pub const CLIENT_SETTINGS: &[&str] = &[
    "api_key",
    "base_url",
    "connect_timeout",
    "timeout",
    "operation_timeout",
    "max_retries",
    "retry_base_delay",
    "retry_max_delay",
    "max_response_bytes",
    "max_download_bytes",
    "max_event_bytes",
    "allow_insecure_http",
    "headers",
];

/// Per-call options.
pub const CALL_OPTIONS: &[&str] = &[
    "extra_headers",
    "extra_query",
    "extra_body",
    "timeout",
    "max_response_bytes",
];

/// Names that older releases took, with what replaces them.
const RENAMED: &[(&str, &str)] = &[
    ("receive_timeout", "timeout"),
    ("retry", "max_retries"),
    ("max_attempts", "max_retries"),
];

fn refuse(name: &str, problem: &str, value: &Input) -> Error {
    Error::invalid(format!(
        "invalid `{name}`: {problem}, got {}",
        value.describe()
    ))
}

/// Takes the entries of a settings map apart, refusing names outside `known`.
struct Reader<'a> {
    dialect: Dialect,
    entries: Vec<(String, &'a Input)>,
}

impl<'a> Reader<'a> {
    fn new(input: &'a Input, what: &str, known: &[&str], dialect: Dialect) -> Result<Self> {
        let entries = match input {
            Input::Null => Vec::new(),
            Input::Map(entries) => entries.iter().map(|(k, v)| (k.clone(), v)).collect(),
            other => return Err(refuse(what, "must be an object of named settings", other)),
        };
        for (name, _) in &entries {
            if known.iter().any(|k| dialect.spell(k) == *name) {
                continue;
            }
            let hint = RENAMED
                .iter()
                .find(|(old, _)| dialect.spell(old) == *name)
                .map(|(_, new)| format!(" (it is now `{}`)", dialect.spell(new)))
                .unwrap_or_default();
            let known: Vec<String> = known.iter().map(|k| dialect.spell(k)).collect();
            return Err(Error::invalid(format!(
                "unknown {what} `{name}`{hint}; known: {}",
                known.join(", ")
            )));
        }
        Ok(Self { dialect, entries })
    }

    /// The value of `name`, `None` when absent or null (null means "not given").
    fn take(&self, name: &str) -> Option<(String, &'a Input)> {
        let spelled = self.dialect.spell(name);
        self.entries
            .iter()
            .find(|(k, _)| *k == spelled)
            .filter(|(_, v)| !matches!(v, Input::Null))
            .map(|(k, v)| (k.clone(), *v))
    }

    fn string(&self, name: &str) -> Result<Option<(String, String)>> {
        let Some((spelled, value)) = self.take(name) else {
            return Ok(None);
        };
        match value {
            Input::Str(s) if s.trim().is_empty() => {
                Err(refuse(&spelled, "must not be empty", value))
            }
            Input::Str(s) => Ok(Some((spelled, s.clone()))),
            other => Err(refuse(&spelled, "must be a string", other)),
        }
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>> {
        match self.take(name) {
            None => Ok(None),
            Some((_, Input::Bool(b))) => Ok(Some(*b)),
            Some((spelled, other)) => Err(refuse(&spelled, "must be true or false", other)),
        }
    }

    fn duration(&self, name: &str) -> Result<Option<Duration>> {
        let Some((spelled, value)) = self.take(name) else {
            return Ok(None);
        };
        let unit = self.dialect.unit();
        let problem = format!("must be a positive number of {unit}, at most one day");
        let amount = match value {
            Input::Int(n) => *n as f64,
            Input::Float(f) => *f,
            other => return Err(refuse(&spelled, &problem, other)),
        };
        if !amount.is_finite() || amount <= 0.0 {
            return Err(refuse(&spelled, &problem, value));
        }
        let seconds = if self.dialect.millis {
            amount / 1000.0
        } else {
            amount
        };
        if seconds > MAX_DURATION.as_secs_f64() {
            return Err(refuse(&spelled, &problem, value));
        }
        let duration = Duration::from_secs_f64(seconds);
        if duration.is_zero() {
            return Err(refuse(&spelled, &problem, value));
        }
        Ok(Some(duration))
    }

    fn count(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>> {
        let Some((spelled, value)) = self.take(name) else {
            return Ok(None);
        };
        let problem = format!("must be a whole number from {min} to {max}");
        let n = match value {
            Input::Int(n) => *n,
            Input::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30 => *f as i128,
            other => return Err(refuse(&spelled, &problem, other)),
        };
        u64::try_from(n)
            .ok()
            .filter(|n| (min..=max).contains(n))
            .map(Some)
            .ok_or_else(|| refuse(&spelled, &problem, value))
    }

    fn headers(&self, name: &str) -> Result<Vec<(String, String)>> {
        let Some((spelled, value)) = self.take(name) else {
            return Ok(Vec::new());
        };
        let Input::Map(entries) = value else {
            return Err(refuse(
                &spelled,
                "must be an object of header names to strings",
                value,
            ));
        };
        entries
            .iter()
            .map(|(header, v)| {
                let at = format!("{spelled}.{header}");
                match v {
                    Input::Str(s) => {
                        validate_header(&at, header, s)?;
                        Ok((header.clone(), s.clone()))
                    }
                    other => Err(refuse(&at, "must be a string", other)),
                }
            })
            .collect()
    }

    fn json_map(&self, name: &str) -> Result<Map<String, Value>> {
        match self.take(name) {
            None => Ok(Map::new()),
            Some((spelled, value @ Input::Map(_))) => match value.to_json(&spelled)? {
                Value::Object(map) => Ok(map),
                _ => unreachable!("a map converts to an object"),
            },
            Some((spelled, other)) => Err(refuse(&spelled, "must be an object", other)),
        }
    }
}

/// Checks one header; `at` names it in errors.
pub(crate) fn validate_header(at: &str, name: &str, value: &str) -> Result<()> {
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(Error::invalid(format!(
            "invalid `{at}`: `{}` is not a valid header name",
            name.escape_debug()
        )));
    }
    if reqwest::header::HeaderValue::from_str(value).is_err() {
        return Err(Error::invalid(format!(
            "invalid `{at}`: the value holds a line break, a control or a non-ASCII character"
        )));
    }
    Ok(())
}

/// Whether `url` points at this machine, where plain http carries no risk.
pub(crate) fn is_loopback_url(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The base URL, trimmed of a trailing `/` and checked, and its parsed form; `at`
/// names its source.
fn base_url(
    at: &str,
    text: &str,
    allow_insecure_http: bool,
    opt_in: &str,
) -> Result<(String, reqwest::Url)> {
    let trimmed = text.trim().trim_end_matches('/');
    let shown = crate::redact::url(trimmed);
    let parsed = reqwest::Url::parse(trimmed).map_err(|e| {
        Error::invalid(format!(
            "invalid `{at}`: `{shown}` is not an absolute URL ({e})"
        ))
    })?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid(format!(
            "invalid `{at}`: `{shown}` has no host"
        )));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback_url(&parsed) => {}
        "http" => {
            return Err(Error::invalid(format!(
                "invalid `{at}`: `{shown}` is plain http to a remote host, which would send the API key \
                 unencrypted; use https, or set `{opt_in}` to accept that"
            )));
        }
        other => {
            return Err(Error::invalid(format!(
                "invalid `{at}`: the scheme must be http or https, got `{other}`"
            )));
        }
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::invalid(format!(
            "invalid `{at}`: `{shown}` must not carry a query or fragment"
        )));
    }
    Ok((trimmed.to_owned(), parsed))
}

/// Reads an environment variable; unset and blank are the same.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Client settings from plain values: `settings` is a map of the names in
    /// [`CLIENT_SETTINGS`] (spelled per `dialect`); absent or null means the
    /// default. The API key and base URL fall back to `MIOSA_API_KEY` and
    /// `MIOSA_BASE_URL` from `env`; an explicit value always wins.
    pub fn from_input(settings: &Input, dialect: Dialect, env: EnvLookup<'_>) -> Result<Self> {
        let reader = Reader::new(settings, "client setting", CLIENT_SETTINGS, dialect)?;
        let api_key = match reader.string("api_key")? {
            Some((spelled, key)) => crate::config::ApiKey::new(key)
                .map_err(|e| Error::invalid(format!("invalid `{spelled}`: {}", e.message())))?,
            None => {
                let key = env(ENV_API_KEY).ok_or_else(|| {
                    Error::invalid(format!(
                        "no API key: pass `{}` or set the environment variable {ENV_API_KEY}",
                        dialect.spell("api_key")
                    ))
                })?;
                crate::config::ApiKey::new(key).map_err(|e| {
                    Error::invalid(format!(
                        "invalid environment variable {ENV_API_KEY}: {}",
                        e.message()
                    ))
                })?
            }
        };
        let allow_insecure_http = reader.boolean("allow_insecure_http")?.unwrap_or(false);
        let opt_in = dialect.spell("allow_insecure_http");
        let base_url = match reader.string("base_url")? {
            Some((spelled, url)) => base_url(&spelled, &url, allow_insecure_http, &opt_in)?,
            None => match env(ENV_BASE_URL) {
                Some(url) => base_url(
                    &format!("environment variable {ENV_BASE_URL}"),
                    &url,
                    allow_insecure_http,
                    &opt_in,
                )?,
                None => base_url("the default base URL", DEFAULT_BASE_URL, false, &opt_in)?,
            },
        };
        let defaults = Config::defaults(api_key, base_url);
        let policy_defaults = RetryPolicy::default();
        let max_retries = reader.count("max_retries", 0, MAX_RETRIES)?;
        let retry = RetryPolicy {
            max_attempts: max_retries.map_or(policy_defaults.max_attempts, |n| n as u32 + 1),
            base_delay: reader
                .duration("retry_base_delay")?
                .unwrap_or(policy_defaults.base_delay),
            max_delay: reader
                .duration("retry_max_delay")?
                .unwrap_or(policy_defaults.max_delay),
        };
        Ok(Config {
            connect_timeout: reader
                .duration("connect_timeout")?
                .unwrap_or(defaults.connect_timeout),
            timeout: reader.duration("timeout")?.unwrap_or(defaults.timeout),
            operation_timeout: reader.duration("operation_timeout")?,
            retry,
            max_response_bytes: reader
                .count("max_response_bytes", 1, MAX_BYTES)?
                .unwrap_or(defaults.max_response_bytes),
            max_download_bytes: reader
                .count("max_download_bytes", 1, MAX_BYTES)?
                .unwrap_or(defaults.max_download_bytes),
            max_event_bytes: reader
                .count("max_event_bytes", 1, MAX_BYTES)?
                .unwrap_or(defaults.max_event_bytes),
            allow_insecure_http,
            headers: reader.headers("headers")?,
            ..defaults
        })
    }

    /// The settings in effect, as plain values (snake_case names, durations in
    /// seconds, byte limits as integers); the key and URL secrets are redacted.
    pub fn summary(&self) -> Value {
        let secs = |d: Duration| Value::from(d.as_secs_f64());
        let headers = crate::redact::headers(&self.headers);
        serde_json::json!({
            "api_key": format!("{:?}", self.api_key),
            "base_url": crate::redact::url(&self.base_url),
            "connect_timeout": secs(self.connect_timeout),
            "timeout": secs(self.timeout),
            "operation_timeout": self.operation_timeout.map(secs),
            "max_retries": self.retry.max_attempts - 1,
            "retry_base_delay": secs(self.retry.base_delay),
            "retry_max_delay": secs(self.retry.max_delay),
            "max_response_bytes": self.max_response_bytes,
            "max_download_bytes": self.max_download_bytes,
            "max_event_bytes": self.max_event_bytes,
            "allow_insecure_http": self.allow_insecure_http,
            "headers": headers,
        })
    }
}

impl RequestOptions {
    /// Per-call options from plain values: a map of the names in [`CALL_OPTIONS`]
    /// (spelled per `dialect`). A null inside `extra_body` or `extra_query` is
    /// kept: it sends an explicit JSON `null`.
    pub fn from_input(options: &Input, dialect: Dialect) -> Result<Self> {
        let reader = Reader::new(options, "call option", CALL_OPTIONS, dialect)?;
        Ok(Self {
            headers: reader.headers("extra_headers")?,
            query: reader.json_map("extra_query")?,
            body: reader.json_map("extra_body")?,
            timeout: reader.duration("timeout")?,
            max_response_bytes: reader.count("max_response_bytes", 1, MAX_BYTES)?,
        })
    }

    /// The options as plain values (snake_case names, seconds), secrets redacted.
    pub fn summary(&self) -> Value {
        let headers = crate::redact::headers(&self.headers);
        serde_json::json!({
            "extra_headers": headers,
            "extra_query": self.query,
            "extra_body": self.body,
            "timeout": self.timeout.map(|d| d.as_secs_f64()),
            "max_response_bytes": self.max_response_bytes,
        })
    }
}
