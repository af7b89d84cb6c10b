//! `EventStream::try_next` and `EventStream::next_batch`, the bindings' way to
//! take a burst of buffered events in one hand-off: every event arrives once,
//! in order, whichever way the stream is read, and the end is reported.

mod common;

use std::task::Poll;

use serde_json::{Map, json};

const EVENTS: u64 = 5_000;

fn params() -> Map<String, serde_json::Value> {
    let mut params = Map::new();
    params.insert("count".into(), json!(EVENTS));
    params
}

fn check(expected: &mut u64, event: &miosa::Event) {
    assert_eq!(event.id.as_deref(), Some(expected.to_string().as_str()));
    assert_eq!(event.data, expected.to_string());
    *expected += 1;
}

#[tokio::test]
async fn next_batch_delivers_every_event_once_in_order() {
    let env = common::env();
    let stream = env
        .client
        .stream_sse("/_emulator/stream", params())
        .await
        .expect("the stream opens");
    let mut expected = 1;
    let mut batches = 0;
    loop {
        let batch = stream.next_batch(256).await;
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 256);
        batches += 1;
        for item in batch {
            check(&mut expected, &item.expect("no stream error"));
        }
    }
    assert_eq!(expected, EVENTS + 1);
    assert!(batches < EVENTS, "events arrive in batches");
    assert!(stream.next_batch(16).await.is_empty(), "stays ended");
}

#[tokio::test]
async fn try_next_then_next_delivers_every_event_once_in_order() {
    let env = common::env();
    let stream = env
        .client
        .stream_sse("/_emulator/stream", params())
        .await
        .expect("the stream opens");
    let mut expected = 1;
    loop {
        let item = match stream.try_next() {
            Poll::Ready(item) => item,
            Poll::Pending => stream.next().await,
        };
        match item {
            Some(item) => check(&mut expected, &item.expect("no stream error")),
            None => break,
        }
    }
    assert_eq!(expected, EVENTS + 1);
    assert!(matches!(stream.try_next(), Poll::Ready(None)));
}
