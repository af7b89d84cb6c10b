//! Webhook signature verification (`X-MIOSA-Signature`), both schemes:
//! `sha256=<hex>` over the raw body, and the legacy `t=<unix>,v1=<hex>` over
//! `"<t>." + body` with a timestamp tolerance. Comparisons are constant-time.
//!
//! Every refusal is an error, never a `false` a caller could forget to read:
//! a missing secret or a bad clock or tolerance is the caller's mistake
//! ([`WebhookError::InvalidArgument`]); a missing, malformed or wrong
//! signature is the delivery's ([`WebhookError::is_verification_failure`]).
//! Bindings only convert their values into these calls.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The header deliveries carry their signature in.
pub const SIGNATURE_HEADER: &str = "X-MIOSA-Signature";
/// How far the legacy scheme's timestamp may be from now.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Why a delivery was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The signature header is absent or empty.
    #[error("the {SIGNATURE_HEADER} header is missing or empty")]
    MissingSignature,
    /// The header matches neither scheme.
    #[error("the signature header is malformed")]
    MalformedHeader,
    /// The signature does not match the payload and secret.
    #[error("the signature does not match")]
    InvalidSignature,
    /// The legacy scheme's timestamp is outside the tolerance.
    #[error("the signature timestamp is too old")]
    TimestampTooOld,
    /// The signature matched but the payload is not a JSON object (`unwrap` only).
    #[error("the signed payload is not a JSON object")]
    InvalidPayload,
    /// The caller's own input is unusable (a missing secret, a bad clock or
    /// tolerance, a payload of the wrong type).
    #[error("`{parameter}` {reason}")]
    InvalidArgument {
        /// The parameter's name as the caller spells it.
        parameter: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl WebhookError {
    /// A stable code for bindings: `missing_signature`, `malformed_header`,
    /// `invalid_signature`, `timestamp_too_old`, `invalid_payload` or
    /// `invalid_argument`.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::MalformedHeader => "malformed_header",
            Self::InvalidSignature => "invalid_signature",
            Self::TimestampTooOld => "timestamp_too_old",
            Self::InvalidPayload => "invalid_payload",
            Self::InvalidArgument { .. } => "invalid_argument",
        }
    }

    /// True when the delivery was refused; false when the caller's input was
    /// unusable (bindings raise their argument error for those).
    pub fn is_verification_failure(self) -> bool {
        !matches!(self, Self::InvalidArgument { .. })
    }

    /// An argument error for `parameter` (bindings use it for values of the
    /// wrong type, so every language words it the same).
    pub fn invalid_argument(parameter: &'static str, reason: &'static str) -> Self {
        Self::InvalidArgument { parameter, reason }
    }
}

/// The clock and tolerance a delivery is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    tolerance: Duration,
    now: Option<u64>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            tolerance: DEFAULT_TOLERANCE,
            now: None,
        }
    }
}

const SECONDS_REASON: &str = "must be a finite number of seconds, 0 or more";

fn seconds(parameter: &'static str, value: f64) -> Result<f64, WebhookError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(WebhookError::invalid_argument(parameter, SECONDS_REASON))
    }
}

impl VerifyOptions {
    /// From the optional numbers a binding receives: `tolerance` and `now`
    /// (unix time) in seconds, each finite and not negative.
    pub fn from_seconds(tolerance: Option<f64>, now: Option<f64>) -> Result<Self, WebhookError> {
        let mut options = Self::default();
        if let Some(tolerance) = tolerance {
            let tolerance = seconds("tolerance", tolerance)?;
            options.tolerance = Duration::try_from_secs_f64(tolerance)
                .map_err(|_| WebhookError::invalid_argument("tolerance", "is too large"))?;
        }
        if let Some(now) = now {
            let now = seconds("now", now)?.floor();
            // u64::MAX as f64 rounds up to 2^64, which does not fit.
            if now >= u64::MAX as f64 {
                return Err(WebhookError::invalid_argument("now", "is too large"));
            }
            options.now = Some(now as u64);
        }
        Ok(options)
    }

    /// The legacy scheme's timestamp may be at most this far from now.
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Checks as of `now` (unix seconds) instead of the system clock.
    pub fn at_unix(mut self, now: i64) -> Result<Self, WebhookError> {
        let now = u64::try_from(now)
            .map_err(|_| WebhookError::invalid_argument("now", SECONDS_REASON))?;
        self.now = Some(now);
        Ok(self)
    }

    fn now(&self) -> u64 {
        self.now.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        })
    }
}

/// Verifies a delivery against the current time with the default tolerance.
pub fn verify(payload: &[u8], signature: &str, secret: &str) -> Result<(), WebhookError> {
    verify_with(
        payload,
        Some(signature),
        Some(secret),
        VerifyOptions::default(),
    )
}

/// Verifies a delivery as of `now` (unix seconds, not negative).
pub fn verify_at(
    payload: &[u8],
    signature: &str,
    secret: &str,
    now: i64,
    tolerance: Duration,
) -> Result<(), WebhookError> {
    let options = VerifyOptions::default()
        .with_tolerance(tolerance)
        .at_unix(now)?;
    verify_with(payload, Some(signature), Some(secret), options)
}

/// Verifies a delivery whose signature header or secret may be absent, as
/// bindings receive them: an absent or blank secret is an argument error, an
/// absent or blank signature a refused delivery.
pub fn verify_with(
    payload: &[u8],
    signature: Option<&str>,
    secret: Option<&str>,
    options: VerifyOptions,
) -> Result<(), WebhookError> {
    let secret = secret
        .filter(|s| !s.trim().is_empty())
        .ok_or(WebhookError::invalid_argument(
            "secret",
            "is missing or empty",
        ))?;
    let signature = signature
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(WebhookError::MissingSignature)?;
    if let Some(hex_sig) = signature.strip_prefix("sha256=") {
        return check(secret, &[payload], hex_sig);
    }
    let mut timestamp = None;
    let mut v1 = None;
    for part in signature.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t),
            Some(("v1", s)) => v1 = Some(s),
            Some(_) => {}
            None => return Err(WebhookError::MalformedHeader),
        }
    }
    let (Some(t), Some(sig)) = (timestamp, v1) else {
        return Err(WebhookError::MalformedHeader);
    };
    let t_value: u64 = t.parse().map_err(|_| WebhookError::MalformedHeader)?;
    if options.now().abs_diff(t_value) > options.tolerance.as_secs() {
        return Err(WebhookError::TimestampTooOld);
    }
    check(secret, &[t.as_bytes(), b".", payload], sig)
}

/// Verifies a delivery and returns its parsed event, the one call a webhook
/// handler needs. `headers` are the request's headers as (name, value)
/// pairs; names match case-insensitively. More than one signature header is
/// refused as malformed: a proxy that duplicates it cannot be trusted to
/// have kept the right one.
pub fn unwrap<'a>(
    payload: &[u8],
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    secret: Option<&str>,
    options: VerifyOptions,
) -> Result<Value, WebhookError> {
    let mut signature = None;
    for (name, value) in headers {
        if name.trim().eq_ignore_ascii_case(SIGNATURE_HEADER) {
            if signature.is_some() {
                return Err(WebhookError::MalformedHeader);
            }
            signature = Some(value);
        }
    }
    verify_with(payload, signature, secret, options)?;
    match serde_json::from_slice::<Value>(payload) {
        Ok(event @ Value::Object(_)) => Ok(event),
        _ => Err(WebhookError::InvalidPayload),
    }
}

fn check(secret: &str, parts: &[&[u8]], hex_sig: &str) -> Result<(), WebhookError> {
    let expected = hex::decode(hex_sig.trim()).map_err(|_| WebhookError::MalformedHeader)?;
    if expected.is_empty() {
        return Err(WebhookError::MalformedHeader);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| WebhookError::InvalidSignature)?;
    for part in parts {
        mac.update(part);
    }
    // verify_slice compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| WebhookError::InvalidSignature)
}

/// Computes the current-scheme header value for `payload` (used by tests and emulators).
pub fn sign(payload: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(payload);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
