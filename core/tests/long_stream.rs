//! A long stream: 1,000,000 SSE events from the emulator's bulk route
//! (`GET /_emulator/stream?count=N`) through the core's SSE engine, channel
//! and iterator. It prints events per second and the process's resident
//! memory (VmRSS, emulator included: it runs in this process) at the start,
//! the middle and the end. Time is printed, never asserted; what is asserted:
//! every id arrives exactly once and in order, the stream ends cleanly, and
//! resident memory grows by less than 64 MiB (a leak guard).
//!
//! It runs in the normal `cargo test` (a few seconds in debug). For release
//! numbers:
//!
//! ```text
//! cargo test -p miosa --release --test long_stream -- --nocapture
//! ```
//!
//! `MIOSA_LONG_STREAM_EVENTS=N` changes the count (e.g. 10000000 for a longer soak).

mod common;

use std::time::Instant;

use serde_json::{Map, Value, json};

const DEFAULT_EVENTS: u64 = 1_000_000;
const MAX_GROWTH_KIB: u64 = 64 * 1024;

/// Resident memory of this process in KiB (Linux; 0 elsewhere).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn report(label: &str, received: u64, started: Instant, rss: u64) {
    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        received as f64 / secs
    } else {
        0.0
    };
    println!(
        "long_stream {label:>6}: {received:>9} events  {secs:>7.2} s  {rate:>10.0} events/s  VmRSS {:.1} MiB",
        rss as f64 / 1024.0
    );
}

#[tokio::test]
async fn a_million_events_arrive_once_in_order_in_bounded_memory() {
    let total: u64 = std::env::var("MIOSA_LONG_STREAM_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_EVENTS);
    let env = common::env();
    let mut params = Map::new();
    params.insert("count".into(), json!(total));
    let start_rss = rss_kib();
    let started = Instant::now();
    report("start", 0, started, start_rss);
    let stream = env
        .client
        .stream_sse("/_emulator/stream", params)
        .await
        .expect("the stream opens");
    let mut expected: u64 = 1;
    let mut middle_rss = 0;
    while let Some(item) = stream.next().await {
        let event = item.unwrap_or_else(|e| panic!("after {} events: {e}", expected - 1));
        let id = event.id.as_deref().and_then(|i| i.parse::<u64>().ok());
        assert_eq!(id, Some(expected), "ids arrive once and in order");
        assert_eq!(event.data.parse::<u64>().ok(), Some(expected), "{event:?}");
        if expected == total / 2 {
            middle_rss = rss_kib();
            report("middle", expected, started, middle_rss);
        }
        expected += 1;
    }
    let received = expected - 1;
    let end_rss = rss_kib();
    report("end", received, started, end_rss);
    assert_eq!(
        received, total,
        "every event arrived and the stream ended cleanly"
    );
    let peak = middle_rss.max(end_rss);
    assert!(
        peak.saturating_sub(start_rss) < MAX_GROWTH_KIB,
        "resident memory grew from {start_rss} KiB to {peak} KiB"
    );
    let log = common::log_for(&env, "/_emulator/stream").await;
    assert_eq!(log.len(), 1, "one connection, no reconnect: {log:?}");
    assert_eq!(log[0]["query"]["count"], Value::String(total.to_string()));
}
