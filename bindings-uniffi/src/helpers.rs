//! Pure helpers that need no client: the SSE parser (so every language runs
//! the shared vectors through the same engine) and webhook verification.

use crate::stream::Event;

/// Parses a whole SSE stream given as byte chunks, by the same engine live streams use.
#[uniffi::export]
pub fn parse_sse(chunks: Vec<Vec<u8>>) -> Vec<Event> {
    mcore::sse::parse_chunks(chunks.iter().map(Vec::as_slice))
        .into_iter()
        .map(Event::from)
        .collect()
}

/// Why a webhook signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
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

/// Checks the `X-MIOSA-Signature` header of a webhook delivery against its raw body.
#[uniffi::export]
pub fn verify_webhook(
    payload: Vec<u8>,
    signature: String,
    secret: String,
) -> Result<(), WebhookError> {
    mcore::webhooks::verify(&payload, &signature, &secret).map_err(|e| match e {
        mcore::webhooks::WebhookError::MalformedHeader => WebhookError::MalformedHeader,
        mcore::webhooks::WebhookError::InvalidSignature => WebhookError::InvalidSignature,
        mcore::webhooks::WebhookError::TimestampTooOld => WebhookError::TimestampTooOld,
    })
}
