//! Webhook verification (`X-MIOSA-Signature`, both schemes) and `unwrap`.
//! Only conversion happens here: every rule is the core's.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use miosa::webhooks::{VerifyOptions, WebhookError};

use crate::convert::{as_bytes, json_to_py};
use crate::errors::{guard, webhook};

const PAYLOAD_TYPES: &str =
    "must be the raw request body as str, bytes, bytearray or memoryview, not a parsed object";

/// The raw body: text is signed as its UTF-8 bytes.
fn payload_bytes(payload: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = payload.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    match as_bytes(payload)? {
        Some(bytes) => Ok(bytes.to_vec()),
        None => Err(webhook(WebhookError::invalid_argument(
            "payload",
            PAYLOAD_TYPES,
        ))),
    }
}

/// A header value or secret: `None` stays absent (the core decides what
/// that means), bytes are read as UTF-8 as servers hand raw headers over.
fn text(value: Option<&Bound<'_, PyAny>>, parameter: &'static str) -> PyResult<Option<String>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Some(s.to_cow()?.into_owned()));
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec())
            .map(Some)
            .map_err(|_| {
                webhook(WebhookError::invalid_argument(
                    parameter,
                    "is not valid UTF-8",
                ))
            });
    }
    Err(webhook(WebhookError::invalid_argument(
        parameter,
        "must be a str",
    )))
}

fn seconds(value: Option<&Bound<'_, PyAny>>, parameter: &'static str) -> PyResult<Option<f64>> {
    match value.filter(|v| !v.is_none()) {
        None => Ok(None),
        Some(v) => v.extract::<f64>().map(Some).map_err(|_| {
            webhook(WebhookError::invalid_argument(
                parameter,
                "must be a number of seconds",
            ))
        }),
    }
}

fn options(
    tolerance: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<VerifyOptions> {
    VerifyOptions::from_seconds(seconds(tolerance, "tolerance")?, seconds(now, "now")?)
        .map_err(webhook)
}

/// Raises `WebhookVerificationError` unless `signature` matches `payload` and
/// `secret`, `InvalidArgumentError` for unusable arguments. `now` (unix
/// seconds) and `tolerance` (seconds) apply to the legacy `t=…,v1=…` scheme.
#[pyfunction]
#[pyo3(signature = (payload, signature, secret, *, tolerance=None, now=None))]
pub fn verify_webhook(
    payload: &Bound<'_, PyAny>,
    signature: Option<&Bound<'_, PyAny>>,
    secret: Option<&Bound<'_, PyAny>>,
    tolerance: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    guard(|| {
        let secret = text(secret, "secret")?;
        let options = options(tolerance, now)?;
        let body = payload_bytes(payload)?;
        let signature = text(signature, "signature")?;
        miosa::webhooks::verify_with(&body, signature.as_deref(), secret.as_deref(), options)
            .map_err(webhook)
    })
}

/// Verifies a delivery from its request headers (any mapping with
/// `items()`; names in any case) and returns the parsed event.
#[pyfunction]
#[pyo3(signature = (payload, headers, secret, *, tolerance=None, now=None))]
pub fn unwrap_webhook<'py>(
    payload: &Bound<'py, PyAny>,
    headers: &Bound<'py, PyAny>,
    secret: Option<&Bound<'py, PyAny>>,
    tolerance: Option<&Bound<'py, PyAny>>,
    now: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let secret = text(secret, "secret")?;
        let options = options(tolerance, now)?;
        let body = payload_bytes(payload)?;
        let not_a_mapping = || {
            webhook(WebhookError::invalid_argument(
                "headers",
                "must be a mapping of header names to values",
            ))
        };
        let items = headers.call_method0("items").map_err(|_| not_a_mapping())?;
        let mut pairs = Vec::new();
        for item in items.try_iter().map_err(|_| not_a_mapping())? {
            let (name, value): (Bound<'py, PyAny>, Bound<'py, PyAny>) =
                item?.extract().map_err(|_| not_a_mapping())?;
            let name = text(Some(&name), "headers")?.unwrap_or_default();
            if let Some(value) = text(Some(&value), "headers")? {
                pairs.push((name, value));
            }
        }
        let event = miosa::webhooks::unwrap(
            &body,
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            secret.as_deref(),
            options,
        )
        .map_err(webhook)?;
        json_to_py(headers.py(), &event)
    })
}
