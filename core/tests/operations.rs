//! The whole table against the emulator: every operation listed in
//! `tests/calls.json` is called through the generic dispatch, its response
//! decoded, and the request the emulator recorded checked. Prints the table
//! total (`241/241`) with the seed's `169/169` beside it.

mod common;

use std::collections::BTreeSet;

use miosa::ops::{OPERATIONS, find};
use miosa::{Arg, Output};
use serde_json::{Map, Value};

use common::{env, recorded};

fn calls() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/calls.json");
    let text = std::fs::read_to_string(path).expect("tests/calls.json exists");
    serde_json::from_str(&text).expect("calls.json is a JSON array")
}

fn to_arg(value: &Value) -> Arg {
    match value.get("$bytes").and_then(Value::as_str) {
        Some(text) => Arg::Bytes(text.as_bytes().to_vec().into()),
        None => Arg::Json(value.clone()),
    }
}

fn sorted_keys(body: &Value) -> Vec<String> {
    let mut keys: Vec<String> = body
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[test]
fn every_operation_against_the_emulator() {
    let env = env();
    let client = env.admin.clone();
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for call in calls() {
        let name = call["op"].as_str().expect("op name");
        let Some(op) = find(name) else {
            failures.push(format!("{name}: not in the operation table"));
            continue;
        };
        let given = call["args"].as_object().cloned().unwrap_or_default();
        let mut args = Vec::new();
        for pname in op.positional_names() {
            match given.get(pname) {
                Some(v) => args.push(to_arg(v)),
                None => failures.push(format!("{name}: calls.json lacks argument `{pname}`")),
            }
        }
        let params: Map<String, Value> = call["params"].as_object().cloned().unwrap_or_default();
        let result = client.invoke_blocking(op, args, params);
        match result {
            Err(err) => {
                failures.push(format!("{name}: {err}"));
                continue;
            }
            Ok(Output::Events(stream)) => stream.close(),
            Ok(Output::Bytes(bytes)) => {
                if bytes.is_empty() {
                    failures.push(format!("{name}: empty download"));
                }
            }
            Ok(_) => {}
        }
        if let Some(expect) = call.get("expect").filter(|e| e.is_object()) {
            let last = recorded(&env, 2);
            let req = last.iter().rev().find(|r| {
                !r["path"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("/_emulator/")
            });
            match req {
                None => failures.push(format!("{name}: no request recorded")),
                Some(req) => {
                    if req["method"] != expect["method"] || req["path"] != expect["path"] {
                        failures.push(format!(
                            "{name}: sent {} {}, expected {} {}",
                            req["method"], req["path"], expect["method"], expect["path"]
                        ));
                    }
                    if let Some(keys) = expect.get("body_keys") {
                        let want: Vec<String> = serde_json::from_value(keys.clone()).expect("keys");
                        if sorted_keys(&req["body"]) != want {
                            failures.push(format!(
                                "{name}: body keys {:?}, expected {want:?}",
                                sorted_keys(&req["body"])
                            ));
                        }
                    }
                }
            }
        }
        covered.insert(name.to_owned());
    }
    let seed_ops: Vec<_> = OPERATIONS.iter().filter(|op| op.in_seed()).collect();
    for op in OPERATIONS {
        if !covered.contains(op.name) {
            failures.push(format!("{}: no call in tests/calls.json", op.name));
        }
    }
    let failed: BTreeSet<&str> = failures
        .iter()
        .filter_map(|f| f.split(':').next())
        .collect();
    let passed = seed_ops
        .iter()
        .filter(|op| covered.contains(op.name) && !failed.contains(op.name))
        .count();
    let passed_all = OPERATIONS
        .iter()
        .filter(|op| covered.contains(op.name) && !failed.contains(op.name))
        .count();
    println!(
        "{passed_all}/{} ({passed}/{} seed)",
        OPERATIONS.len(),
        seed_ops.len()
    );
    assert_eq!(seed_ops.len(), 169, "the seed surface has 169 operations");
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
