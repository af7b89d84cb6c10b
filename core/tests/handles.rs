//! Sandbox and computer handles against the emulator: the same routes as the
//! flat calls (read back from the request log), destroy and its drop safety
//! net, keep, and the User-Agent.

mod common;

use common::{Env, control, env};
use miosa::HttpMethod;
use miosa::api::{
    ComputersCreateParams, DesktopClickParams, ExecRunParams, SandboxExecRunParams,
    SandboxFilesListParams, SandboxesCreateParams, SandboxesUpdateParams,
};
use serde_json::Value;

/// Method, path and body of every API request since the log was last cleared.
async fn routes(env: &Env) -> Vec<(String, String, Value)> {
    let Value::Array(items) = control(env, HttpMethod::Get, "/_emulator/requests", None).await
    else {
        panic!("the request log is an array")
    };
    items
        .into_iter()
        .filter(|r| !r["path"].as_str().unwrap_or("").contains("/_emulator"))
        .map(|r| {
            (
                r["method"].as_str().unwrap_or("").to_owned(),
                r["path"].as_str().unwrap_or("").to_owned(),
                r["body"].clone(),
            )
        })
        .collect()
}

async fn clear_log(env: &Env) {
    control(env, HttpMethod::Delete, "/_emulator/requests", None).await;
}

async fn status(env: &Env, path: &str) -> bool {
    env.client
        .request_json(HttpMethod::Get, path, None)
        .await
        .is_ok()
}

fn named(name: &str) -> SandboxesCreateParams {
    SandboxesCreateParams::default().name(name).wait(true)
}

#[tokio::test(flavor = "multi_thread")]
async fn handle_calls_hit_the_flat_routes() {
    let env = env();
    let c = &env.client;
    let mut sb = c
        .sandboxes()
        .create_handle(named("routes"))
        .await
        .expect("the call succeeds");
    let id = sb.id().to_owned();
    let run = || {
        SandboxExecRunParams::default()
            .command("echo hi")
            .timeout(30)
    };
    let list = || SandboxFilesListParams::default().path("/workspace");

    clear_log(&env).await;
    c.sandbox()
        .exec()
        .run(&id, run())
        .await
        .expect("the call succeeds");
    c.sandbox()
        .files()
        .write(&id, "/workspace/a.txt", &b"a"[..])
        .await
        .expect("the call succeeds");
    c.sandbox()
        .files()
        .read(&id, "/workspace/a.txt")
        .await
        .expect("the call succeeds");
    c.sandbox()
        .files()
        .list(&id, list())
        .await
        .expect("the call succeeds");
    c.sandbox()
        .env()
        .list(&id)
        .await
        .expect("the call succeeds");
    c.sandbox()
        .processes()
        .list(&id)
        .await
        .expect("the call succeeds");
    c.sandboxes().get(&id).await.expect("the call succeeds");
    let expected = routes(&env).await;

    clear_log(&env).await;
    let out = sb.exec().run(run()).await.expect("the call succeeds");
    assert_eq!(out.stdout.trim(), "hi");
    sb.files()
        .write("/workspace/a.txt", &b"a"[..])
        .await
        .expect("the call succeeds");
    assert_eq!(
        &sb.files()
            .read("/workspace/a.txt")
            .await
            .expect("the call succeeds")[..],
        b"a"
    );
    sb.files().list(list()).await.expect("the call succeeds");
    sb.env().list().await.expect("the call succeeds");
    sb.processes().list().await.expect("the call succeeds");
    sb.refresh().await.expect("the call succeeds");
    assert_eq!(routes(&env).await, expected);
    assert_eq!(expected.len(), 7);
    sb.destroy().await.expect("the call succeeds");
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_and_update_keep_the_record_fresh() {
    let env = env();
    let mut sb = env
        .client
        .sandboxes()
        .create_handle(named("before"))
        .await
        .expect("the call succeeds");
    assert_eq!(sb.data().and_then(|d| d.name.as_deref()), Some("before"));
    sb.update(SandboxesUpdateParams::default().name("after"))
        .await
        .expect("the call succeeds");
    assert_eq!(sb.data().and_then(|d| d.name.as_deref()), Some("after"));

    let id = sb.id().to_owned();
    let mut again = env
        .client
        .sandboxes()
        .connect(&id)
        .expect("the call succeeds");
    assert!(again.data().is_none());
    again.refresh().await.expect("the call succeeds");
    assert_eq!(again.data().map(|d| d.id.as_str()), Some(id.as_str()));
    assert_eq!(again.keep(), id);
    assert!(env.client.sandboxes().connect("").is_err());
    sb.destroy().await.expect("the call succeeds");
    assert!(!status(&env, &format!("/sandboxes/{id}")).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_leaves_it_and_drop_destroys_in_the_background() {
    let env = env();
    let kept = env
        .client
        .sandboxes()
        .create_handle(named("kept"))
        .await
        .expect("the call succeeds");
    let kept_id = kept.keep();
    assert!(status(&env, &format!("/sandboxes/{kept_id}")).await);

    // A handle dropped on an early return (or a panic unwinding) still goes away.
    let dropped_id = {
        let sb = env
            .client
            .sandboxes()
            .create_handle(named("dropped"))
            .await
            .expect("the call succeeds");
        sb.id().to_owned()
    };
    let path = format!("/sandboxes/{dropped_id}");
    let mut gone = false;
    for _ in 0..100 {
        if !status(&env, &path).await {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(gone, "the dropped handle did not destroy its sandbox");
}

#[tokio::test(flavor = "multi_thread")]
async fn computer_handle_binds_computer_desktop_and_exec() {
    let env = env();
    let c = &env.client;
    let pc = c
        .computers()
        .create_handle(ComputersCreateParams::default().name("desk"))
        .await
        .expect("the call succeeds");
    let id = pc.id().to_owned();
    pc.start(Default::default())
        .await
        .expect("the call succeeds");
    clear_log(&env).await;
    c.exec()
        .run(&id, ExecRunParams::default().command("echo flat"))
        .await
        .expect("the call succeeds");
    c.desktop()
        .click(&id, 1, 2, DesktopClickParams::default())
        .await
        .expect("the call succeeds");
    let expected = routes(&env).await;
    clear_log(&env).await;
    pc.exec()
        .run(ExecRunParams::default().command("echo flat"))
        .await
        .expect("the call succeeds");
    pc.desktop()
        .click(1, 2, DesktopClickParams::default())
        .await
        .expect("the call succeeds");
    assert_eq!(routes(&env).await, expected);
    clear_log(&env).await;
    pc.destroy(Default::default())
        .await
        .expect("the call succeeds");
    let deleted: Vec<(String, String)> = routes(&env)
        .await
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    assert_eq!(
        deleted,
        [("DELETE".to_owned(), format!("/api/v1/computers/{id}"))]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn user_agent_names_package_runtime_and_platform() {
    let env = env();
    env.client
        .credits()
        .balance()
        .await
        .expect("the call succeeds");
    let last = common::recorded(&env, 2)
        .into_iter()
        .rev()
        .find(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/credits/balance"))
        })
        .expect("the balance request is logged");
    assert_eq!(
        last["headers"]["user-agent"],
        format!(
            "miosa-native/{} rust {} {}",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        )
    );
}
