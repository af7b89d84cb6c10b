//! Webhook signature verification (`X-MIOSA-Signature`), both schemes.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::convert::duration;
use crate::errors::{guard, invalid, webhook};

/// Raises `WebhookVerificationError` unless `signature` matches `payload` and `secret`.
/// `now` (unix seconds) and `tolerance` (seconds) apply to the legacy `t=…,v1=…` scheme.
#[pyfunction]
#[pyo3(signature = (payload, signature, secret, *, tolerance=None, now=None))]
pub fn verify_webhook(
    payload: &Bound<'_, PyAny>,
    signature: &str,
    secret: &str,
    tolerance: Option<f64>,
    now: Option<i64>,
) -> PyResult<()> {
    guard(|| {
        let text;
        let body: &[u8] = if let Ok(b) = payload.cast::<PyBytes>() {
            b.as_bytes()
        } else if let Ok(s) = payload.cast::<PyString>() {
            text = s.to_cow()?.into_owned();
            text.as_bytes()
        } else {
            return Err(invalid("payload must be bytes or str"));
        };
        let tolerance = match tolerance {
            Some(seconds) => duration("tolerance", seconds)?,
            None => miosa::webhooks::DEFAULT_TOLERANCE,
        };
        let now = match now {
            Some(now) => now,
            None => unix_now(),
        };
        miosa::webhooks::verify_at(body, signature, secret, now, tolerance).map_err(webhook)
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d: Duration| {
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
        })
}
