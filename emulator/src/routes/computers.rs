//! Computers: lifecycle, env, ports, auto-stop, metrics, snapshots, volume
//! attachments. A sandbox id works on these `/computers/{id}` routes too (the
//! seed's quick start drives a sandbox through them); the desktop routes
//! refuse one.

use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::routing::{get, patch, post};
use serde_json::{Map, Value, json};

use super::{Boot, Resp, ack, created, numbered, ok};
use crate::errors::{ApiError, ApiResult};
use crate::fsutil;
use crate::json::{Body, Q};
use crate::pipeline::Ctx;
use crate::state::{App, EnvVar, Kind, Machine, Phase, SIZES, Snapshot, Store, TENANT_ID};
use crate::util::{self, data};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/computers", post(create).get(list))
        .route("/computers/{id}", get(show).patch(update).delete(destroy))
        .route("/computers/{id}/start", post(start))
        .route("/computers/{id}/stop", post(stop))
        .route("/computers/{id}/restart", post(restart))
        .route("/computers/{id}/clone", post(clone))
        .route(
            "/computers/{id}/resize",
            post(resize).patch(resize_by_patch),
        )
        .route("/computers/{id}/move", post(move_computer))
        .route("/computers/{id}/env", get(env_list).post(env_create))
        .route(
            "/computers/{id}/env/{name}",
            patch(env_update).delete(env_delete),
        )
        .route("/computers/{id}/ports", get(ports_list).post(ports_create))
        .route(
            "/computers/{id}/ports/{port}",
            patch(ports_update).delete(ports_delete),
        )
        .route(
            "/computers/{id}/auto-stop",
            get(auto_stop).patch(set_auto_stop),
        )
        .route("/computers/{id}/metrics", get(metrics))
        .route(
            "/computers/{id}/snapshots",
            post(snapshot_create).get(snapshot_list),
        )
        .route(
            "/computers/{id}/snapshots/{sid}/events",
            get(snapshot_events),
        )
        .route("/snapshots", get(snapshot_list_all))
        .route(
            "/snapshots/{sid}",
            get(snapshot_get).delete(snapshot_delete),
        )
        .route("/snapshots/{sid}/restore", post(snapshot_restore))
        .route("/computers/{id}/restore/{sid}", post(snapshot_restore_onto))
        .route(
            "/computers/{id}/checkpoints/{sid}/restore",
            post(snapshot_restore_onto),
        )
        .route("/computers/{id}/volumes", post(attach).get(attachments))
        .route(
            "/computers/{id}/volumes/{aid}",
            axum::routing::delete(detach),
        )
}

fn computer_attrs(body: &Body, base: Option<&Map<String, Value>>) -> ApiResult<Map<String, Value>> {
    let mut a = base.cloned().unwrap_or_default();
    let name = body
        .str_opt("name")?
        .or_else(|| {
            a.get("name")
                .and_then(Value::as_str)
                .map(|n| format!("{n}-clone"))
        })
        .unwrap_or_else(|| format!("computer-{}", util::random_hex(3)));
    a.insert("name".into(), json!(name));
    a.insert(
        "slug".into(),
        json!(format!("{name}-{}", util::random_hex(2))),
    );
    let template = body
        .str_any(&["template_type", "template_id", "template"])?
        .or_else(|| {
            a.get("template_type")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "miosa-desktop".into());
    a.insert("template_type".into(), json!(template));
    if let Some(size) = body.str_opt("size")? {
        if !SIZES.contains(&size.as_str()) {
            return Err(ApiError::validation(
                "size",
                "must be one of xs, small, medium, large, xl",
            ));
        }
        a.insert("size".into(), json!(size.replace("xlarge", "xl")));
    }
    a.entry("size").or_insert(json!("small"));
    let visibility = body.str_opt("visibility")?;
    if let Some(v) = &visibility
        && !["public", "tenant", "key"].contains(&v.as_str())
    {
        return Err(ApiError::validation(
            "visibility",
            "must be public, tenant or key",
        ));
    }
    if let Some(v) = visibility {
        a.insert("visibility".into(), json!(v));
    }
    a.entry("visibility").or_insert(json!("tenant"));
    if let Some(m) = body.obj_opt("metadata")? {
        a.insert("metadata".into(), Value::Object(m));
    }
    a.entry("metadata").or_insert(json!({}));
    for k in [
        "workspace_id",
        "external_workspace_id",
        "external_user_id",
        "external_project_id",
        "region",
    ] {
        if let Some(v) = body.str_opt(k)? {
            a.insert(k.into(), json!(v));
        }
        a.entry(k).or_insert(Value::Null);
    }
    if let Some(v) = body.bool_opt("allow_provision")? {
        a.insert("allow_provision".into(), json!(v));
    }
    Ok(a)
}

/// Registers a new computer; the caller copies files into its directory.
pub fn insert_computer(
    app: &App,
    store: &mut Store,
    attrs: Map<String, Value>,
    boot: Boot,
) -> ApiResult<String> {
    super::check_warm(store, boot.fail_fast)?;
    store.debit(1, "computer create")?;
    store.warm_ready -= u64::from(boot.fail_fast);
    let id = util::new_id("cmp");
    let dir = app.sandboxes_dir().join(&id);
    std::fs::create_dir_all(&dir)?;
    let mut m = Machine::new(Kind::Computer, id.clone(), dir, attrs);
    m.push_event("computer.created", json!({}));
    super::first_boot(app, &mut m, boot.fail_fast, boot.auto_start);
    store.machines.push(m);
    store.count("computer");
    Ok(id)
}

async fn create(State(app): State<App>, body: Body) -> Resp {
    // Both official SDKs always send a name; the default mode makes one up.
    if body.strict() && body.str_opt("name")?.is_none() {
        return Err(ApiError::validation("name", "is required (strict mode)"));
    }
    let attrs = computer_attrs(&body, None)?;
    let boot = Boot::from_body(&body)?;
    let view = {
        let mut store = app.store();
        let id = insert_computer(&app, &mut store, attrs, boot)?;
        store.computer(&id)?.computer_view()
    };
    created(view)
}

async fn list(State(app): State<App>, q: Q) -> Resp {
    let mut store = app.store();
    let mut out = Vec::new();
    for m in &mut store.machines {
        m.tick();
        if m.kind != Kind::Computer || m.phase == Phase::Destroyed {
            continue;
        }
        let view = m.computer_view();
        if q.str("status").is_some_and(|s| view["status"] != json!(s))
            || q.str("workspace_id")
                .is_some_and(|w| view["workspace_id"] != json!(w))
        {
            continue;
        }
        out.push(view);
    }
    numbered(out, &q, 20)
}

async fn show(State(app): State<App>, Path(id): Path<String>) -> Resp {
    ok(app.store().computer(&id)?.computer_view())
}

async fn update(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let name = body.str_opt("name")?;
    let metadata = body.obj_opt("metadata")?;
    let mut store = app.store();
    let m = store.computer(&id)?;
    if let Some(n) = name {
        m.attrs.insert("name".into(), json!(n));
    }
    if let Some(md) = metadata {
        m.attrs.insert("metadata".into(), Value::Object(md));
    }
    m.note("updated", json!({}));
    ok(m.computer_view())
}

/// DELETE /computers/{id} (with or without `?force=true`): a computer stays
/// visible as `destroyed`; a sandbox is removed.
async fn destroy(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    q.bool("force")?;
    let (kind, procs) = {
        let mut store = app.store();
        let m = store.computer(&id)?;
        if m.kind == Kind::Computer && m.phase != Phase::Destroyed {
            m.halt(Phase::Destroyed);
        }
        (m.kind, std::mem::take(&mut m.processes))
    };
    if kind == Kind::Sandbox {
        super::sandboxes::remove_machine(&app, &id).await?;
    } else {
        for p in &procs {
            crate::exec::stop(p).await;
        }
    }
    ok(json!({"ok": true, "success": true, "id": id, "status": "destroyed"}))
}

fn action(app: &App, id: &str, f: impl FnOnce(&mut Machine, &App) -> ApiResult<()>) -> Resp {
    let mut store = app.store();
    let m = store.computer(id)?;
    if m.phase == Phase::Destroyed {
        return Err(ApiError::conflict(
            "DESTROYED",
            format!("{} is destroyed", m.noun()),
        ));
    }
    f(m, app)?;
    ok(
        json!({"success": true, "status": m.state_str(), "message": format!("{} {}", m.noun(), m.state_str())}),
    )
}

/// Boots a stopped or paused machine and answers once it runs (a machine
/// still booting from its create is waited for too), so the seed's
/// create-start-exec flow works against a real boot. `environment`,
/// `environment_id`, `env_id` and `no_env` are accepted; environments are
/// not emulated, `env` is added to the machine's variables.
async fn start(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    for k in ["environment", "environment_id", "env_id"] {
        body.str_opt(k)?;
    }
    body.bool_opt("no_env")?;
    let env = body.str_map_opt("env")?.unwrap_or_default();
    let fail_fast = body.bool_opt("fail_fast")?.unwrap_or(false);
    {
        let mut store = app.store();
        let booting = matches!(store.computer(&id)?.phase, Phase::Stopped | Phase::Paused);
        if booting {
            super::check_warm(&store, fail_fast)?;
            store.warm_ready -= u64::from(fail_fast);
        }
        let m = store.computer(&id)?;
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
        if booting {
            if fail_fast || app.config.boot_delay.is_zero() {
                m.set_running();
            } else {
                m.boot(Phase::Starting, app.config.boot_delay);
            }
        }
    }
    super::settle(&app, &id, app.config.boot_delay + Duration::from_secs(10)).await?;
    action(&app, &id, |_, _| Ok(()))
}

async fn stop(State(app): State<App>, Path(id): Path<String>) -> Resp {
    action(&app, &id, |m, _| {
        if m.phase != Phase::Stopped {
            m.halt(Phase::Stopped);
        }
        Ok(())
    })
}

async fn restart(State(app): State<App>, Path(id): Path<String>) -> Resp {
    action(&app, &id, |m, app| {
        m.halt(Phase::Stopped);
        m.boot(Phase::Starting, app.config.boot_delay);
        Ok(())
    })
}

async fn clone(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let boot = Boot::from_body(&body)?;
    let (src_dir, attrs, env) = {
        let mut store = app.store();
        let m = store.computer(&id)?;
        let mut base = m.attrs.clone();
        if m.kind == Kind::Sandbox {
            base.insert(
                "template_type".into(),
                base.get("template_id").cloned().unwrap_or(Value::Null),
            );
        }
        (
            m.dir.clone(),
            computer_attrs(&body, Some(&base))?,
            m.env.clone(),
        )
    };
    let new_id = {
        let mut store = app.store();
        let new_id = insert_computer(&app, &mut store, attrs, boot)?;
        let m = store.computer(&new_id)?;
        m.env = env;
        m.attrs.insert("cloned_from".into(), json!(id));
        new_id
    };
    let dest = app.sandboxes_dir().join(&new_id);
    fsutil::blocking(move || fsutil::copy_dir(&src_dir, &dest).map_err(ApiError::from)).await?;
    let view = app.store().computer(&new_id)?.computer_view();
    created(data(view))
}

/// `PATCH` is how the Elixir SDK resizes; strict mode takes only `POST`.
async fn resize_by_patch(state: State<App>, id: Path<String>, body: Body) -> Resp {
    super::canonical_method(&body, "POST")?;
    resize(state, id, body).await
}

async fn resize(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let size = body.str_opt("size")?;
    let cpu = body.int_any(&["cpu_count", "cpu"])?;
    let mem = body.int_opt("memory_mb")?;
    if size.is_none() && cpu.is_none() && mem.is_none() {
        return Err(ApiError::validation(
            "size",
            "is required (or cpu_count / memory_mb)",
        ));
    }
    if let Some(s) = &size
        && !SIZES.contains(&s.as_str())
    {
        return Err(ApiError::validation(
            "size",
            "must be one of xs, small, medium, large, xl",
        ));
    }
    let mut store = app.store();
    let m = store.computer(&id)?;
    if let Some(s) = size {
        m.attrs
            .insert("size".into(), json!(s.replace("xlarge", "xl")));
        for k in ["cpu_count", "memory_mb", "disk_size_mb"] {
            m.attrs.remove(k);
        }
    }
    if let Some(c) = cpu {
        m.attrs.insert("cpu_count".into(), json!(c));
    }
    if let Some(mb) = mem {
        m.attrs.insert("memory_mb".into(), json!(mb));
    }
    m.note("resized", json!({"size": m.size()}));
    ok(data(m.computer_view()))
}

async fn move_computer(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let host = body.str_opt("host_id")?;
    let region = body.str_opt("region")?;
    let mut store = app.store();
    let m = store.computer(&id)?;
    if let Some(h) = host {
        m.attrs.insert("host_id".into(), json!(h));
    }
    if let Some(r) = region {
        m.attrs.insert("region".into(), json!(r));
    }
    m.note(
        "moved",
        json!({"host_id": m.attrs.get("host_id"), "region": m.attrs.get("region")}),
    );
    ok(data(m.computer_view()))
}

fn env_view(name: &str, v: &EnvVar) -> Value {
    json!({
        "name": name, "key": name, "value": if v.encrypted { Value::Null } else { json!(v.value) },
        "encrypted": v.encrypted, "created_at": v.created_at, "updated_at": v.updated_at,
    })
}

async fn env_list(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.computer(&id)?;
    let items: Vec<Value> = m.env.iter().map(|(k, v)| env_view(k, v)).collect();
    ok(data(Value::Array(items)))
}

fn valid_env_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(
            "name",
            "must be letters, digits and underscores",
        ))
    }
}

async fn env_create(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let name = body
        .str_any(&["name", "key"])?
        .ok_or_else(|| ApiError::validation("name", "is required"))?;
    valid_env_name(&name)?;
    let value = body
        .str_opt("value")?
        .ok_or_else(|| ApiError::validation("value", "is required"))?;
    let encrypted = body.bool_opt("encrypted")?.unwrap_or(false);
    let mut store = app.store();
    let m = store.computer(&id)?;
    if m.env.contains_key(&name) {
        return Err(ApiError::conflict(
            "ALREADY_EXISTS",
            format!("environment variable {name} exists; update it instead"),
        ));
    }
    let now = util::now();
    let var = EnvVar {
        value,
        encrypted,
        created_at: now.clone(),
        updated_at: now,
    };
    let view = env_view(&name, &var);
    m.env.insert(name.clone(), var);
    m.note("env.created", json!({"name": name}));
    created(data(view))
}

async fn env_update(
    State(app): State<App>,
    Path((id, name)): Path<(String, String)>,
    body: Body,
) -> Resp {
    let value = body
        .str_opt("value")?
        .ok_or_else(|| ApiError::validation("value", "is required"))?;
    let mut store = app.store();
    let m = store.computer(&id)?;
    let var = m
        .env
        .get_mut(&name)
        .ok_or_else(|| ApiError::not_found("Environment variable"))?;
    var.value = value;
    var.updated_at = util::now();
    let view = env_view(&name, var);
    m.note("env.updated", json!({"name": name}));
    ok(data(view))
}

async fn env_delete(State(app): State<App>, Path((id, name)): Path<(String, String)>) -> Resp {
    let mut store = app.store();
    let m = store.computer(&id)?;
    m.env
        .remove(&name)
        .ok_or_else(|| ApiError::not_found("Environment variable"))?;
    m.note("env.deleted", json!({"name": name}));
    ack()
}

fn port_record(
    m: &Machine,
    port: i64,
    body: &Body,
    base: Option<&Map<String, Value>>,
) -> ApiResult<Map<String, Value>> {
    let mut rec = base.cloned().unwrap_or_default();
    rec.insert("port".into(), json!(port));
    if let Some(v) = body.str_opt("visibility")? {
        if !["public", "private", "tenant", "key"].contains(&v.as_str()) {
            return Err(ApiError::validation(
                "visibility",
                "must be public, private, tenant or key",
            ));
        }
        rec.insert("visibility".into(), json!(v));
    }
    rec.entry("visibility").or_insert(json!("private"));
    for k in ["protocol", "name", "auth"] {
        if let Some(v) = body.get(k) {
            rec.insert(k.into(), v.clone());
        }
    }
    rec.entry("protocol").or_insert(json!("http"));
    rec.insert(
        "url".into(),
        json!(format!("https://{port}-{}.sandbox.miosa.app", m.id)),
    );
    rec.entry("created_at").or_insert(json!(util::now()));
    rec.insert("updated_at".into(), json!(util::now()));
    Ok(rec)
}

fn parse_port(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|p| (1..=65535).contains(p))
        .ok_or_else(|| ApiError::validation("port", "must be a port number between 1 and 65535"))
}

async fn ports_list(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.computer(&id)?;
    let items: Vec<Value> = m.ports.values().map(|p| Value::Object(p.clone())).collect();
    ok(data(Value::Array(items)))
}

async fn ports_create(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let port = body.int_req("port")?;
    if !(1..=65535).contains(&port) {
        return Err(ApiError::validation("port", "must be between 1 and 65535"));
    }
    let mut store = app.store();
    let m = store.computer(&id)?;
    if m.ports.get(&port.to_string()).is_some() {
        return Err(ApiError::conflict(
            "ALREADY_EXISTS",
            format!("port {port} is already exposed"),
        ));
    }
    let rec = port_record(m, port, &body, None)?;
    m.ports.insert(port.to_string(), rec.clone());
    m.note("port.created", json!({"port": port}));
    created(data(Value::Object(rec)))
}

async fn ports_update(
    State(app): State<App>,
    Path((id, port)): Path<(String, String)>,
    body: Body,
) -> Resp {
    let port = parse_port(&port)?;
    let mut store = app.store();
    let m = store.computer(&id)?;
    let base = m.ports.req(&port.to_string(), "Port")?.clone();
    let rec = port_record(m, port, &body, Some(&base))?;
    m.ports.insert(port.to_string(), rec.clone());
    ok(data(Value::Object(rec)))
}

async fn ports_delete(State(app): State<App>, Path((id, port)): Path<(String, String)>) -> Resp {
    let port = parse_port(&port)?;
    let mut store = app.store();
    let m = store.computer(&id)?;
    m.ports
        .remove(&port.to_string())
        .ok_or_else(|| ApiError::not_found("Port"))?;
    ack()
}

fn auto_stop_view(m: &Machine) -> Value {
    json!({"computer_id": m.id, "seconds": m.auto_stop_seconds, "enabled": m.auto_stop_seconds > 0, "idle_timeout_sec": m.auto_stop_seconds})
}

async fn auto_stop(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    ok(data(auto_stop_view(store.computer(&id)?)))
}

async fn set_auto_stop(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let secs = body
        .int_any(&["seconds", "idle_timeout_sec", "auto_stop_seconds"])?
        .ok_or_else(|| ApiError::validation("seconds", "is required"))?;
    if secs < 0 {
        return Err(ApiError::validation("seconds", "must be >= 0"));
    }
    let mut store = app.store();
    let m = store.computer(&id)?;
    m.auto_stop_seconds = secs;
    ok(data(auto_stop_view(m)))
}

async fn metrics(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    let window = q.str("window").unwrap_or("1h").to_owned();
    let points = match window.as_str() {
        "1h" => 12,
        "24h" => 24,
        "7d" => 28,
        _ => return Err(ApiError::validation("window", "must be 1h, 24h or 7d")),
    };
    let mut store = app.store();
    let m = store.computer(&id)?;
    let running = m.phase == Phase::Running;
    let series = |base: f64| -> Vec<Value> {
        (0..points)
            .map(|i| json!({"t": i, "value": if running { base + f64::from(i % 3) } else { 0.0 }}))
            .collect()
    };
    ok(data(json!({
        "computer_id": id, "window": window,
        "cpu_percent": series(12.0), "memory_mb": series(512.0),
        "disk_mb": series(1024.0), "network_rx_bytes": series(0.0), "network_tx_bytes": series(0.0),
    })))
}

/// Copies a machine's directory into a new ready snapshot.
pub async fn take_snapshot(
    app: &App,
    owner: &str,
    kind: Kind,
    mut rec: Map<String, Value>,
) -> ApiResult<Value> {
    let src = app.store().computer(owner)?.dir.clone();
    let id = util::new_id("snap");
    let dest = app.snapshots_dir().join(&id);
    let d = dest.clone();
    let size = fsutil::blocking(move || {
        fsutil::copy_dir(&src, &d)?;
        Ok(fsutil::scan(&d, true, 100_000)
            .values()
            .map(|(_, s, _)| *s)
            .sum::<u64>())
    })
    .await?;
    let now = util::now();
    let owner_key = if kind == Kind::Sandbox {
        "sandbox_id"
    } else {
        "computer_id"
    };
    rec.insert("id".into(), json!(id));
    rec.insert(owner_key.into(), json!(owner));
    rec.insert("tenant_id".into(), json!(TENANT_ID));
    rec.insert("status".into(), json!("ready"));
    rec.entry("comment").or_insert(Value::Null);
    rec.insert("size_bytes".into(), json!(size));
    rec.insert("parent_snapshot_id".into(), Value::Null);
    rec.insert("error".into(), Value::Null);
    rec.insert("last_used_at".into(), Value::Null);
    rec.entry("expires_at").or_insert(Value::Null);
    rec.insert("created_at".into(), json!(now));
    rec.insert("updated_at".into(), json!(now));
    let mut store = app.store();
    store.count("snapshot");
    if let Ok(m) = store.computer(owner) {
        m.note("snapshot.created", json!({"snapshot_id": id}));
    }
    store.snapshots.push(Snapshot {
        id,
        owner: owner.to_owned(),
        dir: dest,
        rec: rec.clone(),
    });
    Ok(Value::Object(rec))
}

async fn snapshot_create(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let mut rec = Map::new();
    if let Some(c) = body.str_any(&["comment", "name", "description"])? {
        rec.insert("comment".into(), json!(c));
    }
    app.store().computer(&id)?;
    let snap = take_snapshot(&app, &id, Kind::Computer, rec).await?;
    created(data(snap))
}

fn live_snapshots(store: &Store, owner: Option<&str>) -> Vec<Value> {
    store
        .snapshots
        .iter()
        .filter(|s| {
            owner.is_none_or(|o| s.owner == o) && s.rec.get("status") != Some(&json!("deleted"))
        })
        .map(|s| Value::Object(s.rec.clone()))
        .collect()
}

/// Snapshot progress as data-only frames (`{"type": "snapshot_progress",
/// ...}`); snapshots are taken synchronously, so the stream replays the
/// steps and ends at the terminal status.
async fn snapshot_events(
    State(app): State<App>,
    Path((id, sid)): Path<(String, String)>,
    Extension(ctx): Extension<Ctx>,
) -> Resp {
    let status = {
        let mut store = app.store();
        store.computer(&id)?;
        let snap = store
            .snapshots
            .iter()
            .find(|s| s.id == sid && s.owner == id)
            .ok_or_else(|| ApiError::not_found("Snapshot"))?;
        snap.rec
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("ready")
            .to_owned()
    };
    let steps: Vec<(&str, u32)> = if status == "ready" {
        vec![("creating", 20), ("uploading", 60), ("ready", 100)]
    } else {
        vec![(status.as_str(), 100)]
    };
    let frames: Vec<String> = steps
        .into_iter()
        .map(|(s, p)| {
            json!({"type": "snapshot_progress", "snapshot_id": sid, "status": s, "progress": p})
                .to_string()
        })
        .collect();
    let (mut tx, resp) = crate::sse::open(Some(&ctx));
    tokio::spawn(async move {
        for f in frames {
            if !tx.event(None, None, &f).await
                || !app.sleep(std::time::Duration::from_millis(20)).await
            {
                return;
            }
        }
    });
    Ok(resp)
}

async fn snapshot_list(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    store.computer(&id)?;
    ok(data(Value::Array(live_snapshots(&store, Some(&id)))))
}

async fn snapshot_list_all(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    super::paged(live_snapshots(&store, None), &q)
}

async fn snapshot_get(State(app): State<App>, Path(sid): Path<String>) -> Resp {
    let store = app.store();
    ok(data(Value::Object(store.snapshot(&sid)?.rec.clone())))
}

async fn snapshot_delete(State(app): State<App>, Path(sid): Path<String>) -> Resp {
    let dir = {
        let mut store = app.store();
        store.snapshot(&sid)?;
        let snap = store
            .snapshots
            .iter_mut()
            .find(|s| s.id == sid)
            .ok_or_else(|| ApiError::not_found("Snapshot"))?;
        snap.rec.insert("status".into(), json!("deleted"));
        snap.rec.insert("updated_at".into(), json!(util::now()));
        snap.dir.clone()
    };
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
    let store = app.store();
    let rec = store
        .snapshots
        .iter()
        .find(|s| s.id == sid)
        .map(|s| s.rec.clone())
        .unwrap_or_default();
    ok(data(Value::Object(rec)))
}

/// `POST /computers/{id}/restore/{sid}` (py) and the Elixir checkpoint form:
/// the same as `POST /snapshots/{sid}/restore` once the computer is known.
async fn snapshot_restore_onto(
    State(app): State<App>,
    Path((id, sid)): Path<(String, String)>,
    body: Body,
) -> Resp {
    app.store().computer(&id)?;
    snapshot_restore(State(app), Path(sid), body).await
}

/// `POST /snapshots/{sid}/restore`: a new computer from the snapshot's files.
async fn snapshot_restore(State(app): State<App>, Path(sid): Path<String>, body: Body) -> Resp {
    let (snap_dir, owner) = {
        let store = app.store();
        let s = store.snapshot(&sid)?;
        (s.dir.clone(), s.owner.clone())
    };
    let base = app.store().computer(&owner).map(|m| m.attrs.clone()).ok();
    let attrs = computer_attrs(&body, base.as_ref())?;
    let boot = Boot::from_body(&body)?;
    let new_id = {
        let mut store = app.store();
        let id = insert_computer(&app, &mut store, attrs, boot)?;
        store
            .computer(&id)?
            .attrs
            .insert("restored_from".into(), json!(sid));
        id
    };
    let dest = app.sandboxes_dir().join(&new_id);
    fsutil::blocking(move || fsutil::copy_dir(&snap_dir, &dest).map_err(ApiError::from)).await?;
    let view = app.store().computer(&new_id)?.computer_view();
    created(data(view))
}

async fn attach(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let volume_id = body.str_req("volume_id")?;
    let mount_path = body
        .str_opt("mount_path")?
        .unwrap_or_else(|| format!("/mnt/{volume_id}"));
    if !mount_path.starts_with('/') {
        return Err(ApiError::validation(
            "mount_path",
            "must be an absolute path",
        ));
    }
    let mut store = app.store();
    store.computer(&id)?;
    store.volumes.req(&volume_id, "Volume")?;
    let aid = util::new_id("att");
    let rec = util::obj(json!({
        "id": aid, "volume_id": volume_id, "computer_id": id, "mount_path": mount_path,
        "status": "attached", "attached_at": util::now(),
    }));
    store.attachments.insert(aid, rec.clone());
    if let Some(v) = store.volumes.get_mut(&volume_id) {
        v.insert("status".into(), json!("attached"));
    }
    store.count("attachment");
    created(data(Value::Object(rec)))
}

async fn attachments(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    store.computer(&id)?;
    let items: Vec<Value> = store
        .attachments
        .values()
        .filter(|a| a.get("computer_id") == Some(&json!(id)))
        .map(|a| Value::Object(a.clone()))
        .collect();
    ok(data(Value::Array(items)))
}

async fn detach(State(app): State<App>, Path((id, aid)): Path<(String, String)>) -> Resp {
    let mut store = app.store();
    store.computer(&id)?;
    let rec = store.attachments.req(&aid, "Attachment")?;
    if rec.get("computer_id") != Some(&json!(id)) {
        return Err(ApiError::not_found("Attachment"));
    }
    let rec = store.attachments.remove(&aid).unwrap_or_default();
    let vol = rec
        .get("volume_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let still = store
        .attachments
        .values()
        .any(|a| a.get("volume_id") == Some(&json!(vol)));
    if !still && let Some(v) = store.volumes.get_mut(&vol) {
        v.insert("status".into(), json!("available"));
    }
    ok(json!({"ok": true, "id": aid, "detached": true}))
}
