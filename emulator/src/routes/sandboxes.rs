//! Sandboxes: lifecycle, readiness (+SSE), events (SSE), fork, preview token.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, patch, post};
use serde_json::{Map, Value, json};

use super::{Boot, Resp, created, ok};
use crate::errors::{ApiError, ApiResult};
use crate::fsutil;
use crate::json::{Body, Q};
use crate::pipeline::Ctx;
use crate::sse;
use crate::state::{App, EnvVar, Kind, Machine, Phase, SIZES, Store, contract};
use crate::util::{self, data};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/sandboxes", post(create).get(list))
        .route("/sandboxes/{id}", get(show).patch(update).delete(destroy))
        .route("/sandboxes/by-name/{name}", get(by_name))
        .route("/sandboxes/{id}/preview-token", post(preview_token))
        .route("/sandboxes/{id}/fork", post(fork))
        .route("/sandboxes/{id}/readiness", get(readiness))
        .route("/sandboxes/{id}/readiness/stream", get(readiness_stream))
        .route("/sandboxes/{id}/events", get(events))
        .route("/sandboxes/{id}/tags", patch(set_tags).get(tags))
        .route("/sandboxes/{id}/stop", post(stop))
        .route("/sandboxes/{id}/pause", post(pause))
        .route("/sandboxes/{id}/resume", post(resume))
        .route("/sandboxes/{id}/extend", post(extend))
        .route("/sandboxes/{id}/usage", get(usage))
}

const STR_FIELDS: [&str; 12] = [
    "slug",
    "region",
    "workspace_id",
    "workspace_slug",
    "workspace_name",
    "project_id",
    "project_slug",
    "project_name",
    "external_workspace_id",
    "external_user_id",
    "external_project_id",
    "description",
];

/// Validated create attributes shared by create and fork.
fn sandbox_attrs(
    body: &Body,
    defaults: Option<&Map<String, Value>>,
) -> ApiResult<Map<String, Value>> {
    let mut a = defaults.cloned().unwrap_or_default();
    let template = body
        .str_any(&["template_id", "template_type", "template", "image"])?
        .or_else(|| {
            a.get("template_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "miosa-sandbox".into());
    a.insert("template_id".into(), json!(template));
    let name = body
        .str_opt("name")?
        .or_else(|| {
            a.get("name")
                .and_then(Value::as_str)
                .map(|n| format!("{n}-fork"))
        })
        .unwrap_or_else(|| format!("sandbox-{}", &util::random_hex(3)));
    a.insert("name".into(), json!(name));
    for k in STR_FIELDS {
        if let Some(v) = body.str_opt(k)? {
            a.insert(k.into(), json!(v));
        }
    }
    let slug = a.get("slug").cloned().unwrap_or_else(|| json!(name));
    a.insert("slug".into(), slug);
    let triple = [
        body.int_opt("cpu_count")?,
        body.int_opt("memory_mb")?,
        body.int_opt("disk_size_mb")?,
    ];
    let size = match body.str_opt("size")? {
        Some(s) if SIZES.contains(&s.as_str()) => s.replace("xlarge", "xl"),
        Some(_) => {
            return Err(ApiError::validation(
                "size",
                "must be one of xs, small, medium, large, xl",
            ));
        }
        None => match triple {
            [Some(c), Some(m), Some(d)] => ["xs", "small", "medium", "large", "xl"]
                .into_iter()
                .find(|s| contract(s) == (c, m, d))
                .unwrap_or("custom")
                .to_owned(),
            _ => a
                .get("size")
                .and_then(Value::as_str)
                .unwrap_or("small")
                .to_owned(),
        },
    };
    match triple {
        [None, None, None] => {}
        [Some(c), Some(m), Some(d)] => {
            if c < 1 || m < 1 || d < 1 {
                return Err(ApiError::validation(
                    "cpu_count",
                    "resources must be positive",
                ));
            }
            a.insert("cpu_count".into(), json!(c));
            a.insert("memory_mb".into(), json!(m));
            a.insert("disk_size_mb".into(), json!(d));
        }
        _ => {
            return Err(ApiError::validation(
                "cpu_count",
                "cpu_count, memory_mb and disk_size_mb must be given together",
            ));
        }
    }
    a.insert("size".into(), json!(size));
    a.entry("metadata").or_insert(json!({}));
    if let Some(m) = body.obj_opt("metadata")? {
        a.insert("metadata".into(), Value::Object(m));
    }
    a.entry("tags").or_insert(json!([]));
    if let Some(t) = body.str_list_opt("tags")? {
        a.insert("tags".into(), json!(t));
    }
    for k in ["timeout_sec", "idle_timeout_sec"] {
        if let Some(v) = body.int_opt(k)? {
            if v < 0 {
                return Err(ApiError::validation(k, "must not be negative"));
            }
            a.insert(k.into(), json!(v));
        }
    }
    a.entry("timeout_sec").or_insert(json!(3600));
    a.entry("idle_timeout_sec").or_insert(json!(900));
    for k in ["persistent", "always_on", "allow_provision"] {
        if let Some(v) = body.bool_opt(k)? {
            a.insert(k.into(), json!(v));
        }
    }
    a.entry("persistent").or_insert(json!(false));
    a.entry("always_on").or_insert(json!(false));
    for k in [
        "workspace_id",
        "project_id",
        "external_workspace_id",
        "external_user_id",
        "external_project_id",
    ] {
        a.entry(k).or_insert(Value::Null);
    }
    Ok(a)
}

/// Enforces `max_sandboxes` of the external user's quota.
fn check_quota(store: &Store, attrs: &Map<String, Value>) -> ApiResult<()> {
    let Some(user) = attrs.get("external_user_id").and_then(Value::as_str) else {
        return Ok(());
    };
    let Some(max) = store
        .quotas
        .get(user)
        .and_then(|q| q.get("max_sandboxes"))
        .and_then(Value::as_i64)
    else {
        return Ok(());
    };
    let current = live_sandboxes_of(store, user);
    if current >= max {
        return Err(ApiError::forbidden(
            "QUOTA_EXCEEDED",
            format!("external user {user} reached max_sandboxes ({max})"),
        )
        .with("limit", json!(max))
        .with("current", json!(current)));
    }
    Ok(())
}

pub fn live_sandboxes_of(store: &Store, user: &str) -> i64 {
    let n = store
        .machines
        .iter()
        .filter(|m| {
            m.kind == Kind::Sandbox
                && m.phase != Phase::Destroyed
                && m.attrs.get("external_user_id").and_then(Value::as_str) == Some(user)
        })
        .count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Registers a new sandbox (its directory is made here) and returns its id.
fn insert_sandbox(
    app: &App,
    store: &mut Store,
    attrs: Map<String, Value>,
    env: Vec<(String, String)>,
    boot: Boot,
) -> ApiResult<String> {
    check_quota(store, &attrs)?;
    super::check_warm(store, boot.fail_fast)?;
    store.debit(1, "sandbox create")?;
    store.warm_ready -= u64::from(boot.fail_fast);
    let id = util::new_id("sbx");
    let dir = app.sandboxes_dir().join(&id);
    std::fs::create_dir_all(&dir)?;
    let mut m = Machine::new(Kind::Sandbox, id.clone(), dir, attrs);
    let now = util::now();
    for (k, v) in env {
        m.env.insert(
            k,
            EnvVar {
                value: v,
                encrypted: false,
                created_at: now.clone(),
                updated_at: now.clone(),
            },
        );
    }
    m.push_event(
        "sandbox.created",
        json!({"template_id": m.attrs.get("template_id")}),
    );
    super::first_boot(app, &mut m, boot.fail_fast, boot.auto_start);
    store.machines.push(m);
    store.count("sandbox");
    Ok(id)
}

async fn create(State(app): State<App>, q: Q, body: Body) -> Resp {
    let wait = q.wait_secs("wait", super::WAIT_DEFAULT_SECS)?;
    let attrs = sandbox_attrs(&body, None)?;
    let env = body.str_map_opt("env")?.unwrap_or_default();
    let boot = Boot::from_body(&body)?;
    let id = {
        let mut store = app.store();
        insert_sandbox(&app, &mut store, attrs, env, boot)?
    };
    if let Some(secs) = wait {
        // At the deadline the answer shows the state reached so far.
        super::settle(&app, &id, Duration::from_secs_f64(secs.min(3600.0))).await?;
    }
    let view = app.store().sandbox(&id)?.sandbox_view();
    crate::routes::platform::emit(&app, "sandbox.created", view.clone());
    created(data(view))
}

async fn list(State(app): State<App>, q: Q) -> Resp {
    let mut store = app.store();
    let wanted_tags: Vec<&str> = q
        .str("tags")
        .map(|t| t.split(',').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for m in &mut store.machines {
        m.tick();
        if m.kind != Kind::Sandbox || m.phase == Phase::Destroyed {
            continue;
        }
        let attr = |k: &str| m.attrs.get(k).and_then(Value::as_str);
        let filtered = [
            "external_workspace_id",
            "external_user_id",
            "external_project_id",
            "workspace_id",
            "project_id",
        ]
        .iter()
        .any(|k| q.str(k).is_some_and(|want| attr(k) != Some(want)));
        if filtered || q.str("state").is_some_and(|s| s != m.state_str()) {
            continue;
        }
        let tags = m.tags();
        if !wanted_tags
            .iter()
            .all(|t| tags.iter().any(|x| x.as_str() == Some(t)))
        {
            continue;
        }
        out.push(m.sandbox_view());
    }
    ok(data(Value::Array(out)))
}

async fn show(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let view = app.store().sandbox(&id)?.sandbox_view();
    ok(data(view))
}

/// The newest live sandbox with this name.
async fn by_name(State(app): State<App>, Path(name): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store
        .machines
        .iter_mut()
        .rev()
        .filter(|m| m.kind == Kind::Sandbox && m.phase != Phase::Destroyed)
        .find(|m| m.attrs.get("name").and_then(Value::as_str) == Some(name.as_str()))
        .ok_or_else(|| ApiError::not_found("Sandbox"))?;
    m.tick();
    ok(data(m.sandbox_view()))
}

async fn update(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let mut patch = Map::new();
    for k in ["name", "slug", "description"] {
        if let Some(v) = body.str_opt(k)? {
            patch.insert(k.into(), json!(v));
        }
    }
    if let Some(t) = body.str_list_opt("tags")? {
        patch.insert("tags".into(), json!(t));
    }
    if let Some(m) = body.obj_opt("metadata")? {
        patch.insert("metadata".into(), Value::Object(m));
    }
    for k in ["always_on", "persistent"] {
        if let Some(v) = body.bool_opt(k)? {
            patch.insert(k.into(), json!(v));
        }
    }
    for k in ["timeout_sec", "idle_timeout_sec"] {
        if let Some(v) = body.int_opt(k)? {
            patch.insert(k.into(), json!(v));
        }
    }
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    util::merge(&mut m.attrs, &patch);
    let keys: Vec<&String> = patch.keys().collect();
    m.note("updated", json!({"fields": keys}));
    ok(data(m.sandbox_view()))
}

/// Removes a machine, its processes and its directory.
pub async fn remove_machine(app: &App, id: &str) -> ApiResult<Value> {
    let m = {
        let mut store = app.store();
        let mut m = store
            .remove_machine(id)
            .ok_or_else(|| ApiError::not_found("Sandbox"))?;
        m.halt(Phase::Destroyed);
        m
    };
    for p in &m.processes {
        crate::exec::stop(p).await;
    }
    let view = m.view();
    let dir = m.dir.clone();
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
    Ok(view)
}

async fn destroy(State(app): State<App>, Path(id): Path<String>) -> Resp {
    app.store().sandbox(&id)?;
    let view = remove_machine(&app, &id).await?;
    crate::routes::platform::emit(&app, "sandbox.destroyed", view);
    ok(json!({"ok": true, "id": id, "state": "destroyed"}))
}

async fn preview_token(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let expires_in = body.int_opt("expires_in")?.unwrap_or(3600);
    if expires_in <= 0 {
        return Err(ApiError::validation("expires_in", "must be positive"));
    }
    let scope = body.str_opt("scope")?.unwrap_or_else(|| "read".into());
    if scope != "read" && scope != "interact" {
        return Err(ApiError::validation("scope", "must be read or interact"));
    }
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let token = format!("mp_{}", util::random_hex(12));
    m.note("preview_token.created", json!({"scope": scope}));
    ok(json!({
        "token": token,
        "url": format!("https://{id}.sandbox.miosa.app?mt={token}"),
        "expires_at": util::in_secs(expires_in.unsigned_abs()),
        "scope": scope,
    }))
}

async fn fork(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let snapshot_id = body.str_opt("snapshot_id")?;
    let boot = Boot::from_body(&body)?;
    let (source_dir, attrs, env) = {
        let mut store = app.store();
        let snap_dir = match &snapshot_id {
            Some(s) => Some(store.snapshot(s)?.dir.clone()),
            None => None,
        };
        let m = store.sandbox(&id)?;
        let mut base = m.attrs.clone();
        base.remove("slug");
        let attrs = sandbox_attrs(&body, Some(&base))?;
        m.note("forked", json!({"snapshot_id": snapshot_id}));
        (
            snap_dir.unwrap_or_else(|| m.dir.clone()),
            attrs,
            m.env_pairs(),
        )
    };
    let new_id = {
        let mut store = app.store();
        insert_sandbox(&app, &mut store, attrs, env, boot)?
    };
    let dest = app.sandboxes_dir().join(&new_id);
    fsutil::blocking(move || fsutil::copy_dir(&source_dir, &dest).map_err(ApiError::from)).await?;
    let view = {
        let mut store = app.store();
        let m = store.sandbox(&new_id)?;
        m.attrs.insert("forked_from".into(), json!(id));
        m.sandbox_view()
    };
    created(data(view))
}

fn readiness_view(m: &Machine) -> Value {
    let ready = m.phase == Phase::Running;
    let status = if ready { "ready" } else { m.state_str() };
    let component = if ready { "ready" } else { "pending" };
    let components: Map<String, Value> = [
        "command_agent",
        "process_control",
        "resource_contract",
        "clock",
        "identity",
        "durability",
        "filesystem",
        "internal_probe",
    ]
    .iter()
    .map(|c| ((*c).to_owned(), json!({"status": component})))
    .collect();
    json!({
        "sandbox_id": m.id, "ready": ready, "status": status, "state": m.state_str(),
        "ready_at": m.ready_at, "readiness": {"components": components},
    })
}

async fn readiness(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let view = readiness_view(app.store().sandbox(&id)?);
    ok(data(view))
}

async fn readiness_stream(
    State(app): State<App>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
    q: Q,
) -> Resp {
    let timeout = q.num("timeout")?.unwrap_or(30.0).clamp(0.0, 3600.0);
    app.store().sandbox(&id)?;
    let (mut tx, resp) = sse::open(Some(&ctx));
    tokio::spawn(async move {
        let started = Instant::now();
        let mut last_beat = Instant::now();
        if !tx.comment("keepalive").await {
            return;
        }
        loop {
            let state = {
                let mut store = app.store();
                store
                    .sandbox(&id)
                    .map(|m| (m.phase, m.ready_at.clone()))
                    .ok()
            };
            match state {
                Some((Phase::Running, ready_at)) => {
                    let body = json!({"ready_at": ready_at, "sandbox_id": id}).to_string();
                    tx.event(Some("ready"), None, &body).await;
                    return;
                }
                // MIOSA sends only `ready` and `timeout`: a sandbox gone
                // meanwhile ends the stream, and a client's poll finds the 404.
                None => return,
                Some(_) if started.elapsed().as_secs_f64() >= timeout => {
                    let body =
                        json!({"reason": format!("not_ready_after_{}s", timeout.round() as u64)});
                    tx.event(Some("timeout"), None, &body.to_string()).await;
                    return;
                }
                Some(_) => {}
            }
            if last_beat.elapsed() >= app.config.heartbeat {
                last_beat = Instant::now();
                if !tx.comment("keepalive").await {
                    return;
                }
            }
            if tx.closed() || !app.sleep(Duration::from_millis(20)).await {
                return;
            }
        }
    });
    Ok(resp)
}

async fn events(
    State(app): State<App>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    q: Q,
) -> Resp {
    let mut cursor: u64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or_else(|| q.str("last_event_id"))
        .or_else(|| q.str("after"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    app.store().computer(&id)?;
    let (mut tx, resp) = sse::open(Some(&ctx));
    tokio::spawn(async move {
        let mut last_beat = Instant::now();
        if !tx.comment("keepalive").await {
            return;
        }
        loop {
            let batch = {
                let mut store = app.store();
                store.computer(&id).ok().map(|m| {
                    m.events
                        .iter()
                        .filter(|e| e.seq > cursor)
                        .cloned()
                        .collect::<Vec<_>>()
                })
            };
            let Some(batch) = batch else {
                let body = json!({"sandbox_id": id, "at": util::now()}).to_string();
                let seq = (cursor + 1).to_string();
                tx.event(Some("sandbox.destroyed"), Some(&seq), &body).await;
                return;
            };
            for e in batch {
                let seq = e.seq.to_string();
                if !tx
                    .event(Some(&e.name), Some(&seq), &e.data.to_string())
                    .await
                {
                    return;
                }
                cursor = e.seq;
            }
            if last_beat.elapsed() >= app.config.heartbeat {
                last_beat = Instant::now();
                if !tx.comment("heartbeat").await {
                    return;
                }
            }
            if tx.closed() || !app.sleep(Duration::from_millis(50)).await {
                return;
            }
        }
    });
    Ok(resp)
}

async fn set_tags(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let tags = body
        .str_list_opt("tags")?
        .ok_or_else(|| ApiError::validation("tags", "is required"))?;
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    m.attrs.insert("tags".into(), json!(tags));
    m.note("tags.updated", json!({"tags": tags}));
    ok(data(m.sandbox_view()))
}

async fn tags(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let tags = app.store().sandbox(&id)?.tags();
    ok(data(json!({"tags": tags})))
}

fn set_phase(app: &App, id: &str, phase: Phase) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(id)?;
    match phase {
        Phase::Starting => {
            if m.phase != Phase::Running {
                m.boot(Phase::Starting, app.config.boot_delay);
            }
        }
        other => {
            if m.phase != other {
                m.halt(other);
            }
        }
    }
    ok(data(m.sandbox_view()))
}

async fn stop(State(app): State<App>, Path(id): Path<String>) -> Resp {
    set_phase(&app, &id, Phase::Stopped)
}

async fn pause(State(app): State<App>, Path(id): Path<String>) -> Resp {
    set_phase(&app, &id, Phase::Paused)
}

async fn resume(State(app): State<App>, Path(id): Path<String>) -> Resp {
    set_phase(&app, &id, Phase::Starting)
}

async fn extend(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let secs = body
        .int_any(&["timeout_sec", "seconds", "extend_by_sec"])?
        .unwrap_or(3600);
    if secs <= 0 {
        return Err(ApiError::validation("timeout_sec", "must be positive"));
    }
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let current = m
        .attrs
        .get("timeout_sec")
        .and_then(Value::as_i64)
        .unwrap_or(3600);
    m.attrs.insert("timeout_sec".into(), json!(current + secs));
    m.note("extended", json!({"by_sec": secs}));
    ok(data(m.sandbox_view()))
}

async fn usage(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let runtime = m.total_runtime();
    let (cpu, mem, _) = contract(&m.size());
    let ms = i64::try_from(runtime.as_millis()).unwrap_or(i64::MAX);
    ok(data(json!({
        "sandbox_id": id, "state": m.state_str(), "runtime_sec": runtime.as_secs(),
        "provisioned_vcpu_ms": ms * cpu, "provisioned_memory_mb_ms": ms * mem,
        "creation_count": 1, "active_cpu_ms": null, "network_ingress_bytes": null,
        "network_egress_bytes": null,
        "measurement_status": {"active_cpu_ms": "unavailable", "network": "unavailable"},
        "estimated_cost_cents": 1 + runtime.as_secs() / 3600,
        "timeout_sec": m.attrs.get("timeout_sec"),
    })))
}
