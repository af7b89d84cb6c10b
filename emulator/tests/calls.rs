//! Proves `tests/calls.json` against the emulator without any client code:
//! every entry is turned into the raw request the operation table
//! (`core/operations.toml`) describes, sent in order to an emulator in strict
//! mode (so every spelling of the table is one the emulator calls
//! canonical), and the request the emulator recorded is checked against the
//! entry's `expect`. A second walk sends each request once more with one
//! unknown key and expects strict mode to refuse it by name.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use common::{Harness, b64, enc, has_event, read_sse};

const TABLE: &str = include_str!("../../core/operations.toml");
const CALLS: &str = include_str!("../../tests/calls.json");

/// One parameter spec `name[:type][>wire]`.
#[derive(Debug, Clone)]
struct Field {
    name: String,
    ty: String,
    wire: String,
}

fn fields(spec: Option<&String>) -> Vec<Field> {
    spec.map(|s| {
        s.split_whitespace()
            .map(|tok| {
                let (left, wire) = tok.split_once('>').unwrap_or((tok, ""));
                let (name, ty) = left.split_once(':').unwrap_or((left, "str"));
                Field {
                    name: name.to_owned(),
                    ty: ty.to_owned(),
                    wire: if wire.is_empty() {
                        name.to_owned()
                    } else {
                        wire.to_owned()
                    },
                }
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Reads a quoted TOML basic string starting after the opening quote.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(match n {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The `[ops]` lines of the table: `"name" = { key = "value", flag = true }`.
fn table() -> HashMap<String, HashMap<String, String>> {
    let mut ops = HashMap::new();
    for line in TABLE.lines().filter(|l| l.starts_with('"')) {
        let mut chars = line.chars().peekable();
        chars.next();
        let name = quoted(&mut chars);
        let mut map = HashMap::new();
        let mut key = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    let v = quoted(&mut chars);
                    map.insert(
                        key.trim().trim_start_matches([',', '{']).trim().to_owned(),
                        v,
                    );
                    key.clear();
                }
                '=' => {}
                ',' | '{' | '}' => {
                    let k = key.trim().to_owned();
                    if let Some((k, v)) = k.split_once(char::is_whitespace) {
                        map.insert(k.to_owned(), v.trim().to_owned());
                    }
                    key.clear();
                }
                c => key.push(c),
            }
        }
        ops.insert(name, map);
    }
    ops
}

fn query_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(query_value).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// A `{"$bytes": text}` argument as raw bytes.
fn bytes_arg(v: &Value) -> Vec<u8> {
    v.get("$bytes")
        .and_then(Value::as_str)
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_else(|| query_value(v).into_bytes())
}

struct Built {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    json: Option<Value>,
    raw: Option<(Vec<u8>, String)>,
    form: Option<Form>,
}

/// A multipart form: text fields, then the `file` part's bytes and name.
type Form = (Vec<(String, String)>, Vec<u8>, String);

/// The form a multipart upload sends: the argument sent as `file` is the
/// part (bytes, or a local file's contents), every other value a text field.
fn multipart_of(
    op: &str,
    spec: &HashMap<String, String>,
    args: &Map<String, Value>,
    params: &Map<String, Value>,
) -> (Vec<(String, String)>, Vec<u8>, String) {
    let mut texts = Vec::new();
    let mut file = None;
    for f in fields(spec.get("args")) {
        let Some(v) = args.get(&f.name) else { continue };
        if f.wire == "file" {
            file = Some(if f.ty == "bytes" {
                bytes_arg(v)
            } else {
                let local = v.as_str().unwrap_or_default();
                std::fs::read(local).unwrap_or_else(|e| panic!("{op}: {local}: {e}"))
            });
        } else if !f.name.is_empty() && spec["http"].contains(&format!("{{{}}}", f.name)) {
            continue;
        } else {
            texts.push((f.wire, query_value(v)));
        }
    }
    for f in fields(spec.get("body")) {
        if let Some(v) = params.get(&f.name) {
            texts.push((f.wire, query_value(v)));
        }
    }
    let name = texts
        .iter()
        .find(|(k, _)| k == "path")
        .and_then(|(_, p)| p.rsplit('/').next())
        .unwrap_or("upload")
        .to_owned();
    (
        texts,
        file.unwrap_or_else(|| panic!("{op}: no file argument")),
        name,
    )
}

fn multipart_form(
    (fields, bytes, name): &(Vec<(String, String)>, Vec<u8>, String),
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.clone(), v.clone());
    }
    form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.clone()),
    )
}

fn build(
    op: &str,
    spec: &HashMap<String, String>,
    args: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Built {
    let (method, tmpl) = spec["http"].split_once(' ').expect("http is METHOD PATH");
    let method: Method = method.parse().expect("method");
    let mut path = tmpl.to_owned();
    let mut path_params = Vec::new();
    while let Some(start) = path.find('{') {
        let end = path[start..].find('}').expect("closing brace") + start;
        let name = path[start + 1..end].to_owned();
        let value = args
            .get(&name)
            .map(query_value)
            .unwrap_or_else(|| panic!("{op}: missing {name}"));
        path.replace_range(start..=end, &value);
        path_params.push(name);
    }
    if spec.get("upload").is_some_and(|u| u == "multipart") {
        return Built {
            method,
            path,
            query: Vec::new(),
            json: None,
            raw: None,
            form: Some(multipart_of(op, spec, args, params)),
        };
    }
    let in_query = method == Method::GET || method == Method::DELETE;
    let raw_upload = spec.get("upload").is_some_and(|u| u == "raw");
    let mut body = Map::new();
    let mut query = Vec::new();
    let mut raw = None;
    for f in fields(spec.get("args")) {
        if path_params.contains(&f.name) {
            continue;
        }
        let v = args
            .get(&f.name)
            .unwrap_or_else(|| panic!("{op}: missing arg {}", f.name));
        if raw_upload && f.name == "content" {
            let ct = params
                .get("content_type")
                .and_then(Value::as_str)
                .unwrap_or("application/octet-stream");
            raw = Some((bytes_arg(v), ct.to_owned()));
            continue;
        }
        let v = if f.ty == "bytes" {
            json!(b64(&bytes_arg(v)))
        } else {
            v.clone()
        };
        if in_query {
            query.push((f.wire, query_value(&v)));
        } else {
            body.insert(f.wire, v);
        }
    }
    for f in fields(spec.get("body")) {
        if let Some(v) = params.get(&f.name) {
            if raw_upload && f.name == "content_type" {
                continue;
            }
            body.insert(f.wire, v.clone());
        }
    }
    for f in fields(spec.get("query")) {
        if let Some(v) = params.get(&f.name) {
            query.push((f.wire, query_value(v)));
        }
    }
    // Parameters the table does not name pass through as the client sends them:
    // in the body of POST/PUT/PATCH, in the query otherwise.
    let named: Vec<String> = ["args", "body", "query"]
        .iter()
        .flat_map(|k| fields(spec.get(*k)))
        .map(|f| f.name)
        .chain(["content_type".to_owned(), "idempotency_key".to_owned()])
        .collect();
    for (name, v) in params.iter().filter(|(k, _)| !named.contains(k)) {
        if in_query {
            query.push((name.clone(), query_value(v)));
        } else {
            body.insert(name.clone(), v.clone());
        }
    }
    Built {
        method,
        path,
        query,
        json: (!body.is_empty()).then_some(Value::Object(body)),
        raw,
        form: None,
    }
}

/// The requests of the client's hand-written (`custom = true`) operations;
/// `None` for those the client answers without a request.
async fn custom(
    h: &Harness,
    op: &str,
    args: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Option<Built> {
    let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
    let plain = |method: Method, path: String, json: Option<Value>| Built {
        method,
        path,
        query: Vec::new(),
        json,
        raw: None,
        form: None,
    };
    Some(match op {
        "sandbox.tags.add" | "sandbox.tags.remove" => {
            let (_, sbx) = h.get(&format!("/sandboxes/{id}")).await;
            let mut tags: Vec<Value> = sbx["data"]["tags"].as_array().cloned().unwrap_or_default();
            let given = args["tags"].as_array().cloned().unwrap_or_default();
            if op.ends_with("add") {
                tags.extend(given.into_iter().filter(|t| {
                    !sbx["data"]["tags"]
                        .as_array()
                        .is_some_and(|a| a.contains(t))
                }));
            } else {
                tags.retain(|t| !given.contains(t));
            }
            plain(
                Method::PATCH,
                format!("/sandboxes/{id}/tags"),
                Some(json!({"tags": tags})),
            )
        }
        "sandbox.tags.list" => plain(Method::GET, format!("/sandboxes/{id}"), None),
        "sandbox.env.set" => plain(
            Method::PUT,
            format!("/sandboxes/{id}/env"),
            Some(json!({"vars": [{"key": args["key"], "value": args["value"]}]})),
        ),
        "sandboxes.wait_until_ready" => {
            let _ = params;
            plain(
                Method::GET,
                format!("/sandboxes/{id}/readiness/stream"),
                None,
            )
        }
        "stream_sse" => plain(
            Method::GET,
            args["path"].as_str().unwrap_or_default().to_owned(),
            None,
        ),
        "computer.wait_until_running" | "computer.wait_until_stopped" => {
            plain(Method::GET, format!("/computers/{id}"), None)
        }
        "computer.preview_url" => return None,
        other => panic!("calls.json has an unknown custom op {other}"),
    })
}

fn sorted_keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_entry_of_calls_json_succeeds_in_order() {
    let ops = table();
    let calls: Vec<Value> = serde_json::from_str(CALLS).expect("calls.json parses");
    assert_eq!(
        calls.len(),
        ops.len(),
        "one entry per operation of the table"
    );
    let mut seen = std::collections::HashSet::new();
    let h = common::start_strict().await;
    for call in &calls {
        let op = call["op"].as_str().expect("op");
        assert!(seen.insert(op.to_owned()), "{op} appears twice");
        let spec = ops
            .get(op)
            .unwrap_or_else(|| panic!("{op} is not in operations.toml"));
        let empty = Map::new();
        let args = call["args"].as_object().unwrap_or(&empty);
        let params = call["params"].as_object().unwrap_or(&empty);
        let is_custom = spec.get("custom").is_some_and(|c| c == "true");
        let built = if is_custom {
            custom(&h, op, args, params).await
        } else {
            Some(build(op, spec, args, params))
        };
        let Some(built) = built else {
            // Answered by the client alone: the emulator saw no request for it.
            let rec = h.last_request().await;
            assert_eq!(rec["path"], call["expect"]["path"], "{op}: sent a request");
            continue;
        };

        let mut url = h.url(&built.path);
        if !built.query.is_empty() {
            let q: Vec<String> = built
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect();
            url = format!("{url}?{}", q.join("&"));
        }
        let key = if call["auth"] == "admin" {
            h.emu.admin_key()
        } else {
            h.emu.api_key()
        };
        let mut rb = h.http.request(built.method.clone(), url).bearer_auth(key);
        if let Some(j) = &built.json {
            rb = rb.json(j);
        }
        if let Some((bytes, ct)) = &built.raw {
            rb = rb.header("content-type", ct).body(bytes.clone());
        }
        if let Some(form) = &built.form {
            rb = rb.multipart(multipart_form(form));
        }
        // A WebSocket operation is proved by its upgrade (101); the socket then closes.
        let upgraded = call["socket"] == true;
        if upgraded {
            rb = websocket_upgrade(rb);
        }
        let resp = rb.send().await.unwrap_or_else(|e| panic!("{op}: {e}"));
        let status = resp.status();
        let is_sse = resp.headers().get("content-type").is_some_and(|v| {
            v.to_str()
                .unwrap_or_default()
                .starts_with("text/event-stream")
        });
        let body = if upgraded {
            assert_eq!(
                status,
                StatusCode::SWITCHING_PROTOCOLS,
                "{op}: not upgraded"
            );
            drop(resp);
            String::new()
        } else if is_sse {
            let first_only = call["stream"] == "first_event";
            let text = read_sse(resp, Duration::from_secs(15), |t| {
                first_only && has_event(t)
            })
            .await;
            assert!(has_event(&text), "{op}: no event in {text:?}");
            if op == "sandboxes.wait_until_ready" {
                assert!(text.contains("event: ready"), "{op}: {text}");
            }
            if op == "completions.stream" {
                assert!(text.contains("data: [DONE]"), "{op}: {text}");
            }
            text
        } else {
            String::from_utf8_lossy(&resp.bytes().await.expect("body")).into_owned()
        };
        assert!(status.is_success() || upgraded, "{op}: {status} {body}");
        if call["returns"] == "bytes" {
            assert!(!body.is_empty(), "{op}: empty download");
        }
        if call.get("stream").is_some() {
            assert!(is_sse, "{op}: not an SSE response");
        }

        let expect = &call["expect"];
        let rec = h.last_request().await;
        assert_eq!(rec["method"], expect["method"], "{op}: method");
        assert_eq!(rec["path"], expect["path"], "{op}: path");
        let want_body = strings(expect.get("body_keys"));
        assert_eq!(
            sorted_keys(&rec["body"]),
            want_body,
            "{op}: body keys of {}",
            rec["body"]
        );
        if !is_custom {
            assert_eq!(
                sorted_keys(&rec["query"]),
                strings(expect.get("query_keys")),
                "{op}: query keys"
            );
        }
        if let Some(ct) = expect.get("content_type") {
            assert_eq!(&rec["headers"]["content-type"], ct, "{op}: content type");
        }
        assert_eq!(rec["status"], json!(status.as_u16()), "{op}: logged status");
    }
    assert_eq!(
        h.stats().await["created"]["sandbox"],
        json!(2),
        "create and fork made one sandbox each"
    );
    h.emu.shutdown().await;
    let _ = StatusCode::OK;
}

/// The URL of a built request, with `extra` added to its query.
/// The headers of a WebSocket upgrade request (RFC 6455 §4.1).
fn websocket_upgrade(rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    rb.header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
}

fn url_of(h: &Harness, built: &Built, extra: Option<(&str, &str)>) -> String {
    let q: Vec<String> = built
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(extra)
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    if q.is_empty() {
        h.url(&built.path)
    } else {
        format!("{}?{}", h.url(&built.path), q.join("&"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_mode_refuses_an_unknown_key_on_every_route() {
    const UNKNOWN: &str = "zz_not_a_field";
    let ops = table();
    let calls: Vec<Value> = serde_json::from_str(CALLS).expect("calls.json parses");
    let h = common::start_strict().await;
    for call in &calls {
        let op = call["op"].as_str().expect("op");
        let spec = &ops[op];
        let empty = Map::new();
        let args = call["args"].as_object().unwrap_or(&empty);
        let params = call["params"].as_object().unwrap_or(&empty);
        // Each probe starts from the fixtures: a refused call may have acted.
        let (status, _) = h.post("/_emulator/reset", json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let built = if spec.get("custom").is_some_and(|c| c == "true") {
            custom(&h, op, args, params).await
        } else {
            Some(build(op, spec, args, params))
        };
        let Some(built) = built else {
            continue;
        };
        let in_body = built.raw.is_none()
            && built.form.is_none()
            && matches!(built.method, Method::POST | Method::PUT | Method::PATCH);
        let key = if call["auth"] == "admin" {
            h.emu.admin_key()
        } else {
            h.emu.api_key()
        };
        let extra = (!in_body).then_some((UNKNOWN, "1"));
        let mut rb = h
            .http
            .request(built.method.clone(), url_of(&h, &built, extra))
            .bearer_auth(key);
        if in_body {
            let mut body = built
                .json
                .clone()
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_default();
            body.insert(UNKNOWN.to_owned(), json!(1));
            rb = rb.json(&Value::Object(body));
        }
        if let Some((bytes, ct)) = &built.raw {
            rb = rb.header("content-type", ct).body(bytes.clone());
        }
        if let Some(form) = &built.form {
            rb = rb.multipart(multipart_form(form));
        }
        if call["socket"] == true {
            rb = websocket_upgrade(rb);
        }
        let resp = rb.send().await.unwrap_or_else(|e| panic!("{op}: {e}"));
        let status = resp.status();
        let text = String::from_utf8_lossy(&resp.bytes().await.expect("body")).into_owned();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{op}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(
            v["error"]["details"][UNKNOWN].is_array(),
            "{op}: the error names the key: {text}"
        );
    }
    h.emu.shutdown().await;
}
