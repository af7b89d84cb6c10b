//! Webhook signature verification (`X-MIOSA-Signature`), both schemes:
//! `sha256=<hex>` over the raw body, and the legacy `t=<unix>,v1=<hex>` over
//! `"<t>." + body` with a timestamp tolerance. Comparisons are constant-time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header deliveries carry their signature in.
pub const SIGNATURE_HEADER: &str = "X-MIOSA-Signature";
/// How far the legacy scheme's timestamp may be from now.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The header matches neither scheme.
    #[error("the signature header is malformed")]
    MalformedHeader,
    /// The signature does not match the payload and secret.
    #[error("the signature does not match")]
    InvalidSignature,
    /// The legacy scheme's timestamp is outside the tolerance.
    #[error("the signature timestamp is too old")]
    TimestampTooOld,
}

impl WebhookError {
    /// A stable code for bindings (`malformed_header`, `invalid_signature`, `timestamp_too_old`).
    pub fn code(self) -> &'static str {
        match self {
            Self::MalformedHeader => "malformed_header",
            Self::InvalidSignature => "invalid_signature",
            Self::TimestampTooOld => "timestamp_too_old",
        }
    }
}

/// Verifies a delivery against the current time with the default tolerance.
pub fn verify(payload: &[u8], signature: &str, secret: &str) -> Result<(), WebhookError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    verify_at(payload, signature, secret, now, DEFAULT_TOLERANCE)
}

/// Verifies a delivery as of `now` (unix seconds).
pub fn verify_at(
    payload: &[u8],
    signature: &str,
    secret: &str,
    now: i64,
    tolerance: Duration,
) -> Result<(), WebhookError> {
    let signature = signature.trim();
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
    let t_value: i64 = t.parse().map_err(|_| WebhookError::MalformedHeader)?;
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    if now.abs_diff(t_value) > tolerance.unsigned_abs() {
        return Err(WebhookError::TimestampTooOld);
    }
    check(secret, &[t.as_bytes(), b".", payload], sig)
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
