//! The first vertical slice against the emulator: sandboxes, computer
//! start/destroy, exec, readiness and events — happy paths, error paths,
//! async and blocking forms.

mod common;

use std::time::{Duration, Instant};

use miosa::api::{
    ExecRunParams, SandboxExecRunParams, SandboxesCreateParams, SandboxesUpdateParams,
    SandboxesWaitUntilReadyParams,
};
use miosa::{Client, Control, ErrorKind};

use common::{client_for, env, recorded};

/// A sandbox that already runs (`wait`), ready for commands.
fn create(api: &miosa::api::BlockingClient, name: &str) -> String {
    api.sandboxes()
        .create(SandboxesCreateParams::default().name(name).wait(true))
        .expect("create")
        .id
}

#[test]
fn first_request_blocking() {
    let env = env();
    let api = env.client.blocking();
    // The seed's flow: create (the sandbox boots by itself), start, exec.
    let id = api
        .sandboxes()
        .create(SandboxesCreateParams::default().name("quick-exec"))
        .expect("create")
        .id;
    api.computer()
        .start(&id, Default::default())
        .expect("start");
    let out = api
        .exec()
        .run(
            &id,
            ExecRunParams::default().command("python3 -c 'print(1 + 1)'"),
        )
        .expect("exec");
    assert_eq!(out.text(), "2\n");
    assert_eq!(out.exit_code, 0);
    assert_eq!(out.output, out.stdout, "the computer route fills both");
    api.computer()
        .destroy(&id, Default::default())
        .expect("destroy");
    let err = api.sandboxes().get(&id).expect_err("gone");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn crud_async() {
    let env = env();
    let sandboxes = env.client.sandboxes();
    let created = sandboxes
        .create(
            SandboxesCreateParams::default()
                .name("crud")
                .external_user_id("usr_42"),
        )
        .await
        .expect("create");
    let id = created.id.clone();
    assert_eq!(created.name.as_deref(), Some("crud"));

    let fetched = sandboxes.get(&id).await.expect("get");
    assert_eq!(fetched.id, id);

    let listed = sandboxes.list(Default::default()).await.expect("list");
    assert!(listed.iter().any(|s| s.id == id));

    let updated = sandboxes
        .update(&id, SandboxesUpdateParams::default().name("renamed"))
        .await
        .expect("update");
    assert_eq!(updated.name.as_deref(), Some("renamed"));

    sandboxes.delete(&id).await.expect("delete");
    let err = sandboxes.get(&id).await.expect_err("deleted");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("NOT_FOUND"));
    assert!(err.request_id().is_some(), "request id captured");
}

#[test]
fn wrong_key_is_401_and_never_leaks() {
    let env = env();
    let bad = client_for(&env.emulator, "msk_u_not_the_right_key_123");
    let err = bad
        .blocking()
        .sandboxes()
        .get("sbx_fixture")
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.status(), Some(401));
    let shown = format!("{err} {err:?} {bad:?}");
    assert!(!shown.contains("not_the_right_key"), "{shown}");
}

#[test]
fn bad_key_is_refused_before_the_network() {
    let err = Client::new("sk_live_abc").expect_err("bad prefix");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(err.status(), None);
}

#[test]
fn invalid_bodies_are_refused_by_the_server_or_before_it() {
    let env = env();
    let api = env.client.blocking();
    let id = create(&api, "v");
    // A wrong type for a known field reaches the server as the caller sent it.
    let err = api
        .sandboxes()
        .create(SandboxesCreateParams {
            extra: serde_json::from_value(serde_json::json!({"size": 12})).expect("map"),
            ..Default::default()
        })
        .expect_err("size must be a string");
    assert_eq!(err.kind(), ErrorKind::Validation, "{err}");
    assert_eq!(err.status(), Some(422));
    // A required parameter left out is refused before the network, naming it.
    let err = api
        .exec()
        .run(&id, ExecRunParams::default())
        .expect_err("command is required");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert_eq!(err.status(), None, "{err}");
    assert!(err.to_string().contains("`command` is required"), "{err}");
    let err = api
        .sandbox()
        .exec()
        .run(&id, SandboxExecRunParams::default())
        .expect_err("command is required");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
}

#[test]
fn unknown_ids_are_404_everywhere_in_the_slice() {
    let env = env();
    let api = env.client.blocking();
    let missing = "sbx_does_not_exist";
    let errors = [
        api.sandboxes().get(missing).map(drop),
        api.sandboxes().delete(missing).map(drop),
        api.sandboxes()
            .update(missing, Default::default())
            .map(drop),
        api.computer().start(missing, Default::default()).map(drop),
        api.computer()
            .destroy(missing, Default::default())
            .map(drop),
        api.exec()
            .run(missing, ExecRunParams::default().command("true"))
            .map(drop),
        api.sandbox()
            .exec()
            .run(missing, SandboxExecRunParams::default().command("true"))
            .map(drop),
        api.sandbox()
            .exec()
            .bash(missing, "true", Default::default())
            .map(drop),
        api.sandbox()
            .exec()
            .python(missing, "print(1)", Default::default())
            .map(drop),
        api.sandbox().events().stream(missing).map(drop),
    ];
    for (i, result) in errors.into_iter().enumerate() {
        let err = result.expect_err("missing sandbox");
        assert_eq!(err.kind(), ErrorKind::NotFound, "call {i}: {err}");
    }
}

#[test]
fn sandbox_exec_forms() {
    let env = env();
    let api = env.client.blocking();
    let id = create(&api, "exec");
    let run = api
        .sandbox()
        .exec()
        .run(
            &id,
            SandboxExecRunParams::default().command("echo out; echo err >&2; exit 3"),
        )
        .expect("run");
    assert_eq!(run.stdout, "out\n");
    assert_eq!(run.output, "out\n", "the sandbox route fills both");
    assert_eq!(run.stderr.as_deref(), Some("err\n"));
    assert_eq!(run.exit_code, 3);
    let bash = api
        .sandbox()
        .exec()
        .bash(&id, "echo $((6 * 7))", Default::default())
        .expect("bash");
    assert_eq!(bash.text(), "42\n");
    let py = api
        .sandbox()
        .exec()
        .python(&id, "print(40 + 2)", Default::default())
        .expect("python");
    assert!(
        serde_json::to_string(&py).expect("json").contains("42"),
        "{py:?}"
    );
}

#[test]
fn idempotency_key_returns_the_same_sandbox() {
    let env = env();
    let api = env.client.blocking();
    let params = SandboxesCreateParams::default()
        .name("once")
        .idempotency_key("idem-123");
    let a = api.sandboxes().create(params.clone()).expect("first");
    let b = api.sandboxes().create(params).expect("second");
    assert_eq!(a.id, b.id);
    let last = recorded(&env, 2);
    let key = |r: &serde_json::Value| r["headers"]["idempotency-key"].as_str().map(str::to_owned);
    assert!(
        last.iter().any(|r| key(r).as_deref() == Some("idem-123")),
        "{last:?}"
    );
    let body_has_key = last
        .iter()
        .any(|r| r["body"].get("idempotency_key").is_some());
    assert!(
        !body_has_key,
        "the key travels as a header, not in the body"
    );
}

#[tokio::test]
async fn wait_until_ready_async() {
    let env = env();
    let sandboxes = env.client.sandboxes();
    let id = sandboxes
        .create(SandboxesCreateParams::default().name("ready"))
        .await
        .expect("create")
        .id;
    let ready = sandboxes
        .wait_until_ready(&id, SandboxesWaitUntilReadyParams::default().timeout(10.0))
        .await
        .expect("wait");
    assert!(ready);
    let polled = sandboxes
        .wait_until_ready(
            &id,
            SandboxesWaitUntilReadyParams::default()
                .timeout(10.0)
                .stream(false),
        )
        .await
        .expect("poll");
    assert!(polled);
    let err = sandboxes
        .wait_until_ready(
            "sbx_missing",
            SandboxesWaitUntilReadyParams::default().timeout(2.0),
        )
        .await
        .expect_err("missing");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn events_stream_stops_from_the_callback() {
    let env = env();
    let api = env.client.blocking();
    let stream = api.sandbox().events().stream("sbx_fixture").expect("open");
    let mut seen = Vec::new();
    let started = Instant::now();
    stream
        .for_each_blocking(|event| {
            seen.push(event);
            Control::Stop
        })
        .expect("stream");
    assert_eq!(seen.len(), 1, "stop ends delivery at once");
    assert!(!seen[0].event.is_empty());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn events_stream_async_iteration_and_drop() {
    let env = env();
    let stream = env
        .client
        .sandbox()
        .events()
        .stream("sbx_fixture")
        .await
        .expect("open");
    let first = stream.next().await.expect("an event").expect("ok");
    assert!(!first.data.is_empty());
    drop(stream);
}

#[tokio::test]
async fn blocking_inside_a_runtime_is_a_usage_error() {
    let env = env();
    let err = env
        .client
        .blocking()
        .sandboxes()
        .get("sbx_fixture")
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Usage);
}

#[test]
fn extra_headers_query_and_body_reach_the_server() {
    let env = env();
    let client = env
        .client
        .with_options(
            miosa::RequestOptions::new()
                .header("x-tenant-id", "acme-corp")
                .query("trace", "yes")
                .body_field("labels", serde_json::json!({"team": "qa"})),
        )
        .expect("options");
    let created = client
        .blocking()
        .sandboxes()
        .create(SandboxesCreateParams::default().name("opts"));
    if miosa_emulator::Config::default().strict {
        // A strict emulator refuses, by name, a field the API does not take.
        let err = created.expect_err("strict mode refuses labels");
        assert_eq!(err.status(), Some(422), "{err}");
        assert!(err.to_string().contains("labels"), "{err}");
    } else {
        created.expect("create");
    }
    let last = recorded(&env, 2);
    let req = last
        .iter()
        .rev()
        .find(|r| r["method"] == "POST")
        .expect("the create was recorded");
    assert_eq!(req["body"]["labels"]["team"], "qa", "{req}");
    assert_eq!(req["query"]["trace"], "yes", "{req}");
    assert_eq!(req["headers"]["x-tenant-id"], "acme-corp", "{req}");
}

#[test]
fn audit_log_walks_every_page() {
    let env = env();
    let api = env.admin.blocking();
    let first = api
        .audit_log()
        .list(miosa::api::AuditLogListParams::default().limit(2))
        .expect("page");
    assert_eq!(first.items.len(), 2);
    assert!(first.next_cursor.is_some());
    let mut pages = 0;
    let pager = api
        .audit_log()
        .iter(miosa::api::AuditLogListParams::default().limit(2))
        .expect("pager");
    let mut ids = Vec::new();
    while let Some(page) = pager.next_page_blocking().expect("page") {
        pages += 1;
        ids.extend(page.items.into_iter().map(|e| e.id));
    }
    assert!(pages >= 3, "several pages: {pages}");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no entry twice");
    let all: Vec<_> = api
        .audit_log()
        .iter(miosa::api::AuditLogListParams::default().limit(2))
        .expect("pager")
        .collect::<Result<_, _>>()
        .expect("items");
    assert_eq!(all.len(), ids.len());
}

#[test]
fn completions_stream_always_asks_for_a_stream_and_ends_at_done() {
    let env = env();
    let api = env.client.blocking();
    let params = miosa::api::CompletionsStreamParams::default()
        .model("miosa-1")
        .messages(vec![serde_json::json!({"role": "user", "content": "hi"})]);
    let stream = api.completions().stream(params).expect("open");
    let mut chunks = 0;
    while let Some(event) = stream.next_blocking() {
        let event = event.expect("event");
        assert_ne!(
            event.data, "[DONE]",
            "the sentinel ends the stream, it is not delivered"
        );
        event.json().expect("chunks are JSON");
        chunks += 1;
    }
    let last = recorded(&env, 3);
    assert!(chunks > 0, "{last:?}");
    let last = recorded(&env, 1);
    assert_eq!(last[0]["body"]["stream"], true, "{:?}", last[0]);
}
