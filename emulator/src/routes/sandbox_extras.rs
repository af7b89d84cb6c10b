//! Per-sandbox resources: env vars, shares, previews, snapshots, terminals.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{delete, get, post};
use serde_json::{Map, Value, json};

use super::{Resp, ack, created, ok};
use crate::errors::{ApiError, ApiResult};
use crate::fsutil;
use crate::json::Body;
use crate::state::{App, EnvVar, Kind};
use crate::util::{self, data};

pub fn routes() -> Router<App> {
    Router::new()
        .route(
            "/sandboxes/{id}/env",
            get(env_list).put(env_set).post(env_set_by_post),
        )
        .route("/sandboxes/{id}/env/{key}", delete(env_delete))
        .route("/sandboxes/{id}/shares", post(share_create).get(share_list))
        .route("/sandboxes/{id}/shares/{share_id}", delete(share_revoke))
        .route(
            "/sandboxes/{id}/previews",
            post(preview_create).get(preview_list),
        )
        .route(
            "/sandboxes/{id}/previews/{pid}",
            get(preview_get).delete(preview_destroy),
        )
        .route(
            "/sandboxes/{id}/previews/{pid}/share",
            post(preview_share).delete(preview_unshare),
        )
        .route(
            "/sandboxes/{id}/snapshots",
            post(snapshot_create).get(snapshot_list),
        )
        .route("/sandboxes/{id}/snapshots/{sid}", delete(snapshot_delete))
        .route("/sandboxes/{id}/restore/{sid}", post(snapshot_restore))
        .route("/sandboxes/{id}/terminal", post(terminal_open))
        .route(
            "/sandboxes/{id}/terminal/{session_id}",
            delete(terminal_close),
        )
        .route(
            "/sandboxes/{id}/pty/{session_id}/resize",
            post(terminal_resize),
        )
        .route("/computers/{id}/terminal", post(terminal_open_computer))
        .route(
            "/computers/{id}/pty/{session_id}/resize",
            post(terminal_resize_computer),
        )
}

fn env_view(key: &str, v: &EnvVar) -> Value {
    json!({
        "key": key, "value": if v.encrypted { Value::Null } else { json!(v.value) },
        "encrypted": v.encrypted, "updated_at": v.updated_at,
    })
}

async fn env_list(State(app): State<App>, axum::extract::Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let items: Vec<Value> = m.env.iter().map(|(k, v)| env_view(k, v)).collect();
    ok(data(Value::Array(items)))
}

/// Reads `{vars: [{key, value, encrypted?}]}`, a single `{key, value}` or an
/// `{env: {K: V}}` map; every listed key is upserted.
fn env_pairs(body: &Body) -> ApiResult<Vec<(String, String, bool)>> {
    let mut out = Vec::new();
    if let Some(vars) = body.arr_opt("vars")? {
        for (i, v) in vars.into_iter().enumerate() {
            let Value::Object(m) = v else {
                return Err(ApiError::validation(
                    &format!("vars[{i}]"),
                    "must be an object",
                ));
            };
            let item = body.child(m);
            let key = item
                .str_any(&["key", "name"])?
                .ok_or_else(|| ApiError::validation("key", "is required"))?;
            let value = item
                .str_opt("value")?
                .ok_or_else(|| ApiError::validation("value", "is required"))?;
            out.push((key, value, item.bool_opt("encrypted")?.unwrap_or(false)));
        }
    } else if let Some(key) = body.str_any(&["key", "name"])? {
        let value = body
            .str_opt("value")?
            .ok_or_else(|| ApiError::validation("value", "is required"))?;
        out.push((key, value, body.bool_opt("encrypted")?.unwrap_or(false)));
    } else if let Some(env) = body.str_map_opt("env")? {
        out.extend(env.into_iter().map(|(k, v)| (k, v, false)));
    } else {
        return Err(ApiError::validation("vars", "is required"));
    }
    for (k, _, _) in &out {
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(ApiError::validation("key", "must be a valid variable name"));
        }
    }
    Ok(out)
}

/// `POST` sets variables too (older SDKs); strict mode takes only `PUT`.
async fn env_set_by_post(state: State<App>, id: Path<String>, body: Body) -> Resp {
    super::canonical_method(&body, "PUT")?;
    env_set(state, id, body).await
}

async fn env_set(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let pairs = env_pairs(&body)?;
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let now = util::now();
    let keys: Vec<String> = pairs.iter().map(|p| p.0.clone()).collect();
    for (k, v, enc) in pairs {
        let created_at = m
            .env
            .get(&k)
            .map_or_else(|| now.clone(), |e| e.created_at.clone());
        m.env.insert(
            k,
            EnvVar {
                value: v,
                encrypted: enc,
                created_at,
                updated_at: now.clone(),
            },
        );
    }
    m.note("env.updated", json!({"keys": keys}));
    let vars: Vec<Value> = m.env.iter().map(|(k, v)| env_view(k, v)).collect();
    ok(data(json!({"updated": keys, "vars": vars})))
}

async fn env_delete(State(app): State<App>, Path((id, key)): Path<(String, String)>) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    m.env
        .remove(&key)
        .ok_or_else(|| ApiError::not_found("Environment variable"))?;
    m.note("env.deleted", json!({"key": key}));
    ack()
}

async fn share_create(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let scope = body.str_opt("scope")?.unwrap_or_else(|| "read".into());
    if scope != "read" {
        return Err(ApiError::validation("scope", "must be read"));
    }
    let expires_in = body.int_any(&["expires_in", "expires_in_sec"])?;
    if expires_in.is_some_and(|e| e <= 0) {
        return Err(ApiError::validation("expires_in", "must be positive"));
    }
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let share_id = util::new_id("sh");
    let token = util::random_hex(16);
    let rec = util::obj(json!({
        "share_id": share_id, "id": share_id,
        "share_url": format!("https://{id}.sandbox.miosa.app/?ms={token}"),
        "expires_at": expires_in.map(|e| util::in_secs(e.unsigned_abs())),
        "scope": scope, "created_at": util::now(),
    }));
    m.shares.insert(share_id.clone(), rec.clone());
    m.note("share.created", json!({"share_id": share_id}));
    store.count("share");
    created(data(Value::Object(rec)))
}

async fn share_list(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let items: Vec<Value> = m
        .shares
        .values()
        .map(|s| Value::Object(s.clone()))
        .collect();
    ok(data(Value::Array(items)))
}

async fn share_revoke(
    State(app): State<App>,
    Path((id, share_id)): Path<(String, String)>,
) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    m.shares
        .remove(&share_id)
        .ok_or_else(|| ApiError::not_found("Share"))?;
    m.note("share.revoked", json!({"share_id": share_id}));
    ack()
}

async fn preview_create(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let port = body.int_req("port")?;
    if !(1..=65535).contains(&port) {
        return Err(ApiError::validation("port", "must be between 1 and 65535"));
    }
    let name = body.str_opt("name")?;
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let pid = util::new_id("prv");
    let mut rec = Map::new();
    rec.insert("name".into(), json!(name));
    rec.insert("id".into(), json!(pid));
    rec.insert("sandbox_id".into(), json!(id));
    rec.insert("port".into(), json!(port));
    rec.insert(
        "url".into(),
        json!(format!("https://{port}-{id}.sandbox.miosa.app")),
    );
    rec.insert("status".into(), json!("active"));
    rec.insert("created_at".into(), json!(util::now()));
    m.previews.insert(pid.clone(), rec.clone());
    m.note("preview.created", json!({"preview_id": pid, "port": port}));
    store.count("preview");
    created(data(Value::Object(rec)))
}

async fn preview_list(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let items: Vec<Value> = m
        .previews
        .values()
        .map(|p| Value::Object(p.clone()))
        .collect();
    ok(data(Value::Array(items)))
}

async fn preview_get(State(app): State<App>, Path((id, pid)): Path<(String, String)>) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    ok(data(Value::Object(
        m.previews.req(&pid, "Preview")?.clone(),
    )))
}

async fn preview_destroy(State(app): State<App>, Path((id, pid)): Path<(String, String)>) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    m.previews
        .remove(&pid)
        .ok_or_else(|| ApiError::not_found("Preview"))?;
    m.note("preview.destroyed", json!({"preview_id": pid}));
    ack()
}

/// Accepts `expires_in_sec` (ex/go) or `ttl_seconds` (py).
async fn preview_share(
    State(app): State<App>,
    Path((id, pid)): Path<(String, String)>,
    body: Body,
) -> Resp {
    let ttl = body
        .int_any(&["ttl_seconds", "expires_in_sec", "expires_in"])?
        .unwrap_or(3600);
    if ttl <= 0 {
        return Err(ApiError::validation("ttl_seconds", "must be positive"));
    }
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let preview = m.previews.req_mut(&pid, "Preview")?;
    let token = format!("mt_{}", util::random_hex(12));
    let url = format!(
        "{}?mt={token}",
        preview
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default()
    );
    let share = json!({
        "token": token, "url": url, "share_url": url, "preview_id": pid,
        "expires_at": util::in_secs(ttl.unsigned_abs()), "expires_in_sec": ttl,
    });
    let mut tokens = preview
        .get("share_tokens")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    tokens.push(json!(token));
    preview.insert("share_tokens".into(), Value::Array(tokens));
    created(data(share))
}

async fn preview_unshare(State(app): State<App>, Path((id, pid)): Path<(String, String)>) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let preview = m.previews.req_mut(&pid, "Preview")?;
    preview.insert("share_tokens".into(), json!([]));
    ok(json!({"ok": true, "revoked": true}))
}

async fn snapshot_create(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let mut rec = Map::new();
    if let Some(c) = body.str_opt("comment")? {
        rec.insert("comment".into(), json!(c));
    }
    rec.insert(
        "keep".into(),
        json!(body.bool_opt("keep")?.unwrap_or(false)),
    );
    let retention = body.int_opt("retention_seconds")?;
    rec.insert("retention_seconds".into(), json!(retention));
    let expiry = match (
        body.int_opt("expiration_seconds")?,
        body.int_opt("expiration_days")?,
    ) {
        (Some(s), _) => Some(s),
        (None, Some(d)) => Some(d * 86_400),
        (None, None) => None,
    };
    if expiry.is_some_and(|e| e <= 0) {
        return Err(ApiError::validation(
            "expiration_seconds",
            "must be positive",
        ));
    }
    rec.insert(
        "expires_at".into(),
        json!(expiry.map(|e| util::in_secs(e.unsigned_abs()))),
    );
    app.store().sandbox(&id)?;
    let snap = super::computers::take_snapshot(&app, &id, Kind::Sandbox, rec).await?;
    created(data(snap))
}

async fn snapshot_list(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    store.sandbox(&id)?;
    let items: Vec<Value> = store
        .snapshots
        .iter()
        .filter(|s| s.owner == id && s.rec.get("status") != Some(&json!("deleted")))
        .map(|s| Value::Object(s.rec.clone()))
        .collect();
    ok(data(Value::Array(items)))
}

async fn snapshot_delete(State(app): State<App>, Path((id, sid)): Path<(String, String)>) -> Resp {
    let dir = {
        let mut store = app.store();
        store.sandbox(&id)?;
        let snap = store
            .snapshots
            .iter_mut()
            .find(|s| {
                s.id == sid && s.owner == id && s.rec.get("status") != Some(&json!("deleted"))
            })
            .ok_or_else(|| ApiError::not_found("Snapshot"))?;
        snap.rec.insert("status".into(), json!("deleted"));
        snap.dir.clone()
    };
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
    ack()
}

/// Puts the snapshot's files back into the sandbox directory.
async fn snapshot_restore(State(app): State<App>, Path((id, sid)): Path<(String, String)>) -> Resp {
    let (snap_dir, dir) = {
        let mut store = app.store();
        let snap_dir = store.snapshot(&sid)?.dir.clone();
        (snap_dir, store.sandbox(&id)?.dir.clone())
    };
    fsutil::blocking(move || {
        fsutil::clear_dir(&dir)?;
        fsutil::copy_dir(&snap_dir, &dir)?;
        Ok(())
    })
    .await?;
    let mut store = app.store();
    if let Some(s) = store.snapshots.iter_mut().find(|s| s.id == sid) {
        s.rec.insert("last_used_at".into(), json!(util::now()));
    }
    let m = store.sandbox(&id)?;
    m.note("snapshot.restored", json!({"snapshot_id": sid}));
    ok(data(m.sandbox_view()))
}

fn open_terminal(app: &App, id: &str, body: &Body, sandbox_only: bool) -> ApiResult<Value> {
    let cols = body.int_opt("cols")?.unwrap_or(80);
    let rows = body.int_opt("rows")?.unwrap_or(24);
    if cols < 1 || rows < 1 {
        return Err(ApiError::validation(
            "cols",
            "cols and rows must be positive",
        ));
    }
    let shell = body.str_opt("shell")?.unwrap_or_else(|| "/bin/bash".into());
    let cwd = body.str_opt("cwd")?.unwrap_or_else(|| "/workspace".into());
    body.str_map_opt("env")?;
    super::running(app, id, sandbox_only)?;
    let mut store = app.store();
    let m = if sandbox_only {
        store.sandbox(id)?
    } else {
        store.computer(id)?
    };
    fsutil::resolve(&m.dir, &cwd)?;
    let sid = util::new_id("term");
    let ws = app.base_url.replacen("http://", "ws://", 1);
    let family = if m.kind == Kind::Sandbox && sandbox_only {
        "sandboxes"
    } else {
        "computers"
    };
    let rec = util::obj(json!({
        "session_id": sid, "id": sid, "cols": cols, "rows": rows, "shell": shell, "cwd": cwd,
        "status": "open", "stream_url": format!("{ws}/{family}/{id}/terminal/stream?session_id={sid}"),
        "created_at": util::now(),
    }));
    m.terminals.insert(sid.clone(), rec.clone());
    m.note("terminal.opened", json!({"session_id": sid}));
    store.count("terminal");
    Ok(Value::Object(rec))
}

async fn terminal_open(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    created(data(open_terminal(&app, &id, &body, true)?))
}

async fn terminal_open_computer(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Body,
) -> Resp {
    created(data(open_terminal(&app, &id, &body, false)?))
}

async fn terminal_close(State(app): State<App>, Path((id, sid)): Path<(String, String)>) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    m.terminals
        .remove(&sid)
        .ok_or_else(|| ApiError::not_found("Terminal session"))?;
    ack()
}

fn resize(app: &App, id: &str, sid: &str, body: &Body, sandbox_only: bool) -> Resp {
    let cols = body.int_req("cols")?;
    let rows = body.int_req("rows")?;
    if cols < 1 || rows < 1 {
        return Err(ApiError::validation(
            "cols",
            "cols and rows must be positive",
        ));
    }
    let mut store = app.store();
    let m = if sandbox_only {
        store.sandbox(id)?
    } else {
        store.computer(id)?
    };
    let t = m.terminals.req_mut(sid, "Terminal session")?;
    t.insert("cols".into(), json!(cols));
    t.insert("rows".into(), json!(rows));
    ok(json!({"success": true, "data": Value::Object(t.clone())}))
}

async fn terminal_resize(
    State(app): State<App>,
    Path((id, sid)): Path<(String, String)>,
    body: Body,
) -> Resp {
    resize(&app, &id, &sid, &body, true)
}

async fn terminal_resize_computer(
    State(app): State<App>,
    Path((id, sid)): Path<(String, String)>,
    body: Body,
) -> Resp {
    resize(&app, &id, &sid, &body, false)
}
