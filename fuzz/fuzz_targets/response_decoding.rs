//! Any JSON a server could send goes through envelope removal, page reading
//! and model decoding without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use miosa::models::{AuditEntry, ExecResult, Sandbox, Webhook};
use serde_json::Value;

fuzz_target!(|input: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(input) else {
        return;
    };
    let _ = miosa::Page::from_body(&value).and_then(|p| p.typed::<AuditEntry>());
    let unwrapped = miosa::unwrap_envelope(value);
    let _ = serde_json::from_value::<Sandbox>(unwrapped.clone());
    let _ = serde_json::from_value::<ExecResult>(unwrapped.clone());
    if let Ok(webhook) = serde_json::from_value::<Webhook>(unwrapped) {
        let _ = format!("{webhook:?}");
    }
});
