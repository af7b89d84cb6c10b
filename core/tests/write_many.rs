//! `sandbox.files.write_many` items, replayed from `tests/files/write_many.json`
//! (every language runs the same file): bytes and text content are sent
//! base64-encoded by the core and read back unchanged; malformed items are
//! refused before the network, naming the item and field.

mod common;

use miosa::api::SandboxesCreateParams;
use miosa::{Arg, ErrorKind, FileWrite, Input};
use serde_json::{Map, Value};

use common::env;

fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A vector value as the core's `Input`, `{"$hex": …}` becoming bytes.
fn input(value: &Value) -> Input {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("$hex") => {
            Input::Bytes(from_hex(map["$hex"].as_str().expect("hex text")).into())
        }
        Value::Object(map) => Input::Map(map.iter().map(|(k, v)| (k.clone(), input(v))).collect()),
        Value::Array(items) => Input::List(items.iter().map(input).collect()),
        other => Input::from(other.clone()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn write_many_vectors() {
    let env = env();
    let c = &env.client;
    let sb = c
        .sandboxes()
        .create(SandboxesCreateParams::default().name("vectors").wait(true))
        .await
        .expect("created");
    let op = miosa::ops::find("sandbox.files.write_many").expect("in the table");
    let vectors: Value = serde_json::from_str(include_str!("../../tests/files/write_many.json"))
        .expect("vector JSON");
    let cases = vectors["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let args = vec![Arg::from(sb.id.as_str()), Arg::Input(input(&case["files"]))];
        let outcome = c.invoke(op, args, Map::new()).await;
        if let Some(expected) = case["error"].as_str() {
            let err = outcome.expect_err(name);
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{name}: {err}");
            assert!(err.to_string().contains(expected), "{name}: {err}");
            continue;
        }
        outcome.unwrap_or_else(|e| panic!("{name}: {e}"));
        for (path, hex) in case["read"].as_object().expect("read") {
            let got = c.sandbox().files().read(&sb.id, path).await.expect(name);
            assert_eq!(
                got.as_ref(),
                from_hex(hex.as_str().expect("hex")),
                "{name}: {path}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn typed_items_carry_every_byte_value() {
    let env = env();
    let c = &env.client;
    let sb = c
        .sandboxes()
        .create(SandboxesCreateParams::default().name("typed").wait(true))
        .await
        .expect("created");
    let all: Vec<u8> = (0..=255).collect();
    let written = c
        .sandbox()
        .files()
        .write_many(
            &sb.id,
            vec![
                FileWrite::new("/workspace/all.bin", all.clone()),
                FileWrite::new("/workspace/hi.txt", "hi\n"),
            ],
        )
        .await
        .expect("written");
    assert_eq!(written.written.len(), 2, "{written:?}");
    let got = c
        .sandbox()
        .files()
        .read(&sb.id, "/workspace/all.bin")
        .await
        .expect("read");
    assert_eq!(got.as_ref(), all.as_slice());
    let got = c
        .sandbox()
        .files()
        .read(&sb.id, "/workspace/hi.txt")
        .await
        .expect("read");
    assert_eq!(got.as_ref(), b"hi\n");
}
