//! Pure helpers that need no client: the SSE parser (so every language runs
//! the shared vectors through the same engine) and webhook verification.

use std::collections::HashMap;

use crate::stream::Event;

/// Parses a whole SSE stream given as byte chunks, by the same engine live streams use.
#[uniffi::export]
pub fn parse_sse(chunks: Vec<Vec<u8>>) -> Vec<Event> {
    mcore::sse::parse_chunks(chunks.iter().map(Vec::as_slice))
        .into_iter()
        .map(Event::from)
        .collect()
}

/// Why a webhook delivery was refused, or why the arguments were unusable
/// (`InvalidArgument`, whose message names the parameter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum WebhookError {
    /// The signature header is absent or empty.
    #[error("the signature header is missing or empty")]
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
    /// The signature matched but the payload is not a JSON object (`unwrapWebhook`).
    #[error("the signed payload is not a JSON object")]
    InvalidPayload,
    /// A missing or blank secret, or a negative or non-finite clock or tolerance.
    #[error("{message}")]
    InvalidArgument {
        /// What is wrong, naming the parameter.
        message: String,
    },
}

impl From<mcore::webhooks::WebhookError> for WebhookError {
    fn from(e: mcore::webhooks::WebhookError) -> Self {
        use mcore::webhooks::WebhookError as Core;
        match e {
            Core::MissingSignature => Self::MissingSignature,
            Core::MalformedHeader => Self::MalformedHeader,
            Core::InvalidSignature => Self::InvalidSignature,
            Core::TimestampTooOld => Self::TimestampTooOld,
            Core::InvalidPayload => Self::InvalidPayload,
            Core::InvalidArgument { .. } => Self::InvalidArgument {
                message: e.to_string(),
            },
        }
    }
}

/// Checks the `X-MIOSA-Signature` header of a webhook delivery against its
/// raw body. `signature` is null when the request had none;
/// `tolerance_seconds` (default 300) and `now_unix` (default the clock)
/// apply to the legacy timestamped scheme.
#[uniffi::export(default(tolerance_seconds = None, now_unix = None))]
pub fn verify_webhook(
    payload: Vec<u8>,
    signature: Option<String>,
    secret: Option<String>,
    tolerance_seconds: Option<f64>,
    now_unix: Option<f64>,
) -> Result<(), WebhookError> {
    let options = mcore::webhooks::VerifyOptions::from_seconds(tolerance_seconds, now_unix)?;
    Ok(mcore::webhooks::verify_with(
        &payload,
        signature.as_deref(),
        secret.as_deref(),
        options,
    )?)
}

/// Verifies a delivery from its request headers (names in any case) and
/// returns the parsed event as JSON text.
#[uniffi::export(default(tolerance_seconds = None, now_unix = None))]
pub fn unwrap_webhook(
    payload: Vec<u8>,
    headers: HashMap<String, String>,
    secret: Option<String>,
    tolerance_seconds: Option<f64>,
    now_unix: Option<f64>,
) -> Result<String, WebhookError> {
    let options = mcore::webhooks::VerifyOptions::from_seconds(tolerance_seconds, now_unix)?;
    let event = mcore::webhooks::unwrap(
        &payload,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        secret.as_deref(),
        options,
    )?;
    Ok(event.to_string())
}
