//! Raw responses, logging and streamed transfers, against the emulator.

mod common;

use std::sync::{Arc, Mutex};

use common::env;
use miosa::{LogLevel, LogRecord};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn a_raw_response_carries_status_headers_and_request_id() {
    let env = env();
    let client = env.client.clone();
    rt().block_on(async {
        let created = client
            .sandboxes()
            .create(Default::default())
            .await
            .expect("create");
        let (sandbox, response) = client
            .with_response(client.sandboxes().get(&created.id))
            .await
            .expect("get");
        assert_eq!(sandbox.id, created.id);
        assert_eq!(response.status, 200);
        let id = response
            .request_id
            .clone()
            .expect("the emulator sends a request id");
        assert_eq!(response.header("X-Request-Id"), Some(id.as_str()));
        assert!(response.header("content-type").is_some(), "{response:?}");
        // Each call reports its own response.
        let (_, again) = client
            .with_response(client.sandboxes().get(&created.id))
            .await
            .expect("get again");
        assert_ne!(again.request_id, response.request_id);
    });
}

#[test]
fn every_attempt_is_logged_without_secrets() {
    let env = env();
    let client = env.client.clone();
    let records: Arc<Mutex<Vec<LogRecord>>> = Arc::default();
    let sink = Arc::clone(&records);
    miosa::set_log_sink(
        LogLevel::Debug,
        Arc::new(move |r: &LogRecord| sink.lock().expect("lock").push(r.clone())),
    );
    let marker = "canary-route-check";
    rt().block_on(async {
        let created = client
            .sandboxes()
            .create(miosa::api::SandboxesCreateParams::default().name(marker))
            .await
            .expect("create");
        let (_, response) = client
            .with_response(client.sandboxes().get(&created.id))
            .await
            .expect("get");
        let key = env.emulator.api_key().to_owned();
        let records = records.lock().expect("lock").clone();
        let get = records
            .iter()
            .find(|r| r.request_id == response.request_id)
            .expect("the get is logged with its request id");
        assert_eq!(get.method, "GET");
        assert_eq!(get.route, "/sandboxes/{id}");
        assert_eq!(get.status, Some(200));
        assert_eq!(get.attempt, 1);
        for record in &records {
            let line = format!("{record} {record:?}");
            assert!(!line.contains(&key), "the key leaked: {line}");
            assert!(!line.contains(marker), "a body leaked: {line}");
        }
    });
    miosa::clear_log_sink();
}

/// Progress reports: `(bytes_done, total)`.
type Steps = Vec<(u64, Option<u64>)>;

#[test]
fn files_stream_to_and_from_paths_with_progress() {
    let env = env();
    let client = env.client.clone();
    let dir = std::env::temp_dir().join(format!("miosa-transfer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let source = dir.join("up.bin");
    let target = dir.join("down.bin");
    let content: Vec<u8> = (0..3 * 1024 * 1024 + 7)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    std::fs::write(&source, &content).expect("write source");
    let seen: Arc<Mutex<Steps>> = Arc::default();
    let progress = {
        let seen = Arc::clone(&seen);
        Arc::new(move |done, total| seen.lock().expect("lock").push((done, total)))
            as miosa::Progress
    };
    rt().block_on(async {
        // Test clients do not retry, so wait for the sandbox to boot first.
        let sandbox = client
            .sandboxes()
            .create(miosa::api::SandboxesCreateParams::default().wait(true))
            .await
            .expect("create");
        let written = client
            .upload_from_path(
                &sandbox.id,
                "/workspace/data/blob.bin",
                &source,
                Some(progress.clone()),
            )
            .await
            .expect("upload");
        assert_eq!(written["size_bytes"], content.len() as u64, "{written}");
        let up = std::mem::take(&mut *seen.lock().expect("lock"));
        assert_eq!(up.first(), Some(&(0, Some(content.len() as u64))));
        assert_eq!(
            up.last(),
            Some(&(content.len() as u64, Some(content.len() as u64)))
        );
        assert!(up.windows(2).all(|w| w[0].0 <= w[1].0), "{up:?}");

        let n = client
            .download_to_path(
                &sandbox.id,
                "/workspace/data/blob.bin",
                &target,
                Some(progress),
            )
            .await
            .expect("download");
        assert_eq!(n, content.len() as u64);
        assert_eq!(std::fs::read(&target).expect("read target"), content);
        let down = seen.lock().expect("lock").clone();
        assert_eq!(down.last(), Some(&(n, Some(n))), "{down:?}");
        assert!(down.len() >= 3, "progress along the way: {down:?}");

        let missing = client
            .upload_from_path(&sandbox.id, "/x", dir.join("absent"), None)
            .await
            .expect_err("no such local file");
        assert!(missing.to_string().contains("local_path"), "{missing}");
        let gone = client
            .download_to_path(&sandbox.id, "/workspace/nope.bin", dir.join("nope"), None)
            .await
            .expect_err("no such remote file");
        assert_eq!(gone.status(), Some(404), "{gone}");
    });
    std::fs::remove_dir_all(&dir).ok();
}
