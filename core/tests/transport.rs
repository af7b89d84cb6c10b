//! Transport honesty: plain http to a remote host is refused before any
//! request, a client without CA certificates says so and still reaches
//! loopback over http, explicit nulls reach the wire, and retries are on by
//! default without duplicating a create.

mod common;

use std::time::Duration;

use common::{client_with, env, fault, recorded};
use miosa::api::{SandboxesCreateParams, SandboxesListParams, SandboxesUpdateParams};
use miosa::{Client, ErrorKind, RequestOptions};
use serde_json::{Value, json};

#[test]
fn plain_http_to_a_remote_host_needs_the_opt_in() {
    let err = Client::builder("msk_u_x")
        .base_url("http://user:pw_secret@api.example.com/v1")
        .build()
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.message().contains("allow_insecure_http"), "{err}");
    assert!(!err.message().contains("pw_secret"), "{err}");
    let client = Client::builder("msk_u_x")
        .base_url("http://api.example.com/v1")
        .allow_insecure_http(true)
        .build()
        .expect("opted in");
    assert!(client.config().allow_insecure_http());
}

/// Runs this test binary again with `SSL_CERT_FILE`/`SSL_CERT_DIR` pointing at
/// nothing, so the child builds its clients with an empty CA store.
#[test]
fn an_empty_ca_store_is_reported_and_loopback_http_still_works() {
    if std::env::var_os("MIOSA_TEST_NO_CA").is_some() {
        let emulator =
            miosa_emulator::Emulator::try_spawn(miosa_emulator::Config::default()).expect("emu");
        let local = Client::builder(emulator.api_key())
            .base_url(emulator.base_url())
            .build()
            .expect("a loopback http client needs no CA store");
        let sandbox = local
            .blocking()
            .sandboxes()
            .get("sbx_fixture")
            .expect("loopback call");
        assert_eq!(sandbox.id, "sbx_fixture");
        match Client::builder("msk_u_x")
            .base_url("https://api.example.com/v1")
            .build()
        {
            Err(err) => assert!(err.message().contains("CA certificates"), "{err}"),
            // Some platforms verify against bundled roots: then nothing is missing.
            Ok(_) => println!("the platform verifier did not need the system store"),
        }
        return;
    }
    let empty = std::env::temp_dir().join(format!("miosa-no-ca-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("dir");
    let bundle = empty.join("none.pem");
    std::fs::write(&bundle, "").expect("empty bundle");
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([
            "an_empty_ca_store_is_reported_and_loopback_http_still_works",
            "--exact",
            "--nocapture",
        ])
        .env("MIOSA_TEST_NO_CA", "1")
        .env("SSL_CERT_FILE", &bundle)
        .env("SSL_CERT_DIR", &empty)
        .output()
        .expect("child runs");
    let _ = std::fs::remove_dir_all(&empty);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn retries_are_on_by_default_and_a_create_is_made_once() {
    let env = env();
    let client = Client::builder(env.emulator.api_key())
        .base_url(env.emulator.base_url())
        .retry_policy(miosa::RetryPolicy {
            base_delay: Duration::from_millis(10),
            ..miosa::RetryPolicy::default()
        })
        .build()
        .expect("client");
    let before = client
        .sandboxes()
        .list(SandboxesListParams::default())
        .await
        .expect("list")
        .len();
    fault(
        &env,
        json!({"path": "/sandboxes", "method": "POST", "status": 503, "times": 1}),
    )
    .await;
    let created = client
        .sandboxes()
        .create(SandboxesCreateParams::default().name("absorbed"))
        .await
        .expect("the 503 is absorbed");
    assert_eq!(created.name.as_deref(), Some("absorbed"));
    let after = client
        .sandboxes()
        .list(SandboxesListParams::default())
        .await
        .expect("list")
        .len();
    assert_eq!(after, before + 1);
}

#[tokio::test]
async fn an_explicit_null_reaches_the_wire() {
    let env = env();
    let client = client_with(&env.emulator, |b| b);
    let mut params = SandboxesUpdateParams::default().tags(vec!["a".to_owned()]);
    params.extra.insert("slug".to_owned(), Value::Null);
    client
        .with_options(RequestOptions::new().body_field("name", Value::Null))
        .expect("options")
        .sandboxes()
        .update("sbx_fixture", params)
        .await
        .expect("updated");
    let log = recorded(&env, 5);
    let patch = log
        .iter()
        .rev()
        .find(|e| e["method"] == "PATCH")
        .expect("the PATCH was recorded");
    assert_eq!(
        patch["body"],
        json!({"tags": ["a"], "slug": null, "name": null})
    );
}
