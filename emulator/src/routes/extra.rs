//! Routes the official SDKs call beyond the seed: sandbox deploys, template
//! builds and the catalog, computer credentials, logs, multipart uploads and
//! exports, tenant and fleet event streams, checkpoint restores, deployment
//! versions, builds and domains, database start and logs, credit usage and
//! the admin snapshot list.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::{Resp, created, ok, page, running};
use crate::errors::{ApiError, ApiResult};
use crate::fsutil;
use crate::json::{Body, Q};
use crate::pipeline::Ctx;
use crate::sse;
use crate::state::{App, Kind, Phase};
use crate::util::{self, data};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/sandboxes/{id}/deploy", post(sandbox_deploy))
        .route("/sandbox-templates/build-spec", get(build_spec_schema))
        .route("/sandbox-templates/validate", post(validate_spec))
        .route(
            "/sandbox-templates/{tid}/builds",
            get(template_builds).post(template_build_create),
        )
        .route("/templates", get(catalog))
        .route("/computers/{id}/viewer-password", get(viewer_password))
        .route(
            "/computers/{id}/viewer-password/rotate",
            post(rotate_viewer_password),
        )
        .route("/computers/{id}/vnc-credentials", get(vnc_credentials))
        .route("/computers/{id}/apps", get(apps))
        .route("/computers/{id}/urls", get(urls))
        .route("/computers/{id}/stream-token", post(stream_token))
        .route("/computers/{id}/logs", get(computer_logs))
        .route("/computers/{id}/files/upload", post(upload))
        .route("/computers/{id}/files/export", post(export))
        .route("/events/stream", get(tenant_events))
        .route("/command-center/events", get(fleet_events))
        .route(
            "/computers/{id}/checkpoints/{sid}/restore/stream",
            get(checkpoint_restore_stream),
        )
        .route("/deployments/{id}/versions/{vid}", get(version_get))
        .route("/deployments/{id}/versions/{vid}/promote", post(promote))
        .route("/deployments/{id}/builds", get(deploy_builds))
        .route("/deployments/{id}/builds/{bid}", get(deploy_build_get))
        .route("/deployments/{id}/domains", post(domain_add))
        .route(
            "/deployments/{id}/domains/{did}/verify",
            post(domain_verify),
        )
        .route("/databases/{id}/start", post(database_start))
        .route("/databases/{id}/logs", get(database_logs))
        .route("/credits/usage", get(credit_usage))
        .route("/admin/snapshots", get(admin_snapshots))
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// How long a build stays queued, then building, before it is ready.
const BUILD_STEP_MS: u64 = 150;

/// A build record as it stands now: its status follows the time since it started.
fn build_view(rec: &Map<String, Value>) -> Value {
    let started = rec.get("_started_ms").and_then(Value::as_u64).unwrap_or(0);
    let age = epoch_ms().saturating_sub(started);
    let (status, logs): (&str, &[&str]) = if age < BUILD_STEP_MS {
        ("queued", &[])
    } else if age < 2 * BUILD_STEP_MS {
        ("building", &["pulling base image"])
    } else {
        (
            "ready",
            &["pulling base image", "running steps", "image ready"],
        )
    };
    let mut view: Map<String, Value> = rec
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    view.insert("status".into(), json!(status));
    view.insert("logs".into(), json!(logs));
    if status == "ready" {
        view.insert(
            "finished_at".into(),
            json!(util::rfc3339(
                UNIX_EPOCH + Duration::from_millis(started + 2 * BUILD_STEP_MS)
            )),
        );
    }
    Value::Object(view)
}

fn new_build(
    prefix: &str,
    owner_key: &str,
    owner: &str,
    extra: Map<String, Value>,
) -> Map<String, Value> {
    let mut rec = Map::new();
    rec.insert("id".into(), json!(util::new_id(prefix)));
    rec.insert(owner_key.into(), json!(owner));
    rec.insert("created_at".into(), json!(util::now()));
    rec.insert("_started_ms".into(), json!(epoch_ms()));
    rec.extend(extra);
    rec
}

/// `POST /sandboxes/{id}/deploy`: a deployment named after the sandbox (made
/// on first deploy) gets a new version, promoted at once.
async fn sandbox_deploy(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let kind = body.str_opt("kind")?.unwrap_or_else(|| "auto".into());
    if !["auto", "static", "service"].contains(&kind.as_str()) {
        return Err(ApiError::validation(
            "kind",
            "must be auto, static or service",
        ));
    }
    let environment = body
        .str_opt("environment")?
        .unwrap_or_else(|| "production".into());
    let mut settings = Map::new();
    for k in [
        "output_path",
        "build_command",
        "run_command",
        "health_check_path",
        "deployment_type",
    ] {
        if let Some(v) = body.str_opt(k)? {
            settings.insert(k.into(), json!(v));
        }
    }
    if let Some(port) = body.int_opt("port")? {
        if !(1..=65_535).contains(&port) {
            return Err(ApiError::validation("port", "must be between 1 and 65535"));
        }
        settings.insert("port".into(), json!(port));
    }
    let mut store = app.store();
    let name = {
        let m = store.sandbox(&id)?;
        m.note("deploy.requested", json!({"kind": kind}));
        m.attrs
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(&id)
            .to_owned()
    };
    let now = util::now();
    let dep_id = store
        .deployments
        .values()
        .find(|d| d.get("source_sandbox_id") == Some(&json!(id)))
        .and_then(|d| d.get("id").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| util::new_id("dep"));
    let number = store
        .versions
        .values()
        .filter(|v| v.get("deployment_id") == Some(&json!(dep_id)))
        .count()
        + 1;
    let ver_id = util::new_id("ver");
    let mut version = util::obj(json!({
        "id": ver_id, "deployment_id": dep_id, "number": number, "status": "ready",
        "kind": kind, "environment": environment, "source_sandbox_id": id, "created_at": now,
    }));
    version.extend(settings);
    store.versions.insert(ver_id.clone(), version.clone());
    let slug = name.replace('_', "-");
    let deployment = util::obj(json!({
        "id": dep_id, "tenant_id": store.tenant.get("id"), "name": name, "slug": slug,
        "state": "live", "source_type": "sandbox", "source_sandbox_id": id,
        "active_version_id": ver_id, "public_url": format!("https://{slug}.miosa.app"),
        "metadata": {}, "auto_deploy": false, "created_at": now, "updated_at": now,
    }));
    store.deployments.insert(dep_id.clone(), deployment.clone());
    store.count("deployment_version");
    created(data(json!({
        "deployment": deployment, "version": version, "services": [], "promoted": true,
    })))
}

const BUILD_SPEC_KEYS: [&str; 6] = [
    "base_image",
    "base",
    "steps",
    "start_command",
    "env",
    "workdir",
];

async fn build_spec_schema() -> Resp {
    ok(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Sandbox template build spec",
        "type": "object",
        "required": ["base_image"],
        "additionalProperties": false,
        "properties": {
            "base_image": {"type": "string", "description": "Image the template starts from."},
            "steps": {"type": "array", "items": {"type": "string"}, "description": "Shell commands run in order."},
            "start_command": {"type": "string", "description": "Command run when a sandbox boots."},
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
            "workdir": {"type": "string"},
        },
    }))
}

/// The problems of a build spec, and the spec normalised: `base` spelt
/// `base_image`, each step a command line (`{"run": ...}` steps unwrapped),
/// steps trimmed and empty ones dropped.
fn check_spec(spec: &Map<String, Value>) -> (Vec<Value>, Map<String, Value>) {
    let mut errors = Vec::new();
    let mut normal = Map::new();
    for k in spec.keys() {
        if !BUILD_SPEC_KEYS.contains(&k.as_str()) {
            errors.push(json!({"field": k, "message": "is not a build spec field"}));
        }
    }
    match spec.get("base_image").or_else(|| spec.get("base")) {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            normal.insert("base_image".into(), json!(s.trim()));
        }
        _ => errors.push(json!({"field": "base_image", "message": "is required"})),
    }
    match spec.get("steps") {
        None => {}
        Some(Value::Array(steps)) => {
            let commands: Vec<Option<&str>> = steps
                .iter()
                .map(|s| s.as_str().or_else(|| s.get("run").and_then(Value::as_str)))
                .collect();
            if commands.iter().all(Option::is_some) {
                let steps: Vec<&str> = commands
                    .into_iter()
                    .flatten()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                normal.insert("steps".into(), json!(steps));
            } else {
                errors.push(json!({"field": "steps", "message": "must be a list of commands"}));
            }
        }
        Some(_) => errors.push(json!({"field": "steps", "message": "must be a list of commands"})),
    }
    for k in ["start_command", "workdir"] {
        match spec.get(k) {
            None => {}
            Some(Value::String(s)) => {
                normal.insert(k.into(), json!(s));
            }
            Some(_) => errors.push(json!({"field": k, "message": "must be a string"})),
        }
    }
    if let Some(env) = spec.get("env") {
        if env
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string))
        {
            normal.insert("env".into(), env.clone());
        } else {
            errors.push(json!({"field": "env", "message": "must map names to strings"}));
        }
    }
    (errors, normal)
}

async fn validate_spec(body: Body) -> Resp {
    let spec = body
        .obj_opt("build_spec")?
        .ok_or_else(|| ApiError::validation("build_spec", "is required"))?;
    let (errors, normal) = check_spec(&spec);
    ok(data(json!({
        "valid": errors.is_empty(), "errors": errors, "build_spec": normal,
    })))
}

async fn template_builds(State(app): State<App>, Path(tid): Path<String>) -> Resp {
    let store = app.store();
    store.templates.req(&tid, "Template")?;
    let mut items: Vec<Value> = store
        .template_builds
        .values()
        .filter(|b| b.get("template_id") == Some(&json!(tid)))
        .map(build_view)
        .collect();
    items.reverse();
    ok(data(Value::Array(items)))
}

async fn template_build_create(
    State(app): State<App>,
    Path(tid): Path<String>,
    body: Body,
) -> Resp {
    let overrides = body.obj_opt("build_spec")?.unwrap_or_default();
    let mut store = app.store();
    let base = store
        .templates
        .req(&tid, "Template")?
        .get("build_spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_else(|| util::obj(json!({"base_image": "miosa/sandbox:latest"})));
    let mut spec = base;
    util::merge(&mut spec, &overrides);
    let (errors, normal) = check_spec(&spec);
    if let Some(first) = errors.first() {
        let field = first["field"].as_str().unwrap_or("build_spec");
        let message = first["message"].as_str().unwrap_or("is invalid");
        return Err(ApiError::validation(
            &format!("build_spec.{field}"),
            message,
        ));
    }
    let rec = new_build(
        "tbld",
        "template_id",
        &tid,
        util::obj(json!({"build_spec": normal})),
    );
    let id = rec["id"].as_str().unwrap_or_default().to_owned();
    store.template_builds.insert(id, rec.clone());
    store.count("template_build");
    created(data(build_view(&rec)))
}

async fn catalog() -> Resp {
    let sizes = json!(["xs", "small", "medium", "large", "xl"]);
    ok(data(json!({"templates": [
        {"id": "miosa-sandbox", "name": "Sandbox", "product": "sandbox", "default_size": "small", "sizes": sizes,
         "description": "Linux sandbox for running code."},
        {"id": "miosa-desktop", "name": "Desktop", "product": "computer", "default_size": "medium", "sizes": sizes,
         "description": "Linux desktop with a browser."},
        {"id": "docker-host", "name": "Docker host", "product": "docker_deploy_host", "default_size": "large",
         "sizes": ["medium", "large", "xl"], "description": "Host for container deployments."},
    ]})))
}

async fn viewer_password(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.computer(&id)?;
    let set_at = m.attrs.get("viewer_password_set_at").cloned();
    ok(data(json!({
        "viewer_password_set": set_at.is_some(), "viewer_password_set_at": set_at,
    })))
}

async fn rotate_viewer_password(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.computer(&id)?;
    let password = util::random_hex(12);
    let now = util::now();
    m.attrs.insert("viewer_password".into(), json!(password));
    m.attrs.insert("viewer_password_set_at".into(), json!(now));
    m.note("viewer_password.rotated", json!({}));
    ok(data(json!({
        "viewer_password": password, "viewer_password_set": true, "viewer_password_set_at": now,
    })))
}

async fn vnc_credentials(State(app): State<App>, Path(id): Path<String>) -> Resp {
    running(&app, &id, false)?;
    let mut store = app.store();
    let m = store.computer(&id)?;
    let password = m
        .attrs
        .entry("vnc_password")
        .or_insert_with(|| json!(util::random_hex(8)))
        .clone();
    ok(data(json!({
        "host": format!("{id}.vnc.miosa.app"), "port": 5900, "username": "user", "password": password,
        "url": format!("https://{id}.vnc.miosa.app/?password={}", password.as_str().unwrap_or_default()),
        "expires_at": util::in_secs(3600),
    })))
}

async fn apps(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.computer(&id)?;
    let launched: Vec<Value> = m
        .attrs
        .get("desktop")
        .and_then(|d| d.get("apps"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let items: Vec<Value> = ["firefox", "xterm", "code"]
        .iter()
        .map(|name| {
            json!({"name": name, "title": name, "running": launched.iter().any(|a| a == name)})
        })
        .collect();
    ok(json!({ "apps": items }))
}

async fn urls(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.computer(&id)?;
    let slug = m
        .attrs
        .get("slug")
        .and_then(Value::as_str)
        .unwrap_or(&id)
        .to_owned();
    ok(json!({"urls": [
        {"name": "desktop", "url": format!("https://{slug}.sandbox.miosa.app/desktop")},
        {"name": "public", "url": format!("https://{slug}.sandbox.miosa.app")},
    ]}))
}

async fn stream_token(State(app): State<App>, Path(id): Path<String>) -> Resp {
    running(&app, &id, false)?;
    let token = format!("stk_{}", util::random_hex(12));
    ok(data(json!({
        "token": token, "url": format!("wss://{id}.stream.miosa.app/?token={token}"),
        "expires_at": util::in_secs(300),
    })))
}

/// The computer's events as log lines, oldest first.
async fn computer_logs(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    let lines = q.int("lines")?.unwrap_or(200).clamp(1, 10_000);
    let since = q.str("since").map(str::to_owned);
    let mut store = app.store();
    let m = store.computer(&id)?;
    let mut out: Vec<String> = m
        .events
        .iter()
        .filter(|e| {
            since.as_deref().is_none_or(|s| {
                e.data
                    .get("at")
                    .and_then(Value::as_str)
                    .is_some_and(|at| at > s)
            })
        })
        .map(|e| {
            let at = e.data.get("at").and_then(Value::as_str).unwrap_or_default();
            format!("{at} {}", e.name)
        })
        .collect();
    let keep = usize::try_from(lines).unwrap_or(usize::MAX);
    out = out.split_off(out.len().saturating_sub(keep));
    ok(data(json!({"lines": out, "since": since})))
}

/// One part of a `multipart/form-data` body.
struct Part {
    name: String,
    filename: Option<String>,
    bytes: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits a multipart body by its boundary (RFC 7578); enough for the
/// forms clients send: a header block, a blank line, the content.
fn parse_multipart(headers: &HeaderMap, body: &[u8]) -> ApiResult<Vec<Part>> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = ctype
        .strip_prefix("multipart/form-data")
        .and_then(|rest| {
            rest.split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
        })
        .map(|b| b.trim_matches('"').to_owned())
        .ok_or_else(|| {
            ApiError::validation(
                "file",
                "must be sent as multipart/form-data with a boundary",
            )
        })?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let mut rest = body;
    let start = find(rest, &delimiter)
        .ok_or_else(|| ApiError::validation("file", "the form has no parts"))?;
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let head_end = find(rest, b"\r\n\r\n")
            .ok_or_else(|| ApiError::validation("file", "a form part has no header end"))?;
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        rest = &rest[head_end + 4..];
        let mut end_marker = b"\r\n".to_vec();
        end_marker.extend_from_slice(&delimiter);
        let end = find(rest, &end_marker)
            .ok_or_else(|| ApiError::validation("file", "a form part is not terminated"))?;
        let content = rest[..end].to_vec();
        rest = &rest[end + end_marker.len()..];
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or_default();
        let attr = |key: &str| {
            disposition.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix(key)
                    .and_then(|v| v.strip_prefix('='))
                    .map(|v| v.trim_matches('"').to_owned())
            })
        };
        let Some(name) = attr("name") else {
            return Err(ApiError::validation("file", "a form part has no name"));
        };
        parts.push(Part {
            name,
            filename: attr("filename"),
            bytes: content,
        });
    }
    Ok(parts)
}

/// `POST /computers/{id}/files/upload`: multipart `file` and `path`
/// (`create_dirs` optional); the file lands under the computer's directory.
async fn upload(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Resp {
    let parts = parse_multipart(&headers, &body)?;
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.bytes).into_owned())
    };
    if app.config.strict
        && let Some(unknown) = parts
            .iter()
            .find(|p| !["file", "path", "create_dirs"].contains(&p.name.as_str()))
    {
        return Err(ApiError::validation(
            &unknown.name,
            "is not a field of this upload (strict mode)",
        ));
    }
    let file = parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or_else(|| ApiError::validation("file", "is required"))?;
    let path = text("path").ok_or_else(|| ApiError::validation("path", "is required"))?;
    let create_dirs = match text("create_dirs").as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(ApiError::validation("create_dirs", "must be true or false")),
    };
    let (dir, _) = running(&app, &id, false)?;
    let target = fsutil::resolve(&dir, &path)?;
    let bytes = file.bytes.clone();
    let size = bytes.len();
    let shown = fsutil::display(&dir, &target);
    fsutil::blocking(move || {
        if let Some(parent) = target.parent() {
            if create_dirs {
                std::fs::create_dir_all(parent)?;
            } else if !parent.is_dir() {
                return Err(ApiError::validation("path", "its directory does not exist"));
            }
        }
        std::fs::write(&target, &bytes)?;
        Ok(())
    })
    .await?;
    if let Ok(m) = app.store().computer(&id) {
        m.note("file.uploaded", json!({"path": shown, "size": size}));
    }
    ok(data(json!({"ok": true, "path": shown, "size_bytes": size})))
}

async fn export(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let path = body.str_req("path")?;
    let (dir, _) = running(&app, &id, false)?;
    let target = fsutil::resolve(&dir, &path)?;
    let shown = fsutil::display(&dir, &target);
    if !target.exists() {
        return Err(ApiError::not_found("File"));
    }
    let token = util::random_hex(12);
    ok(data(json!({
        "url": format!("{}/computers/{id}/files/download?path={shown}&token={token}", app.base_url),
        "expires_at": util::in_secs(900), "path": shown,
    })))
}

/// Whether an event type matches a glob list such as `sandbox.*,webhook.delivered`.
fn matches(types: &[String], name: &str) -> bool {
    types.is_empty()
        || types.iter().any(|t| {
            t == "*" || t == name || t.strip_suffix('*').is_some_and(|p| name.starts_with(p))
        })
}

/// Every machine's events past the cursors, oldest first per machine.
fn new_events(
    app: &App,
    seen: &mut std::collections::HashMap<String, u64>,
) -> Vec<(String, Value)> {
    let store = app.store();
    let mut out = Vec::new();
    for m in &store.machines {
        let last = seen.entry(m.id.clone()).or_insert(0);
        let from = *last;
        for e in m.events.iter().filter(|e| e.seq > from) {
            out.push((e.name.clone(), e.data.clone()));
            *last = e.seq;
        }
    }
    out
}

/// Tails the events of every machine of the tenant; the first event,
/// `stream.opened`, says the stream is live (history is not replayed).
async fn tail_events(
    app: App,
    ctx: Ctx,
    types: Vec<String>,
    opening: (&'static str, Value),
) -> Resp {
    let mut seen = std::collections::HashMap::new();
    new_events(&app, &mut seen);
    let (mut tx, resp) = sse::open(Some(&ctx));
    tokio::spawn(async move {
        let mut seq: u64 = 1;
        if !tx
            .event(
                Some(opening.0),
                Some(&seq.to_string()),
                &opening.1.to_string(),
            )
            .await
        {
            return;
        }
        let mut idle = 0u32;
        loop {
            for (name, body) in new_events(&app, &mut seen) {
                if !matches(&types, &name) {
                    continue;
                }
                seq += 1;
                if !tx
                    .event(Some(&name), Some(&seq.to_string()), &body.to_string())
                    .await
                {
                    return;
                }
            }
            idle += 1;
            if idle.is_multiple_of(100) && !tx.comment("keepalive").await {
                return;
            }
            if !app.sleep(Duration::from_millis(50)).await {
                return;
            }
        }
    });
    Ok(resp)
}

async fn tenant_events(State(app): State<App>, Extension(ctx): Extension<Ctx>, q: Q) -> Resp {
    let types: Vec<String> = q
        .str("types")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let opening = json!({"types": types, "at": util::now()});
    tail_events(app, ctx, types, ("stream.opened", opening)).await
}

async fn fleet_events(State(app): State<App>, Extension(ctx): Extension<Ctx>) -> Resp {
    let snapshot = {
        let store = app.store();
        let count = |kind: Kind| {
            store
                .machines
                .iter()
                .filter(|m| m.kind == kind && m.phase == Phase::Running)
                .count()
        };
        json!({
            "running_sandboxes": count(Kind::Sandbox), "running_computers": count(Kind::Computer),
            "sessions": store.sessions.values().count(), "at": util::now(),
        })
    };
    tail_events(app, ctx, Vec::new(), ("fleet.snapshot", snapshot)).await
}

/// Copies a checkpoint's files back into the computer, reporting progress.
async fn checkpoint_restore_stream(
    State(app): State<App>,
    Path((id, sid)): Path<(String, String)>,
    Extension(ctx): Extension<Ctx>,
) -> Resp {
    let (snap_dir, dest) = {
        let mut store = app.store();
        let snap = store.snapshot(&sid)?;
        if snap.owner != id {
            return Err(ApiError::not_found("Snapshot"));
        }
        let snap_dir = snap.dir.clone();
        (snap_dir, store.computer(&id)?.dir.clone())
    };
    let (mut tx, resp) = sse::open(Some(&ctx));
    tokio::spawn(async move {
        let ids = json!({"computer_id": id, "snapshot_id": sid});
        for (name, percent) in [("restore.started", 0), ("restore.progress", 50)] {
            let mut body = ids.clone();
            body["percent"] = json!(percent);
            if !tx.event(Some(name), None, &body.to_string()).await {
                return;
            }
        }
        let copied =
            fsutil::blocking(move || fsutil::copy_dir(&snap_dir, &dest).map_err(ApiError::from))
                .await;
        let (name, mut body) = match copied {
            Ok(()) => ("restore.completed", ids.clone()),
            Err(e) => ("restore.failed", json!({"error": e.message()})),
        };
        body["percent"] = json!(100);
        if let Ok(m) = app.store().computer(&id) {
            m.note("checkpoint.restored", ids);
        }
        tx.event(Some(name), None, &body.to_string()).await;
    });
    Ok(resp)
}

fn version_of(app: &App, id: &str, vid: &str) -> ApiResult<Map<String, Value>> {
    let store = app.store();
    store.deployments.req(id, "Deployment")?;
    store
        .versions
        .get(vid)
        .filter(|v| v.get("deployment_id") == Some(&json!(id)))
        .cloned()
        .ok_or_else(|| ApiError::not_found("Version"))
}

fn version_view(v: &Map<String, Value>, active: Option<&Value>) -> Value {
    let mut view = v.clone();
    view.insert("promoted".into(), json!(active == v.get("id")));
    Value::Object(view)
}

async fn version_get(State(app): State<App>, Path((id, vid)): Path<(String, String)>) -> Resp {
    let v = version_of(&app, &id, &vid)?;
    let active = app
        .store()
        .deployments
        .get(&id)
        .and_then(|d| d.get("active_version_id").cloned());
    ok(data(version_view(&v, active.as_ref())))
}

async fn promote(
    State(app): State<App>,
    Path((id, vid)): Path<(String, String)>,
    body: Body,
) -> Resp {
    let environment = body
        .str_opt("environment")?
        .unwrap_or_else(|| "production".into());
    let mut v = version_of(&app, &id, &vid)?;
    if v.get("status") != Some(&json!("ready")) {
        return Err(ApiError::conflict(
            "VERSION_NOT_READY",
            "Only a ready version can be promoted",
        ));
    }
    v.insert("environment".into(), json!(environment));
    let mut store = app.store();
    store.versions.insert(vid.clone(), v.clone());
    let d = store.deployments.req_mut(&id, "Deployment")?;
    d.insert("active_version_id".into(), json!(vid));
    d.insert("updated_at".into(), json!(util::now()));
    ok(data(version_view(&v, Some(&json!(vid)))))
}

/// The builds of a deployment: one per version, ready as its version is.
fn builds_of(app: &App, id: &str) -> ApiResult<Vec<Value>> {
    let store = app.store();
    store.deployments.req(id, "Deployment")?;
    let mut builds: Vec<Value> = store
        .versions
        .values()
        .filter(|v| v.get("deployment_id") == Some(&json!(id)))
        .map(|v| {
            let vid = v.get("id").and_then(Value::as_str).unwrap_or_default();
            let status = v.get("status").cloned().unwrap_or(json!("ready"));
            json!({
                "id": format!("bld_{vid}"), "deployment_id": id, "version_id": vid, "status": status,
                "logs": ["install", "build", "done"], "created_at": v.get("created_at"),
                "finished_at": v.get("created_at"),
            })
        })
        .collect();
    builds.reverse();
    Ok(builds)
}

async fn deploy_builds(State(app): State<App>, Path(id): Path<String>) -> Resp {
    ok(data(Value::Array(builds_of(&app, &id)?)))
}

async fn deploy_build_get(State(app): State<App>, Path((id, bid)): Path<(String, String)>) -> Resp {
    builds_of(&app, &id)?
        .into_iter()
        .find(|b| b["id"] == json!(bid))
        .map_or_else(|| Err(ApiError::not_found("Build")), |b| ok(data(b)))
}

async fn domain_add(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let domain = body.str_req("domain")?.to_ascii_lowercase();
    let valid = domain.contains('.')
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !valid {
        return Err(ApiError::validation("domain", "must be a domain name"));
    }
    let policy = body
        .str_opt("redirect_policy")?
        .unwrap_or_else(|| "none".into());
    if !["none", "www_to_apex", "apex_to_www"].contains(&policy.as_str()) {
        return Err(ApiError::validation(
            "redirect_policy",
            "must be none, www_to_apex or apex_to_www",
        ));
    }
    for k in [
        "external_workspace_id",
        "external_user_id",
        "external_project_id",
    ] {
        body.str_opt(k)?;
    }
    let mut store = app.store();
    let slug = store
        .deployments
        .req(&id, "Deployment")?
        .get("slug")
        .and_then(Value::as_str)
        .unwrap_or(&id)
        .to_owned();
    if store
        .domains
        .values()
        .any(|d| d.get("domain") == Some(&json!(domain)))
    {
        return Err(ApiError::conflict(
            "DOMAIN_TAKEN",
            "The domain is already attached",
        ));
    }
    let did = util::new_id("dom");
    let rec = util::obj(json!({
        "id": did, "deployment_id": id, "domain": domain, "status": "pending", "redirect_policy": policy,
        "dns_records": [{"type": "CNAME", "name": domain, "value": format!("{slug}.miosa.app")}],
        "verified_at": null, "created_at": util::now(),
    }));
    store.domains.insert(did, rec.clone());
    created(data(Value::Object(rec)))
}

/// Verification succeeds except for domains under `.invalid` (RFC 2606), which never resolve.
async fn domain_verify(State(app): State<App>, Path((id, did)): Path<(String, String)>) -> Resp {
    let mut store = app.store();
    store.deployments.req(&id, "Deployment")?;
    let d = store
        .domains
        .get_mut(&did)
        .filter(|d| d.get("deployment_id") == Some(&json!(id)))
        .ok_or_else(|| ApiError::not_found("Domain"))?;
    let resolves = !d
        .get("domain")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .ends_with(".invalid");
    if resolves {
        d.insert("status".into(), json!("verified"));
        d.insert("verified_at".into(), json!(util::now()));
    } else {
        d.insert("status".into(), json!("failed"));
    }
    ok(data(Value::Object(d.clone())))
}

async fn database_start(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let db = store.databases.req_mut(&id, "Database")?;
    db.insert("status".into(), json!("running"));
    db.insert("updated_at".into(), json!(util::now()));
    ok(data(Value::Object(db.clone())))
}

async fn database_logs(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    let lines = q.int("lines")?.unwrap_or(100).clamp(1, 10_000);
    let since = q.str("since").map(str::to_owned);
    let store = app.store();
    let db = store.databases.req(&id, "Database")?;
    let at = |k: &str| {
        db.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let engine = at("engine");
    let all = [
        format!(
            "{} database system is starting up ({engine})",
            at("created_at")
        ),
        format!(
            "{} database system is ready to accept connections",
            at("created_at")
        ),
        format!("{} status: {}", at("updated_at"), at("status")),
    ];
    let keep = usize::try_from(lines).unwrap_or(usize::MAX);
    let out: Vec<&String> = all
        .iter()
        .filter(|l| since.as_deref().is_none_or(|s| l.as_str() > s))
        .collect();
    let out: Vec<&String> = out[out.len().saturating_sub(keep)..].to_vec();
    ok(data(json!({"lines": out, "since": since})))
}

/// Credits from the tenant's debits: compute from machine use, AI from tokens.
async fn credit_usage(State(app): State<App>, q: Q) -> Resp {
    let from = q.str("from").map(str::to_owned);
    let to = q.str("to").map(str::to_owned);
    let period = q.str("period").map(str::to_owned);
    if let Some(p) = &period
        && !["current_month", "previous_month", "current_day"].contains(&p.as_str())
    {
        return Err(ApiError::validation(
            "period",
            "must be current_month, previous_month or current_day",
        ));
    }
    let store = app.store();
    #[allow(clippy::cast_precision_loss)]
    let compute: f64 = store
        .machines
        .iter()
        .map(|m| m.runtime.as_secs_f64() / 3600.0)
        .sum::<f64>()
        + store.exec_count as f64 * 0.01;
    #[allow(clippy::cast_precision_loss)]
    let ai = store.ai_tokens as f64 / 1000.0;
    ok(data(json!({
        "period_start": from.unwrap_or_else(util::now), "period_end": to.unwrap_or_else(util::now),
        "period": period, "compute_credits": compute, "ai_credits": ai, "total_credits": compute + ai,
    })))
}

async fn admin_snapshots(State(app): State<App>, q: Q) -> Resp {
    let computer = q.str("computer_id").map(str::to_owned);
    let status = q.str("status").map(str::to_owned);
    let store = app.store();
    let items: Vec<Value> = store
        .snapshots
        .iter()
        .filter(|s| computer.as_deref().is_none_or(|c| s.owner == c))
        .filter(|s| {
            status
                .as_deref()
                .is_none_or(|st| s.rec.get("status") == Some(&json!(st)))
        })
        .map(|s| Value::Object(s.rec.clone()))
        .collect();
    let (items, _) = page(items, &q, "id")?;
    ok(json!({ "snapshots": items }))
}
