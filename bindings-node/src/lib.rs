//! Node.js binding of the MIOSA client: a small, generic native surface that
//! the JavaScript layer (`lib/`) turns into the namespaced API.
//!
//! Every operation goes through the core's table-driven dispatch
//! (`NativeClient.call`), so this crate holds no protocol logic: it converts
//! arguments, runs the core's futures on the client's own runtime, settles a
//! Promise from there, and maps errors. No napi tokio runtime is started: the
//! only threads are the core's, and nothing keeps the event loop alive once no
//! call is in flight (a pending Promise is the only reference it holds).
//!
//! Values cross the boundary as JSON text (parsed with `JSON.parse` on the JS
//! side, which is faster than building objects property by property through
//! N-API, and keeps integers integers) or as `Buffer`s for bytes.

mod cancel;
mod client;
mod errors;
mod observe;
mod pager;
mod reply;
mod socket;
mod stream;

use napi::bindgen_prelude::{Buffer, Either};
use napi_derive::napi;

pub use cancel::CancelToken;
pub use client::NativeClient;
pub use observe::CallReply;
pub use pager::NativePager;
pub use socket::{NativeSocket, SocketMessage};
pub use stream::{NativeStream, SseEvent};

/// `json` (JSON text) with secret fields hidden and URL fields stripped of their
/// query and password: the core's one redaction rule, for `util.inspect` of models.
#[napi(catch_unwind)]
pub fn redacted(json: String) -> napi::Result<String> {
    let value: serde_json::Value = serde_json::from_str(&json)
        .map_err(|e| napi::Error::new(napi::Status::InvalidArg, format!("redacted: {e}")))?;
    Ok(miosa::redact::json(&value).to_string())
}

/// Parses raw `text/event-stream` chunks with the core's SSE engine (for the
/// shared test vectors and for callers that read SSE from elsewhere).
#[napi(catch_unwind)]
pub fn parse_sse(chunks: Vec<Either<Buffer, String>>) -> Vec<SseEvent> {
    let owned: Vec<Vec<u8>> = chunks
        .into_iter()
        .map(|chunk| match chunk {
            Either::A(buf) => buf.to_vec(),
            Either::B(text) => text.into_bytes(),
        })
        .collect();
    miosa::sse::parse_chunks(owned.iter().map(Vec::as_slice))
        .into_iter()
        .map(SseEvent::from)
        .collect()
}

/// Names the JavaScript runtime (e.g. `node/20.20.2`) in the User-Agent of
/// clients created from now on; lib/binding.js calls it once when it loads.
#[napi(catch_unwind)]
pub fn set_runtime(runtime: String) -> napi::Result<()> {
    miosa::set_runtime(&runtime).map_err(|err| errors::to_napi(&err))
}

/// Verifies a webhook delivery (`X-MIOSA-Signature`, both schemes); throws a
/// `webhook_verification` error with the refusal code, or an
/// `invalid_argument` one for unusable input. An absent `signature` or
/// `secret` is `undefined`; `now` (unix seconds) and `toleranceSeconds`
/// default to the clock and 300 s.
#[napi(catch_unwind)]
pub fn verify_webhook(
    payload: Either<Buffer, String>,
    signature: Option<String>,
    secret: Option<String>,
    now: Option<f64>,
    tolerance_seconds: Option<f64>,
) -> napi::Result<()> {
    let options = miosa::webhooks::VerifyOptions::from_seconds(tolerance_seconds, now)
        .map_err(errors::webhook)?;
    miosa::webhooks::verify_with(
        payload_bytes(&payload),
        signature.as_deref(),
        secret.as_deref(),
        options,
    )
    .map_err(errors::webhook)
}

/// Verifies a delivery from its headers (`names[i]: values[i]`, names in any
/// case) and returns the parsed event as JSON text.
#[napi(catch_unwind)]
pub fn unwrap_webhook(
    payload: Either<Buffer, String>,
    names: Vec<String>,
    values: Vec<String>,
    secret: Option<String>,
    now: Option<f64>,
    tolerance_seconds: Option<f64>,
) -> napi::Result<String> {
    let options = miosa::webhooks::VerifyOptions::from_seconds(tolerance_seconds, now)
        .map_err(errors::webhook)?;
    let headers = names
        .iter()
        .map(String::as_str)
        .zip(values.iter().map(String::as_str));
    miosa::webhooks::unwrap(payload_bytes(&payload), headers, secret.as_deref(), options)
        .map(|event| event.to_string())
        .map_err(errors::webhook)
}

fn payload_bytes(payload: &Either<Buffer, String>) -> &[u8] {
    match payload {
        Either::A(buf) => buf,
        Either::B(text) => text.as_bytes(),
    }
}

/// Panics on purpose. The test suite calls it to prove that a Rust panic
/// reaches JavaScript as an ordinary error instead of killing the process:
/// at once, or (`in_background`) on another thread while it owns a pending
/// Promise, which must then reject instead of hanging.
#[napi(
    catch_unwind,
    js_name = "__panicForTests",
    ts_return_type = "Promise<void> | undefined"
)]
pub fn panic_for_tests<'env>(
    env: &'env napi::Env,
    message: String,
    in_background: Option<bool>,
) -> napi::Result<Option<napi::bindgen_prelude::Object<'env>>> {
    if in_background != Some(true) {
        panic!("{message}");
    }
    let (reply, promise) = reply::Reply::<()>::new(env)?;
    std::thread::spawn(move || {
        let _owned = reply;
        panic!("{message}");
    });
    Ok(Some(promise))
}
