//! Calls beyond the seed that need more than one request to prove: a
//! streamed command delivers its lines while it runs, and a multipart upload
//! (from bytes and from a local file) comes back byte for byte.

mod common;

use miosa::api::{FilesUploadParams, FilesWriteParams, SandboxExecStreamParams};
use miosa::{ErrorKind, Event};
use serde_json::Value;

use common::{env, recorded};

/// Prints `alpha`, then waits (bounded) for a file the test writes only once
/// it has read `alpha`: `beta` can follow only if `alpha` arrived while the
/// command was still running.
const HANDSHAKE: &str = "echo alpha; i=0; while [ ! -f go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; [ -f go ] && echo beta";

fn line(event: &Event) -> String {
    let data: Value = serde_json::from_str(&event.data).expect("event data is JSON");
    data["line"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_exec_delivers_alpha_while_running_then_beta() {
    let env = env();
    let client = env.client.clone();
    let stream = client
        .sandbox()
        .exec()
        .stream(
            "sbx_fixture",
            SandboxExecStreamParams::default()
                .command(HANDSHAKE)
                .timeout(30),
        )
        .await
        .expect("stream opens");
    let mut seen = Vec::new();
    for _ in 0..10 {
        let Some(event) = stream.next().await else {
            break;
        };
        let event = event.expect("event");
        if event.event == "stdout" && line(&event) == "alpha" {
            client
                .sandbox()
                .files()
                .write("sbx_fixture", "/workspace/go", b"go".to_vec())
                .await
                .expect("the go file is written");
        }
        let done = event.event == "exit";
        seen.push(event);
        if done {
            break;
        }
    }
    let shown: Vec<(String, String)> = seen
        .iter()
        .map(|e| (e.event.clone(), e.data.clone()))
        .collect();
    assert_eq!(seen.len(), 3, "{shown:?}");
    assert_eq!(
        (seen[0].event.as_str(), line(&seen[0]).as_str()),
        ("stdout", "alpha")
    );
    assert_eq!(
        (seen[1].event.as_str(), line(&seen[1]).as_str()),
        ("stdout", "beta")
    );
    let exit: Value = serde_json::from_str(&seen[2].data).expect("exit data");
    assert_eq!(
        (seen[2].event.as_str(), exit["exit_code"].as_i64()),
        ("exit", Some(0))
    );
}

/// Every byte value, over several of the client's read chunks.
fn sample(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from((i * 7 + i / 256) % 256).unwrap_or(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_uploads_come_back_byte_for_byte() {
    let env = env();
    let files = env.client.files();

    let bytes = sample(70_000);
    let written = files
        .write(
            "cmp_fixture",
            "/home/user/rt/from-bytes.bin",
            bytes.clone(),
            FilesWriteParams::default(),
        )
        .await
        .expect("multipart write");
    assert!(
        written.path.ends_with("/rt/from-bytes.bin"),
        "{}",
        written.path
    );
    let last = recorded(&env, 1).pop().expect("a request");
    let ctype = last["headers"]["content-type"].as_str().unwrap_or_default();
    assert!(
        ctype.starts_with("multipart/form-data; boundary="),
        "{ctype}"
    );
    let back = files
        .download("cmp_fixture", "/home/user/rt/from-bytes.bin")
        .await
        .expect("download");
    assert_eq!(back.as_ref(), bytes.as_slice());

    let local = std::env::temp_dir().join(format!("miosa-upload-{}.bin", std::process::id()));
    let on_disk = sample(300_000);
    std::fs::write(&local, &on_disk).expect("local file");
    let local_text = local.to_str().expect("utf-8 temp path");
    files
        .upload(
            "cmp_fixture",
            local_text,
            "/home/user/rt/from-disk.bin",
            FilesUploadParams::default(),
        )
        .await
        .expect("multipart upload from disk");
    let back = files
        .download("cmp_fixture", "/home/user/rt/from-disk.bin")
        .await
        .expect("download");
    let _ = std::fs::remove_file(&local);
    assert_eq!(back.len(), on_disk.len());
    assert!(
        back.as_ref() == on_disk.as_slice(),
        "the downloaded bytes differ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_of_a_missing_local_file_fails_before_the_network() {
    let env = env();
    let err = env
        .client
        .files()
        .upload(
            "cmp_fixture",
            "/nonexistent/miosa/file.bin",
            "/home/user/x.bin",
            FilesUploadParams::default(),
        )
        .await
        .expect_err("no such file");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("`local_path`"), "{}", err.message());
    let log = recorded(&env, 5);
    assert!(
        !log.iter().any(|r| r["path"]
            .as_str()
            .is_some_and(|p| p.contains("/files/upload"))),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_computer_is_bounded_and_names_a_failure() {
    let env = env();
    let computer = env.client.computer();
    assert!(
        computer
            .wait_until_stopped("cmp_fixture_stopped", Default::default())
            .await
            .expect("wait")
    );
    // A running computer never stops by itself: the wait ends at its deadline.
    let stopped = computer
        .wait_until_stopped(
            "cmp_fixture",
            miosa::api::ComputerWaitUntilStoppedParams::default().timeout(0.3),
        )
        .await
        .expect("wait");
    assert!(!stopped);
    let err = computer
        .wait_until_running("cmp_missing", Default::default())
        .await
        .expect_err("no such computer");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
