//! Tenant plan, preview domain and branding; usage, quotas, audit log,
//! credits, API keys and webhooks.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::{Resp, ack, created, numbered, ok, page, paged};
use crate::errors::{ApiError, ApiResult};
use crate::json::{Body, Q};
use crate::state::{App, Kind, Phase, Store, TENANT_ID};
use crate::util::{self, data};
use crate::webhook;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/tenant/plan", get(plan))
        .route("/tenant", get(plan))
        .route(
            "/tenant/preview-domain",
            get(get_domain).put(set_domain).delete(delete_domain),
        )
        .route("/tenant/preview-domain/verify", post(verify_domain))
        .route(
            "/tenant/branding",
            get(get_branding).put(set_branding).delete(delete_branding),
        )
        .route("/usage", get(usage))
        .route("/usage/summary", get(summary))
        .route("/usage/sessions", get(sessions))
        .route(
            "/quotas/external/{user}",
            get(quota_get).put(quota_set).delete(quota_delete),
        )
        .route("/audit-log", get(audit_log))
        .route("/credits/balance", get(balance))
        .route("/credits/transactions", get(transactions))
        .route("/api-keys", post(key_create).get(key_list))
        .route("/api-keys/{id}", get(key_get).delete(key_revoke))
        .route("/webhooks", post(webhook_create).get(webhook_list))
        .route(
            "/webhooks/{id}",
            get(webhook_get)
                .patch(webhook_update)
                .delete(webhook_delete),
        )
        .route("/webhooks/{id}/test", post(webhook_test))
        .route("/webhooks/{id}/deliveries", get(webhook_deliveries))
}

async fn plan(State(app): State<App>) -> Resp {
    let store = app.store();
    let mut t = store.tenant.clone();
    let sandboxes = store
        .machines
        .iter()
        .filter(|m| m.kind == Kind::Sandbox && m.phase != Phase::Destroyed)
        .count();
    let computers = store
        .machines
        .iter()
        .filter(|m| m.kind == Kind::Computer && m.phase != Phase::Destroyed)
        .count();
    t.insert(
        "usage".into(),
        json!({"sandboxes": sandboxes, "computers": computers, "credits_balance": store.credits}),
    );
    ok(Value::Object(t))
}

async fn get_domain(State(app): State<App>) -> Resp {
    ok(Value::Object(app.store().preview_domain.clone()))
}

fn valid_domain(d: &str) -> bool {
    d.contains('.')
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Accepts `preview_domain` (py, canonical) or `domain` (ex/go).
async fn set_domain(State(app): State<App>, body: Body) -> Resp {
    let domain = body
        .str_any(&["preview_domain", "domain"])?
        .ok_or_else(|| ApiError::validation("preview_domain", "is required"))?
        .to_ascii_lowercase();
    if !valid_domain(&domain) {
        return Err(ApiError::validation("domain", "is not a valid host name"));
    }
    let mut store = app.store();
    store.preview_domain = util::obj(json!({
        "domain": domain, "preview_domain": domain, "verified_at": null, "cname_target": "proxy.miosa.app",
    }));
    ok(Value::Object(store.preview_domain.clone()))
}

async fn verify_domain(State(app): State<App>) -> Resp {
    let mut store = app.store();
    let Some(domain) = store
        .preview_domain
        .get("domain")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Err(ApiError::not_found("Preview domain"));
    };
    store
        .preview_domain
        .insert("verified_at".into(), json!(util::now()));
    ok(json!({
        "verified": true, "domain": domain, "target": "proxy.miosa.app",
        "records": [{"type": "CNAME", "name": format!("*.{domain}"), "value": "proxy.miosa.app", "verified": true}],
    }))
}

async fn delete_domain(State(app): State<App>) -> Resp {
    app.store().preview_domain = util::obj(
        json!({"domain": null, "preview_domain": null, "verified_at": null, "cname_target": "proxy.miosa.app"}),
    );
    ack()
}

pub fn default_branding() -> Map<String, Value> {
    util::obj(json!({
        "product_name": "MIOSA", "app_name": "MIOSA", "logo_url": null, "favicon_url": null,
        "support_url": null, "support_email": null, "primary_color": "#2563eb",
        "background_color": "#ffffff", "custom_css": null, "updated_at": null,
    }))
}

async fn get_branding(State(app): State<App>) -> Resp {
    ok(Value::Object(app.store().branding.clone()))
}

/// Accepts the fields wrapped in `branding` (py, canonical) or flat (ex/go).
async fn set_branding(State(app): State<App>, body: Body) -> Resp {
    const KEYS: [&str; 9] = [
        "product_name",
        "app_name",
        "logo_url",
        "favicon_url",
        "support_url",
        "support_email",
        "primary_color",
        "background_color",
        "custom_css",
    ];
    let wrapped = body.obj_opt("branding")?;
    if body.strict() {
        if wrapped.is_none()
            && let Some(k) = KEYS.iter().find(|k| body.has(k))
        {
            return Err(ApiError::validation(
                k,
                "belongs inside branding (strict mode)",
            ));
        }
        if let Some(k) = wrapped
            .iter()
            .flat_map(Map::keys)
            .find(|k| !KEYS.contains(&k.as_str()))
        {
            return Err(ApiError::validation(
                &format!("branding.{k}"),
                "is not a branding field (strict mode)",
            ));
        }
    }
    let fields = match wrapped {
        Some(m) => body.child(m),
        None => body,
    };
    let mut values = Map::new();
    for k in KEYS {
        if !fields.has(k) {
            continue;
        }
        let v = fields.get(k).cloned().unwrap_or(Value::Null);
        if !(v.is_string() || v.is_null()) {
            return Err(ApiError::validation(k, "must be a string"));
        }
        values.insert(k.to_owned(), v);
    }
    for k in ["primary_color", "background_color"] {
        if let Some(c) = values.get(k).and_then(Value::as_str)
            && !(c.starts_with('#')
                && (c.len() == 4 || c.len() == 7)
                && c[1..].chars().all(|ch| ch.is_ascii_hexdigit()))
        {
            return Err(ApiError::validation(k, "must be a hex colour like #1a2b3c"));
        }
    }
    let mut store = app.store();
    store.branding.extend(values);
    store
        .branding
        .insert("updated_at".into(), json!(util::now()));
    ok(Value::Object(store.branding.clone()))
}

async fn delete_branding(State(app): State<App>) -> Resp {
    app.store().branding = default_branding();
    ack()
}

fn period(q: &Q) -> (String, String) {
    let start = q
        .str("period_start")
        .or(q.str("start"))
        .or(q.str("since"))
        .map(str::to_owned);
    let end = q
        .str("period_end")
        .or(q.str("end"))
        .or(q.str("until"))
        .map(str::to_owned);
    let now = util::now();
    (
        start.unwrap_or_else(|| format!("{}-01T00:00:00Z", &now[..7])),
        end.unwrap_or(now),
    )
}

fn machine_seconds(store: &Store, kind: Kind, filter: impl Fn(&Map<String, Value>) -> bool) -> u64 {
    store
        .machines
        .iter()
        .filter(|m| m.kind == kind && filter(&m.attrs))
        .map(|m| m.total_runtime().as_secs())
        .sum()
}

/// Usage grouped by `external_user_id` (default), `external_project_id` or
/// `workspace_id`, from the machines actually created.
async fn usage(State(app): State<App>, q: Q) -> Resp {
    let group = q.str("group_by").unwrap_or("external_user_id").to_owned();
    if !["external_user_id", "external_project_id", "workspace_id"].contains(&group.as_str()) {
        return Err(ApiError::validation(
            "group_by",
            "must be external_user_id, external_project_id or workspace_id",
        ));
    }
    if let Some(p) = q.str("period")
        && !["7d", "30d", "month-to-date"].contains(&p)
    {
        return Err(ApiError::validation(
            "period",
            "must be 7d, 30d or month-to-date",
        ));
    }
    let (start, end) = period(&q);
    let store = app.store();
    let mut keys: Vec<String> = Vec::new();
    for m in &store.machines {
        if let Some(k) = m.attrs.get(&group).and_then(Value::as_str)
            && !keys.iter().any(|x| x == k)
        {
            keys.push(k.to_owned());
        }
    }
    if let Some(only) = q.str("external_user_id") {
        keys.retain(|k| k == only);
    }
    let results: Vec<Value> = keys
        .iter()
        .map(|k| {
            let is = |a: &Map<String, Value>| a.get(&group).and_then(Value::as_str) == Some(k);
            let sandbox = machine_seconds(&store, Kind::Sandbox, is);
            let computer = machine_seconds(&store, Kind::Computer, is);
            json!({
                group.clone(): k, "sandbox_seconds": sandbox, "computer_seconds": computer,
                "storage_gb_hours": 0.0, "credit_cents": (sandbox + computer) / 36 + 1,
            })
        })
        .collect();
    ok(json!({"period_start": start, "period_end": end, "group_by": group, "results": results}))
}

/// `GET /usage/summary` (current period, or `period_start`/`period_end`).
async fn summary(State(app): State<App>, q: Q) -> Resp {
    let (start, end) = period(&q);
    let store = app.store();
    let secs: u64 = store
        .machines
        .iter()
        .map(|m| m.total_runtime().as_secs())
        .sum();
    let spent: i64 = store
        .transactions
        .iter()
        .filter_map(|t| t.get("amount").and_then(Value::as_i64))
        .filter(|a| *a < 0)
        .map(i64::abs)
        .sum();
    ok(json!({
        "period_start": start, "period_end": end,
        "compute_hours": (secs as f64 / 3600.0 * 1000.0).round() / 1000.0,
        "storage_gb": 0.0, "bandwidth_gb": 0.0, "ai_tokens": store.ai_tokens,
        "total_credits": spent, "sandboxes_created": store.created.get("sandbox").copied().unwrap_or(0),
        "computers_created": store.created.get("computer").copied().unwrap_or(0),
        "exec_count": store.exec_count,
    }))
}

async fn sessions(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    let items: Vec<Value> = store
        .machines
        .iter()
        .filter(|m| q.str("computer_id").is_none_or(|c| c == m.id))
        .filter(|m| m.started_at.is_some())
        .map(|m| {
            let secs = m.total_runtime().as_secs();
            json!({
                "id": format!("ses_{}", m.id), "computer_id": m.id, "started_at": m.started_at,
                "ended_at": if m.run_since.is_some() { Value::Null } else { json!(m.updated_at) },
                "duration_sec": secs, "credit_cost": secs / 36 + 1,
            })
        })
        .collect();
    super::hybrid(items, &q)
}

fn quota_view(store: &Store, user: &str, q: &Map<String, Value>) -> Value {
    let mut out = q.clone();
    out.insert("external_user_id".into(), json!(user));
    out.insert(
        "current_sandboxes".into(),
        json!(super::sandboxes::live_sandboxes_of(store, user)),
    );
    Value::Object(out)
}

async fn quota_get(State(app): State<App>, Path(user): Path<String>) -> Resp {
    let store = app.store();
    let q = store.quotas.req(&user, "Quota")?;
    ok(data(quota_view(&store, &user, q)))
}

async fn quota_set(State(app): State<App>, Path(user): Path<String>, body: Body) -> Resp {
    const KEYS: [&str; 4] = [
        "max_sandboxes",
        "max_concurrent",
        "max_storage_gb",
        "max_credit_cents",
    ];
    let mut patch = Map::new();
    for k in KEYS {
        if let Some(v) = body.int_opt(k)? {
            if v < 0 {
                return Err(ApiError::validation(k, "must not be negative"));
            }
            patch.insert(k.into(), json!(v));
        }
    }
    if patch.is_empty() {
        return Err(ApiError::validation(
            "max_sandboxes",
            "at least one limit is required",
        ));
    }
    let mut store = app.store();
    let mut rec = store.quotas.get(&user).cloned().unwrap_or_else(|| {
        util::obj(json!({"max_sandboxes": null, "max_concurrent": null, "max_storage_gb": null, "max_credit_cents": null}))
    });
    util::merge(&mut rec, &patch);
    rec.insert("updated_at".into(), json!(util::now()));
    store.quotas.insert(user.clone(), rec.clone());
    ok(data(quota_view(&store, &user, &rec)))
}

async fn quota_delete(State(app): State<App>, Path(user): Path<String>) -> Resp {
    app.store()
        .quotas
        .remove(&user)
        .ok_or_else(|| ApiError::not_found("Quota"))?;
    ack()
}

/// Newest first; `limit` + `after` cursor pages (`{items, next_cursor}`), or
/// `page`/`per_page` (`{data, meta}`) as Go sends.
async fn audit_log(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    let want = |k: &str, e: &Value, field: &str| {
        q.str(k)
            .is_none_or(|v| e.get(field).and_then(Value::as_str) == Some(v))
    };
    let items: Vec<Value> = store
        .audit
        .iter()
        .rev()
        .filter(|e| {
            want("type", e, "action")
                && want("action", e, "action")
                && want("actor_id", e, "actor_id")
                && want("resource_type", e, "resource")
                && want("resource", e, "resource")
                && want("resource_id", e, "resource_id")
        })
        .cloned()
        .collect();
    if q.str("page").is_some() || q.str("per_page").is_some() {
        return numbered(items, &q, 50);
    }
    let (items, next) = page(items, &q, "id")?;
    ok(json!({"items": items, "next_cursor": next}))
}

async fn balance(State(app): State<App>) -> Resp {
    let store = app.store();
    ok(json!({"balance": store.credits, "currency": "credits", "expires_at": null}))
}

async fn transactions(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    if let Some(t) = q.str("type")
        && !["debit", "credit", "promo"].contains(&t)
    {
        return Err(ApiError::validation(
            "type",
            "must be debit, credit or promo",
        ));
    }
    let items: Vec<Value> = store
        .transactions
        .iter()
        .rev()
        .filter(|t| {
            q.str("type")
                .is_none_or(|want| t.get("type").and_then(Value::as_str) == Some(want))
        })
        .cloned()
        .collect();
    numbered(items, &q, 50)
}

fn key_public(rec: &Map<String, Value>) -> Value {
    let mut r = rec.clone();
    r.remove("token");
    Value::Object(r)
}

async fn key_create(State(app): State<App>, body: Body) -> Resp {
    let name = body.str_req("name")?;
    let scopes = body.str_list_opt("scopes")?.unwrap_or_default();
    let expires_at = body.str_opt("expires_at")?;
    let metadata = body.obj_opt("metadata")?.unwrap_or_default();
    let id = util::new_id("key");
    let token = format!("msk_u_{}", util::random_hex(16));
    let rec = util::obj(json!({
        "id": id, "tenant_id": TENANT_ID, "name": name, "prefix": &token[..10], "scopes": scopes,
        "expires_at": expires_at, "metadata": metadata, "last_used_at": null, "revoked_at": null,
        "created_at": util::now(),
    }));
    let mut store = app.store();
    store.api_keys.insert(id.clone(), rec.clone());
    store.api_key_tokens.insert(token.clone(), id);
    store.count("api_key");
    let mut out = rec;
    out.insert("token".into(), json!(token));
    out.insert("key".into(), json!(token));
    created(data(Value::Object(out)))
}

async fn key_list(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    let items: Vec<Value> = store
        .api_keys
        .values()
        .filter(|k| k.get("revoked_at").is_none_or(Value::is_null))
        .map(key_public)
        .collect();
    paged(items, &q)
}

async fn key_get(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let store = app.store();
    ok(data(key_public(store.api_keys.req(&id, "API key")?)))
}

async fn key_revoke(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let rec = store.api_keys.req_mut(&id, "API key")?;
    if rec.get("revoked_at").is_some_and(|v| !v.is_null()) {
        return Err(ApiError::not_found("API key"));
    }
    rec.insert("revoked_at".into(), json!(util::now()));
    ok(json!({"ok": true, "id": id, "revoked": true}))
}

fn webhook_fields(body: &Body, rec: &mut Map<String, Value>, creating: bool) -> ApiResult<()> {
    let url = if creating {
        Some(body.str_req("url")?)
    } else {
        body.str_opt("url")?
    };
    if let Some(u) = url {
        if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() < 10 {
            return Err(ApiError::validation("url", "must be an http(s) URL"));
        }
        rec.insert("url".into(), json!(u));
    }
    let events = body.str_list_opt("events")?;
    if creating && events.as_ref().is_none_or(Vec::is_empty) {
        return Err(ApiError::validation(
            "events",
            "must list at least one event",
        ));
    }
    if let Some(e) = events {
        rec.insert("events".into(), json!(e));
    }
    let active = match body.bool_opt("active")? {
        Some(a) => Some(a),
        None => body.bool_opt("enabled")?,
    };
    if let Some(a) = active {
        rec.insert("active".into(), json!(a));
        rec.insert("enabled".into(), json!(a));
    }
    if let Some(m) = body.obj_opt("metadata")? {
        rec.insert("metadata".into(), Value::Object(m));
    }
    body.str_opt("secret")?;
    rec.insert("updated_at".into(), json!(util::now()));
    Ok(())
}

async fn webhook_create(State(app): State<App>, body: Body) -> Resp {
    let id = util::new_id("wh");
    let mut rec = util::obj(
        json!({"id": id, "tenant_id": TENANT_ID, "active": true, "enabled": true, "metadata": {}, "created_at": util::now()}),
    );
    webhook_fields(&body, &mut rec, true)?;
    let secret = body
        .str_opt("secret")?
        .unwrap_or_else(|| format!("whsec_{}", util::random_hex(16)));
    let mut store = app.store();
    store.webhooks.insert(id.clone(), rec.clone());
    store.webhook_secrets.insert(id, secret.clone());
    store.count("webhook");
    created(json!({"data": rec, "secret": secret}))
}

async fn webhook_list(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    let active = q.bool("active")?;
    let items: Vec<Value> = store
        .webhooks
        .values()
        .filter(|w| active.is_none_or(|a| w.get("active") == Some(&json!(a))))
        .map(|w| Value::Object(w.clone()))
        .collect();
    paged(items, &q)
}

async fn webhook_get(State(app): State<App>, Path(id): Path<String>) -> Resp {
    ok(data(Value::Object(
        app.store().webhooks.req(&id, "Webhook")?.clone(),
    )))
}

async fn webhook_update(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let secret = body.str_opt("secret")?;
    let mut store = app.store();
    let rec = store.webhooks.req_mut(&id, "Webhook")?;
    webhook_fields(&body, rec, false)?;
    let out = rec.clone();
    if let Some(s) = secret {
        store.webhook_secrets.insert(id, s);
    }
    ok(data(Value::Object(out)))
}

async fn webhook_delete(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    store
        .webhooks
        .remove(&id)
        .ok_or_else(|| ApiError::not_found("Webhook"))?;
    store.webhook_secrets.remove(&id);
    ack()
}

async fn webhook_test(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let (url, secret) = {
        let store = app.store();
        let rec = store.webhooks.req(&id, "Webhook")?;
        let url = rec
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        (
            url,
            store.webhook_secrets.get(&id).cloned().unwrap_or_default(),
        )
    };
    let delivery = webhook::deliver(
        &id,
        &url,
        &secret,
        "webhook.test",
        json!({"webhook_id": id, "test": true}),
    )
    .await;
    app.store().deliveries.push(delivery.clone());
    ok(data(delivery))
}

async fn webhook_deliveries(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    let store = app.store();
    store.webhooks.req(&id, "Webhook")?;
    let items: Vec<Value> = store
        .deliveries
        .iter()
        .rev()
        .filter(|d| d.get("webhook_id") == Some(&json!(id)))
        .cloned()
        .collect();
    paged(items, &q)
}

/// Delivers an event to every active webhook subscribed to it (in the
/// background; deliveries are recorded).
pub fn emit(app: &App, event_type: &str, payload: Value) {
    let targets: Vec<(String, String, String)> = {
        let store = app.store();
        store
            .webhooks
            .values()
            .filter(|w| w.get("active") != Some(&json!(false)))
            .filter(|w| {
                w.get("events").and_then(Value::as_array).is_some_and(|e| {
                    e.iter().any(|x| {
                        x.as_str().is_some_and(|s| {
                            s == event_type
                                || s == "*"
                                || s.strip_suffix(".*")
                                    .is_some_and(|p| event_type.starts_with(p))
                        })
                    })
                })
            })
            .filter_map(|w| {
                let id = w.get("id")?.as_str()?.to_owned();
                let url = w.get("url")?.as_str()?.to_owned();
                let secret = store.webhook_secrets.get(&id).cloned().unwrap_or_default();
                Some((id, url, secret))
            })
            .collect()
    };
    for (id, url, secret) in targets {
        let app = app.clone();
        let event_type = event_type.to_owned();
        let payload = payload.clone();
        tokio::spawn(async move {
            let d = webhook::deliver(&id, &url, &secret, &event_type, payload).await;
            app.store().deliveries.push(d);
        });
    }
}
