//! Waiting with a state callback: each new lifecycle state seen while polling
//! is reported once, ending in the ready one.

mod common;

use std::sync::{Arc, Mutex};

use miosa::api::{
    ComputerWaitUntilRunningParams, ComputersCreateParams, SandboxesCreateParams,
    SandboxesWaitUntilReadyParams,
};

use common::env;

fn recorder() -> (
    Arc<Mutex<Vec<String>>>,
    impl Fn(&str) + Send + Sync + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    (seen, move |state: &str| {
        sink.lock().expect("lock").push(state.to_owned());
    })
}

fn assert_no_repeats(states: &[String]) {
    assert!(
        states.windows(2).all(|w| w[0] != w[1]),
        "a state reported twice in a row: {states:?}"
    );
}

#[tokio::test]
async fn a_booting_sandbox_reports_each_state_once_and_ends_running() {
    let env = env();
    let sandbox = env
        .client
        .sandboxes()
        .create(SandboxesCreateParams::default().name("watched"))
        .await
        .expect("created");
    let (seen, on_state) = recorder();
    let ready = env
        .client
        .wait_until_ready_with_states(
            &sandbox.id,
            SandboxesWaitUntilReadyParams::default().timeout(10.0),
            on_state,
        )
        .await
        .expect("waited");
    assert!(ready);
    let states = seen.lock().expect("lock").clone();
    assert_eq!(
        states.first().map(String::as_str),
        Some("creating"),
        "{states:?}"
    );
    assert_eq!(
        states.last().map(String::as_str),
        Some("running"),
        "{states:?}"
    );
    assert_no_repeats(&states);
}

#[tokio::test]
async fn a_booting_computer_reports_its_statuses_up_to_running() {
    let env = env();
    let computer = env
        .client
        .computers()
        .create(ComputersCreateParams::default().name("watched"))
        .await
        .expect("created");
    let (seen, on_state) = recorder();
    let running = env
        .client
        .wait_until_running_with_states(
            &computer.id,
            ComputerWaitUntilRunningParams::default().timeout(10.0),
            on_state,
        )
        .await
        .expect("waited");
    assert!(running);
    let states = seen.lock().expect("lock").clone();
    assert_eq!(
        states.last().map(String::as_str),
        Some("running"),
        "{states:?}"
    );
    assert!(
        states.len() >= 2,
        "the boot was seen, not only its end: {states:?}"
    );
    assert_no_repeats(&states);
}

#[tokio::test]
async fn an_operation_that_does_not_wait_refuses_a_state_callback() {
    let env = env();
    let op = miosa::ops::find("sandboxes.get").expect("in the table");
    let err = env
        .client
        .invoke_watching(
            op,
            vec!["sbx_x".into()],
            Default::default(),
            Arc::new(|_: &str| {}),
        )
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), miosa::ErrorKind::Usage);
    assert!(err.to_string().contains("sandboxes.get"), "{err}");
}
