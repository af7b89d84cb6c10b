//! OpenAI-compatible completions and embeddings (deterministic), and
//! command-center sessions.

use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Resp, created, ok, paged};
use crate::errors::{ApiError, ApiResult};
use crate::json::{Body, Q};
use crate::pipeline::Ctx;
use crate::sse;
use crate::state::{App, TENANT_ID};
use crate::util::{self, data};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/intelligence/chat/completions", post(chat))
        .route("/intelligence/completions", post(text))
        .route("/intelligence/embeddings", post(embeddings))
        .route(
            "/command-center/sessions",
            post(session_create).get(session_list),
        )
        .route("/command-center/sessions/{sid}", get(session_get))
        .route(
            "/command-center/sessions/{sid}/cancel",
            post(session_cancel),
        )
}

fn words(s: &str) -> u64 {
    u64::try_from(s.split_whitespace().count()).unwrap_or(0)
}

/// The reply is a fixed function of the prompt: "Echo: <last message>".
fn reply_for(prompt: &str) -> String {
    let p = prompt.trim();
    if p.is_empty() {
        "Hello from the MIOSA emulator.".into()
    } else {
        format!("Echo: {p}")
    }
}

fn message_text(m: &Value) -> String {
    match m.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Model, the prompt text (last user message) and all input text.
fn read_chat(body: &Body) -> ApiResult<(String, String, String)> {
    let model = body.str_req("model")?;
    let messages = body
        .arr_opt("messages")?
        .ok_or_else(|| ApiError::validation("messages", "is required"))?;
    if messages.is_empty() {
        return Err(ApiError::validation("messages", "must not be empty"));
    }
    for (i, m) in messages.iter().enumerate() {
        if m.get("role").and_then(Value::as_str).is_none() {
            return Err(ApiError::validation(
                &format!("messages[{i}].role"),
                "is required",
            ));
        }
    }
    let all: Vec<String> = messages.iter().map(message_text).collect();
    let last = messages
        .iter()
        .rev()
        .find(|m| m.get("role") == Some(&json!("user")))
        .map(message_text)
        .unwrap_or_default();
    Ok((model, last, all.join(" ")))
}

fn read_prompt(body: &Body) -> ApiResult<(String, String, String)> {
    let model = body.str_req("model")?;
    let prompt = match body.get("prompt") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        Some(_) => {
            return Err(ApiError::validation(
                "prompt",
                "must be a string or a list of strings",
            ));
        }
        None => return Err(ApiError::validation("prompt", "is required")),
    };
    Ok((model, prompt.clone(), prompt))
}

fn check_stream(body: &Body) -> ApiResult<bool> {
    body.bool_opt("stream").map(|s| s.unwrap_or(false))
}

async fn chat(State(app): State<App>, Extension(ctx): Extension<Ctx>, body: Body) -> Resp {
    let (model, prompt, input) = read_chat(&body)?;
    complete(app, ctx, model, prompt, input, check_stream(&body)?, true).await
}

async fn text(State(app): State<App>, Extension(ctx): Extension<Ctx>, body: Body) -> Resp {
    let (model, prompt, input) = read_prompt(&body)?;
    complete(app, ctx, model, prompt, input, check_stream(&body)?, false).await
}

async fn complete(
    app: App,
    ctx: Ctx,
    model: String,
    prompt: String,
    input: String,
    stream: bool,
    chat: bool,
) -> Resp {
    let reply = reply_for(&prompt);
    let (pt, ct) = (words(&input).max(1), words(&reply).max(1));
    app.store().ai_tokens += pt + ct;
    let id = format!("chatcmpl-{}", &util::random_hex(6));
    let created_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if !stream {
        let choice = if chat {
            json!({"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"})
        } else {
            json!({"index": 0, "text": reply, "finish_reason": "stop"})
        };
        return ok(json!({
            "id": id, "object": if chat { "chat.completion" } else { "text_completion" },
            "created": created_at, "model": model, "choices": [choice],
            "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct},
        }));
    }
    let (mut tx, resp) = sse::open(Some(&ctx));
    tokio::spawn(async move {
        let pieces: Vec<String> = reply.split_inclusive(' ').map(str::to_owned).collect();
        let last = pieces.len().saturating_sub(1);
        let object = if chat {
            "chat.completion.chunk"
        } else {
            "text_completion"
        };
        for (i, piece) in pieces.iter().enumerate() {
            let finish = if i == last {
                json!("stop")
            } else {
                Value::Null
            };
            let choice = if chat {
                json!({"index": 0, "delta": {"content": piece}, "finish_reason": finish})
            } else {
                json!({"index": 0, "text": piece, "finish_reason": finish})
            };
            let chunk = json!({"id": id, "object": object, "created": created_at, "model": model, "choices": [choice]});
            if !tx.event(None, None, &chunk.to_string()).await
                || !app.sleep(Duration::from_millis(5)).await
            {
                return;
            }
        }
        tx.event(None, None, "[DONE]").await;
    });
    Ok(resp)
}

/// Unit-length vectors derived from SHA-256 of each input.
fn vector(text: &str, dims: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(dims);
    let mut counter = 0u32;
    while out.len() < dims {
        let digest = Sha256::digest(format!("{counter}:{text}").as_bytes());
        for pair in digest.chunks(2) {
            if out.len() == dims {
                break;
            }
            let v = f64::from(u16::from_be_bytes([pair[0], pair[1]]));
            out.push(v / 32_767.5 - 1.0);
        }
        counter += 1;
    }
    let norm = out
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::EPSILON);
    out.iter().map(|x| (x / norm * 1e6).round() / 1e6).collect()
}

async fn embeddings(State(app): State<App>, body: Body) -> Resp {
    let model = body.str_req("model")?;
    let inputs: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                ApiError::validation("input", "must be a string or a list of strings")
            })?,
        Some(_) => {
            return Err(ApiError::validation(
                "input",
                "must be a string or a non-empty list of strings",
            ));
        }
        None => return Err(ApiError::validation("input", "is required")),
    };
    let dims = body.int_opt("dimensions")?.unwrap_or(16);
    if !(1..=4096).contains(&dims) {
        return Err(ApiError::validation(
            "dimensions",
            "must be between 1 and 4096",
        ));
    }
    let dims = usize::try_from(dims).unwrap_or(16);
    let tokens: u64 = inputs.iter().map(|s| words(s).max(1)).sum();
    app.store().ai_tokens += tokens;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"object": "embedding", "index": i, "embedding": vector(s, dims)}))
        .collect();
    ok(
        json!({"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}),
    )
}

async fn session_create(State(app): State<App>, body: Body) -> Resp {
    // `goal` and `prompt` are both fields of the call; `task` is an old name of `goal`.
    let goal = match body.str_any(&["goal", "task"])? {
        Some(g) => Some(g),
        None => body.str_opt("prompt")?,
    };
    if goal.as_deref().is_some_and(str::is_empty) {
        return Err(ApiError::validation("goal", "can't be blank"));
    }
    let computer = body.str_opt("computer_id")?;
    let mut store = app.store();
    if let Some(c) = &computer {
        store.computer(c)?;
    }
    let sid = util::new_id("ccs");
    let now = util::now();
    let prompt = body.str_opt("prompt")?;
    let mut rec = Map::new();
    rec.insert("prompt".into(), json!(prompt));
    rec.insert("id".into(), json!(sid));
    rec.insert("tenant_id".into(), json!(TENANT_ID));
    rec.insert("goal".into(), json!(goal));
    rec.insert("status".into(), json!("running"));
    rec.insert("computer_id".into(), json!(computer));
    rec.insert("created_at".into(), json!(now));
    rec.insert("updated_at".into(), json!(now));
    store.sessions.insert(sid, rec.clone());
    store.count("command_center_session");
    created(data(Value::Object(rec)))
}

async fn session_list(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    let items: Vec<Value> = store
        .sessions
        .values()
        .filter(|s| {
            q.str("status")
                .is_none_or(|st| s.get("status") == Some(&json!(st)))
        })
        .map(|s| Value::Object(s.clone()))
        .collect();
    paged(items, &q)
}

async fn session_get(State(app): State<App>, Path(sid): Path<String>) -> Resp {
    ok(data(Value::Object(
        app.store().sessions.req(&sid, "Session")?.clone(),
    )))
}

async fn session_cancel(State(app): State<App>, Path(sid): Path<String>) -> Resp {
    let mut store = app.store();
    let s = store.sessions.req_mut(&sid, "Session")?;
    let status = s.get("status").and_then(Value::as_str).unwrap_or_default();
    if status == "completed" || status == "failed" {
        return Err(ApiError::conflict(
            "SESSION_FINISHED",
            format!("session already {status}"),
        ));
    }
    s.insert("status".into(), json!("cancelled"));
    s.insert("cancelled_at".into(), json!(util::now()));
    s.insert("updated_at".into(), json!(util::now()));
    ok(data(Value::Object(s.clone())))
}
