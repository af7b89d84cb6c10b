//! Sandbox templates, deployments, databases, storage buckets and objects,
//! volumes.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::{Resp, ack, created, ok, paged};
use crate::errors::{ApiError, ApiResult};
use crate::json::{Body, Q};
use crate::state::{App, Object, Records, TENANT_ID};
use crate::util::{self, data};

pub fn routes() -> Router<App> {
    Router::new()
        .route(
            "/sandbox-templates",
            get(template_list).post(template_create),
        )
        .route(
            "/sandbox-templates/{tid}",
            get(template_get).delete(template_delete),
        )
        .route("/deployments", post(deployment_create).get(deployment_list))
        .route(
            "/deployments/{id}",
            get(deployment_get)
                .patch(deployment_update)
                .delete(deployment_delete),
        )
        .route("/deployments/{id}/publish", post(deployment_publish))
        .route("/deployments/{id}/rollback", post(deployment_rollback))
        .route("/deployments/{id}/versions", get(version_list))
        .route("/databases", post(database_create).get(database_list))
        .route(
            "/databases/{id}",
            get(database_get)
                .patch(database_update)
                .delete(database_delete),
        )
        .route("/databases/{id}/credentials", get(database_credentials))
        .route("/storage/buckets", post(bucket_create).get(bucket_list))
        .route("/storage/buckets/{bucket}/objects", get(object_list))
        .route(
            "/storage/buckets/{bucket}/objects/{*key}",
            get(object_get).put(object_put).delete(object_delete),
        )
        .route("/storage/buckets/{bucket}/presign", post(presign))
        .route("/volumes", post(volume_create).get(volume_list))
        .route("/volumes/{id}", get(volume_get).delete(volume_delete))
        .route("/volumes/{id}/resize", post(volume_resize))
}

fn values(r: &Records, filter: impl Fn(&Map<String, Value>) -> bool) -> Vec<Value> {
    r.values()
        .filter(|v| filter(v))
        .map(|v| Value::Object(v.clone()))
        .collect()
}

fn matches(q: &Q, rec: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().all(|k| {
        q.str(k)
            .is_none_or(|want| rec.get(*k).and_then(Value::as_str) == Some(want))
    })
}

async fn template_list(State(app): State<App>, q: Q) -> Resp {
    let aliases = q.bool("include_aliases")?.unwrap_or(false);
    let store = app.store();
    let items: Vec<Value> = store
        .templates
        .values()
        .map(|t| {
            let mut t = t.clone();
            if !aliases {
                t.remove("aliases");
            }
            Value::Object(t)
        })
        .collect();
    ok(data(Value::Array(items)))
}

async fn template_get(State(app): State<App>, Path(tid): Path<String>) -> Resp {
    let store = app.store();
    let t = store
        .templates
        .get(&tid)
        .or_else(|| {
            store
                .templates
                .values()
                .find(|t| t.get("name") == Some(&json!(tid)))
        })
        .ok_or_else(|| ApiError::not_found("Template"))?;
    ok(data(Value::Object(t.clone())))
}

async fn template_create(State(app): State<App>, body: Body) -> Resp {
    let name = body.str_req("name")?;
    let spec = body
        .obj_opt("build_spec")?
        .ok_or_else(|| ApiError::validation("build_spec", "is required"))?;
    let mut store = app.store();
    if store
        .templates
        .values()
        .any(|t| t.get("name") == Some(&json!(name)))
    {
        return Err(ApiError::conflict(
            "ALREADY_EXISTS",
            format!("a template named {name} exists"),
        ));
    }
    let id = util::new_id("tpl");
    let now = util::now();
    let rec = util::obj(json!({
        "id": id, "tenant_id": TENANT_ID, "name": name, "description": body.str_opt("description")?,
        "build_spec": spec, "metadata": body.obj_opt("metadata")?.unwrap_or_default(),
        "status": "ready", "aliases": [], "created_at": now, "updated_at": now,
    }));
    store.templates.insert(id, rec.clone());
    store.count("template");
    created(data(Value::Object(rec)))
}

async fn template_delete(State(app): State<App>, Path(tid): Path<String>) -> Resp {
    app.store()
        .templates
        .remove(&tid)
        .ok_or_else(|| ApiError::not_found("Template"))?;
    ack()
}

const DEPLOY_FIELDS: [&str; 10] = [
    "source_type",
    "repo_url",
    "branch",
    "build_command",
    "run_command",
    "external_workspace_id",
    "external_user_id",
    "external_project_id",
    "project_id",
    "description",
];

async fn deployment_create(State(app): State<App>, body: Body) -> Resp {
    let name = body.str_req("name")?;
    let id = util::new_id("dep");
    let now = util::now();
    let slug = name
        .to_ascii_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let mut rec = util::obj(json!({
        "id": id, "tenant_id": TENANT_ID, "name": name, "slug": slug, "state": "pending",
        "active_version_id": null, "public_url": format!("https://{slug}.miosa.app"),
        "auto_deploy": body.bool_opt("auto_deploy")?.unwrap_or(false),
        "metadata": body.obj_opt("metadata")?.unwrap_or_default(), "created_at": now, "updated_at": now,
    }));
    for k in DEPLOY_FIELDS {
        rec.insert(k.into(), json!(body.str_opt(k)?));
    }
    let mut store = app.store();
    store.deployments.insert(id, rec.clone());
    store.count("deployment");
    created(data(Value::Object(rec)))
}

async fn deployment_list(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    let keys = [
        "project_id",
        "state",
        "external_workspace_id",
        "external_user_id",
        "external_project_id",
    ];
    paged(values(&store.deployments, |d| matches(&q, d, &keys)), &q)
}

async fn deployment_get(State(app): State<App>, Path(id): Path<String>) -> Resp {
    ok(data(Value::Object(
        app.store().deployments.req(&id, "Deployment")?.clone(),
    )))
}

async fn deployment_update(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let mut store = app.store();
    let rec = store.deployments.req_mut(&id, "Deployment")?;
    if let Some(n) = body.str_opt("name")? {
        rec.insert("name".into(), json!(n));
    }
    if let Some(a) = body.bool_opt("auto_deploy")? {
        rec.insert("auto_deploy".into(), json!(a));
    }
    if let Some(m) = body.obj_opt("metadata")? {
        rec.insert("metadata".into(), Value::Object(m));
    }
    for k in DEPLOY_FIELDS {
        if let Some(v) = body.str_opt(k)? {
            rec.insert(k.into(), json!(v));
        }
    }
    rec.insert("updated_at".into(), json!(util::now()));
    ok(data(Value::Object(rec.clone())))
}

async fn deployment_delete(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    store
        .deployments
        .remove(&id)
        .ok_or_else(|| ApiError::not_found("Deployment"))?;
    let orphans: Vec<String> = store
        .versions
        .values()
        .filter(|v| v.get("deployment_id") == Some(&json!(id)))
        .filter_map(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    for v in orphans {
        store.versions.remove(&v);
    }
    ack()
}

/// A new ready version from a sandbox, promoted to active.
async fn deployment_publish(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let source = body.str_req("source_sandbox_id")?;
    let kind = body.str_opt("kind")?.unwrap_or_else(|| "auto".into());
    if !["auto", "static", "dynamic"].contains(&kind.as_str()) {
        return Err(ApiError::validation(
            "kind",
            "must be auto, static or dynamic",
        ));
    }
    let environment = body
        .str_opt("environment")?
        .unwrap_or_else(|| "production".into());
    if body
        .int_opt("port")?
        .is_some_and(|p| !(1..=65535).contains(&p))
    {
        return Err(ApiError::validation("port", "must be between 1 and 65535"));
    }
    let services = body.arr_opt("data_services")?.unwrap_or_default();
    let mut store = app.store();
    store.deployments.req(&id, "Deployment")?;
    store.sandbox(&source)?;
    let vid = util::new_id("ver");
    let number = store
        .versions
        .values()
        .filter(|v| v.get("deployment_id") == Some(&json!(id)))
        .count()
        + 1;
    let version = util::obj(json!({
        "id": vid, "deployment_id": id, "number": number, "status": "ready", "kind": kind,
        "environment": environment, "source_sandbox_id": source, "created_at": util::now(),
    }));
    store.versions.insert(vid.clone(), version.clone());
    store.count("deployment_version");
    let dep = store.deployments.req_mut(&id, "Deployment")?;
    dep.insert("active_version_id".into(), json!(vid));
    dep.insert("state".into(), json!("live"));
    dep.insert("updated_at".into(), json!(util::now()));
    ok(data(
        json!({"deployment": dep.clone(), "version": version, "services": services, "promoted": true}),
    ))
}

async fn deployment_rollback(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let target = body.str_opt("version_id")?;
    let mut store = app.store();
    let active = store
        .deployments
        .req(&id, "Deployment")?
        .get("active_version_id")
        .cloned()
        .unwrap_or(Value::Null);
    let versions: Vec<String> = store
        .versions
        .values()
        .filter(|v| {
            v.get("deployment_id") == Some(&json!(id)) && v.get("status") == Some(&json!("ready"))
        })
        .filter_map(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let chosen = match target {
        Some(t) => versions
            .iter()
            .find(|v| **v == t)
            .cloned()
            .ok_or_else(|| ApiError::not_found("Version"))?,
        None => {
            let pos = versions
                .iter()
                .position(|v| json!(v) == active)
                .unwrap_or(versions.len());
            pos.checked_sub(1)
                .and_then(|i| versions.get(i).cloned())
                .ok_or_else(|| {
                    ApiError::conflict(
                        "NO_PREVIOUS_VERSION",
                        "no earlier ready version to roll back to",
                    )
                })?
        }
    };
    let dep = store.deployments.req_mut(&id, "Deployment")?;
    dep.insert("active_version_id".into(), json!(chosen));
    dep.insert("updated_at".into(), json!(util::now()));
    ok(data(Value::Object(dep.clone())))
}

async fn version_list(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    let store = app.store();
    store.deployments.req(&id, "Deployment")?;
    paged(
        values(&store.versions, |v| {
            v.get("deployment_id") == Some(&json!(id))
        }),
        &q,
    )
}

async fn database_create(State(app): State<App>, body: Body) -> Resp {
    let name = body.str_req("name")?;
    let engine = body.str_opt("engine")?.unwrap_or_else(|| "postgres".into());
    if !["postgres", "postgresql", "mysql", "redis"].contains(&engine.as_str()) {
        return Err(ApiError::validation(
            "engine",
            "must be postgres, mysql or redis",
        ));
    }
    let size = body.int_opt("size_gb")?.unwrap_or(1);
    if size < 1 {
        return Err(ApiError::validation("size_gb", "must be at least 1"));
    }
    let id = util::new_id("db");
    let now = util::now();
    let port = if engine == "mysql" {
        3306
    } else if engine == "redis" {
        6379
    } else {
        5432
    };
    let mut rec = util::obj(json!({
        "id": id, "name": name, "tenant_id": TENANT_ID, "engine": engine,
        "version": body.str_opt("version")?.unwrap_or_else(|| "16".into()), "status": "running",
        "host": format!("{id}.db.miosa.internal"), "port": port, "size_gb": size,
        "created_at": now, "updated_at": now,
    }));
    for k in [
        "plan",
        "region",
        "workspace_id",
        "project_id",
        "environment_id",
    ] {
        rec.insert(k.into(), json!(body.str_opt(k)?));
    }
    let mut store = app.store();
    store.databases.insert(id, rec.clone());
    store.count("database");
    created(data(Value::Object(rec)))
}

async fn database_list(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    paged(
        values(&store.databases, |d| matches(&q, d, &["status"])),
        &q,
    )
}

async fn database_get(State(app): State<App>, Path(id): Path<String>) -> Resp {
    ok(data(Value::Object(
        app.store().databases.req(&id, "Database")?.clone(),
    )))
}

async fn database_update(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let size = body.int_opt("size_gb")?;
    if size.is_some_and(|s| s < 1) {
        return Err(ApiError::validation("size_gb", "must be at least 1"));
    }
    let mut store = app.store();
    let rec = store.databases.req_mut(&id, "Database")?;
    for k in ["name", "plan"] {
        if let Some(v) = body.str_opt(k)? {
            rec.insert(k.into(), json!(v));
        }
    }
    if let Some(s) = size {
        rec.insert("size_gb".into(), json!(s));
    }
    rec.insert("updated_at".into(), json!(util::now()));
    ok(data(Value::Object(rec.clone())))
}

async fn database_delete(State(app): State<App>, Path(id): Path<String>) -> Resp {
    app.store()
        .databases
        .remove(&id)
        .ok_or_else(|| ApiError::not_found("Database"))?;
    ack()
}

async fn database_credentials(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let store = app.store();
    let db = store.databases.req(&id, "Database")?;
    let host = db.get("host").cloned().unwrap_or_default();
    let port = db.get("port").cloned().unwrap_or_default();
    let name = db
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("app")
        .replace('-', "_");
    // Deterministic per database, so repeated reads agree.
    let password = format!("pw_{}", &id.replace('_', ""));
    let engine = db
        .get("engine")
        .and_then(Value::as_str)
        .unwrap_or("postgres");
    let scheme = if engine == "mysql" {
        "mysql"
    } else if engine == "redis" {
        "redis"
    } else {
        "postgres"
    };
    let url = format!(
        "{scheme}://miosa:{password}@{}:{}/{name}",
        host.as_str().unwrap_or_default(),
        port
    );
    ok(data(
        json!({"url": url, "host": host, "port": port, "database": name, "username": "miosa", "password": password}),
    ))
}

fn bucket_id(store: &crate::state::Store, key: &str) -> ApiResult<String> {
    if store.buckets.get(key).is_some() {
        return Ok(key.to_owned());
    }
    store
        .buckets
        .values()
        .find(|b| b.get("name") == Some(&json!(key)))
        .and_then(|b| b.get("id").and_then(Value::as_str).map(str::to_owned))
        .ok_or_else(|| ApiError::not_found("Bucket"))
}

async fn bucket_create(State(app): State<App>, body: Body) -> Resp {
    let name = body.str_req("name")?;
    let valid = (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !valid {
        return Err(ApiError::validation(
            "name",
            "must be 3-63 lowercase letters, digits, '-' or '.'",
        ));
    }
    let mut store = app.store();
    if store
        .buckets
        .values()
        .any(|b| b.get("name") == Some(&json!(name)))
    {
        return Err(ApiError::conflict(
            "ALREADY_EXISTS",
            format!("bucket {name} exists"),
        ));
    }
    let id = util::new_id("bkt");
    let now = util::now();
    let rec = util::obj(json!({
        "id": id, "name": name, "tenant_id": TENANT_ID,
        "region": body.str_opt("region")?.unwrap_or_else(|| "us-east-1".into()),
        "public": body.bool_opt("public")?.unwrap_or(false), "created_at": now, "updated_at": now,
    }));
    store.buckets.insert(id, rec.clone());
    store.count("bucket");
    created(data(Value::Object(rec)))
}

async fn bucket_list(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    paged(values(&store.buckets, |_| true), &q)
}

fn valid_key(key: &str) -> ApiResult<()> {
    if key.is_empty() || key.len() > 1024 || key.contains('\0') || key.split('/').any(|s| s == "..")
    {
        return Err(ApiError::validation("key", "is not a valid object key"));
    }
    Ok(())
}

async fn object_put(
    State(app): State<App>,
    Path((bucket, key)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Resp {
    valid_key(&key)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let mut store = app.store();
    let bucket_id = bucket_id(&store, &bucket)?;
    let obj = Object {
        bucket_id: bucket_id.clone(),
        key: key.clone(),
        content_type,
        bytes,
        updated_at: util::now(),
    };
    let view = obj.view();
    store
        .objects
        .retain(|o| !(o.bucket_id == bucket_id && o.key == key));
    store.objects.push(obj);
    store.count("object");
    ok(data(view))
}

async fn object_get(State(app): State<App>, Path((bucket, key)): Path<(String, String)>) -> Resp {
    let store = app.store();
    let bucket_id = bucket_id(&store, &bucket)?;
    let obj = store
        .objects
        .iter()
        .find(|o| o.bucket_id == bucket_id && o.key == key)
        .ok_or_else(|| ApiError::not_found("Object"))?;
    let mut resp = obj.bytes.clone().into_response();
    let ct = HeaderValue::from_str(&obj.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    Ok(resp)
}

async fn object_delete(
    State(app): State<App>,
    Path((bucket, key)): Path<(String, String)>,
) -> Resp {
    let mut store = app.store();
    let bucket_id = bucket_id(&store, &bucket)?;
    let before = store.objects.len();
    store
        .objects
        .retain(|o| !(o.bucket_id == bucket_id && o.key == key));
    if store.objects.len() == before {
        return Err(ApiError::not_found("Object"));
    }
    ack()
}

async fn object_list(State(app): State<App>, Path(bucket): Path<String>, q: Q) -> Resp {
    let store = app.store();
    let bucket_id = bucket_id(&store, &bucket)?;
    let prefix = q.str("prefix").unwrap_or_default();
    let items: Vec<Value> = store
        .objects
        .iter()
        .filter(|o| o.bucket_id == bucket_id && o.key.starts_with(prefix))
        .map(Object::view)
        .collect();
    let (items, next) = super::page(items, &q, "key")?;
    ok(json!({"data": items, "cursor": next, "next_cursor": next}))
}

/// Accepts `{key, method, expires_in}` (py, canonical) or `{key,
/// operation, expires_in_sec}` (ex/go).
async fn presign(State(app): State<App>, Path(bucket): Path<String>, body: Body) -> Resp {
    let key = body.str_req("key")?;
    valid_key(&key)?;
    let method = body
        .str_any(&["method", "operation"])?
        .unwrap_or_else(|| "get".into())
        .to_ascii_uppercase();
    if method != "GET" && method != "PUT" {
        return Err(ApiError::validation("method", "must be get or put"));
    }
    let expires = body
        .int_any(&["expires_in", "expires_in_sec"])?
        .unwrap_or(300);
    if !(1..=604_800).contains(&expires) {
        return Err(ApiError::validation(
            "expires_in_sec",
            "must be between 1 and 604800",
        ));
    }
    let store = app.store();
    let bucket_id = bucket_id(&store, &bucket)?;
    let encoded: String = key.split('/').map(percent).collect::<Vec<_>>().join("/");
    let url = format!(
        "{}/storage/buckets/{bucket_id}/objects/{encoded}?signature={}&expires={expires}",
        app.base_url,
        util::random_hex(16)
    );
    let mut headers = Map::new();
    if method == "PUT" {
        let ct = body
            .str_opt("content_type")?
            .unwrap_or_else(|| "application/octet-stream".into());
        headers.insert("Content-Type".into(), json!(ct));
    }
    ok(data(
        json!({"url": url, "method": method, "headers": headers, "expires_at": util::in_secs(expires.unsigned_abs())}),
    ))
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn volume_create(State(app): State<App>, body: Body) -> Resp {
    let name = body.str_req("name")?;
    let size = body.int_req("size_gb")?;
    if size < 1 {
        return Err(ApiError::validation("size_gb", "must be at least 1"));
    }
    let id = util::new_id("vol");
    let now = util::now();
    let rec = util::obj(json!({
        "id": id, "name": name, "tenant_id": TENANT_ID, "size_gb": size, "status": "available",
        "region": body.str_opt("region")?.unwrap_or_else(|| "us-east-1".into()),
        "created_at": now, "updated_at": now,
    }));
    let mut store = app.store();
    store.volumes.insert(id, rec.clone());
    store.count("volume");
    created(data(Value::Object(rec)))
}

async fn volume_list(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    paged(values(&store.volumes, |v| matches(&q, v, &["status"])), &q)
}

async fn volume_get(State(app): State<App>, Path(id): Path<String>) -> Resp {
    ok(data(Value::Object(
        app.store().volumes.req(&id, "Volume")?.clone(),
    )))
}

async fn volume_resize(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let size = body.int_req("size_gb")?;
    let mut store = app.store();
    let rec = store.volumes.req_mut(&id, "Volume")?;
    let current = rec.get("size_gb").and_then(Value::as_i64).unwrap_or(0);
    if size < current {
        return Err(ApiError::validation("size_gb", "volumes can only grow"));
    }
    rec.insert("size_gb".into(), json!(size));
    rec.insert("updated_at".into(), json!(util::now()));
    ok(data(Value::Object(rec.clone())))
}

async fn volume_delete(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    store.volumes.req(&id, "Volume")?;
    if store
        .attachments
        .values()
        .any(|a| a.get("volume_id") == Some(&json!(id)))
    {
        return Err(ApiError::conflict(
            "VOLUME_IN_USE",
            "volume is attached; detach it first",
        ));
    }
    store.volumes.remove(&id);
    ack()
}
