//! Workspaces with members and invites, organisation invites, and the admin
//! tenant routes.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::{Resp, created, ok, paged};
use crate::errors::{ApiError, ApiResult};
use crate::json::{Body, Q};
use crate::state::{App, Kind, Phase, Store, TENANT_ID};
use crate::util::{self, data};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/workspaces", get(list).post(create))
        .route("/workspaces/{id}", get(show).patch(update).delete(destroy))
        .route("/workspaces/{id}/stats", get(stats))
        .route("/workspaces/{id}/usage", get(usage))
        .route("/workspaces/{id}/computers", get(computers))
        .route("/workspaces/{id}/members", get(members).post(member_add))
        .route(
            "/workspaces/{id}/members/{user}",
            get(member_get).patch(member_update).delete(member_remove),
        )
        .route(
            "/workspaces/{id}/invites",
            post(invite_create).get(invite_list),
        )
        .route(
            "/workspaces/{id}/invites/{iid}",
            get(invite_get).delete(invite_cancel),
        )
        .route("/workspace-invites/{token}", get(invite_preview))
        .route("/workspace-invites/{token}/accept", post(invite_accept))
        .route("/tenants/{tid}/invites", post(org_create).get(org_list))
        .route(
            "/tenants/{tid}/invites/{iid}",
            axum::routing::delete(org_cancel),
        )
        .route("/invites/{token}", get(org_preview))
        .route("/invites/{token}/accept", post(org_accept))
        .route("/admin/tenants", get(tenants))
        .route("/admin/tenants/{tid}", get(tenant_detail))
        .route("/admin/tenants/{tid}/detail", get(tenant_detail))
        .route("/admin/tenants/{tid}/suspend", post(suspend))
        .route("/admin/tenants/{tid}/unsuspend", post(unsuspend))
}

const ROLES: [&str; 4] = ["owner", "admin", "member", "viewer"];

fn role(body: &Body, default: &str) -> ApiResult<String> {
    let r = body.str_opt("role")?.unwrap_or_else(|| default.to_owned());
    if ROLES.contains(&r.as_str()) {
        Ok(r)
    } else {
        Err(ApiError::validation(
            "role",
            "must be owner, admin, member or viewer",
        ))
    }
}

fn email(body: &Body) -> ApiResult<String> {
    let e = body.str_req("email")?;
    let valid = e
        .split_once('@')
        .is_some_and(|(u, d)| !u.is_empty() && d.contains('.'))
        && !e.contains(' ');
    if valid {
        Ok(e.to_ascii_lowercase())
    } else {
        Err(ApiError::validation(
            "email",
            "is not a valid email address",
        ))
    }
}

async fn list(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    let items: Vec<Value> = store
        .workspaces
        .values()
        .map(|w| Value::Object(w.clone()))
        .collect();
    super::numbered(items, &q, 50)
}

async fn create(State(app): State<App>, body: Body) -> Resp {
    let name = body.str_req("name")?;
    let id = util::new_id("ws");
    let now = util::now();
    let rec = util::obj(json!({
        "id": id, "name": name, "tenant_id": TENANT_ID, "description": body.str_opt("description")?,
        "metadata": body.obj_opt("metadata")?.unwrap_or_default(), "created_at": now, "updated_at": now,
    }));
    let mut store = app.store();
    store.workspaces.insert(id.clone(), rec.clone());
    let owner = member_rec(
        &id,
        "usr_emulator",
        "owner@emulator.test",
        "Emulator Owner",
        "owner",
        None,
    );
    store.members.insert(format!("{id}/usr_emulator"), owner);
    store.count("workspace");
    created(Value::Object(rec))
}

async fn show(State(app): State<App>, Path(id): Path<String>) -> Resp {
    ok(Value::Object(
        app.store().workspaces.req(&id, "Workspace")?.clone(),
    ))
}

async fn update(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let name = body.str_opt("name")?;
    if name.as_deref() == Some("") {
        return Err(ApiError::validation("name", "can't be blank"));
    }
    let description = body.get("description").cloned();
    if description.as_ref().is_some_and(|d| !d.is_string()) {
        return Err(ApiError::validation("description", "must be a string"));
    }
    let metadata = body.obj_opt("metadata")?;
    let mut store = app.store();
    let rec = store.workspaces.req_mut(&id, "Workspace")?;
    if let Some(n) = name {
        rec.insert("name".into(), json!(n));
    }
    if let Some(d) = description {
        rec.insert("description".into(), d);
    }
    if let Some(m) = metadata {
        rec.insert("metadata".into(), Value::Object(m));
    }
    rec.insert("updated_at".into(), json!(util::now()));
    ok(Value::Object(rec.clone()))
}

fn running_in(store: &Store, ws: &str) -> usize {
    store
        .machines
        .iter()
        .filter(|m| m.phase == Phase::Running && m.attrs.get("workspace_id") == Some(&json!(ws)))
        .count()
}

async fn destroy(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    if running_in(&store, &id) > 0 {
        return Err(ApiError::conflict(
            "WORKSPACE_NOT_EMPTY",
            "workspace still has running computers",
        ));
    }
    store.workspaces.remove(&id);
    let prefix = format!("{id}/");
    let keys: Vec<String> = store
        .members
        .values()
        .filter(|m| m.get("workspace_id") == Some(&json!(id)))
        .filter_map(|m| {
            m.get("user_id")
                .and_then(Value::as_str)
                .map(|u| format!("{prefix}{u}"))
        })
        .collect();
    for k in keys {
        store.members.remove(&k);
    }
    ok(json!({"ok": true, "deleted": true, "id": id}))
}

async fn stats(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    let of = |kind: Kind| {
        store
            .machines
            .iter()
            .filter(|m| {
                m.kind == kind
                    && m.phase != Phase::Destroyed
                    && m.attrs.get("workspace_id") == Some(&json!(id))
            })
            .count()
    };
    let members = store
        .members
        .values()
        .filter(|m| m.get("workspace_id") == Some(&json!(id)))
        .count();
    ok(data(json!({
        "workspace_id": id, "computers": of(Kind::Computer), "sandboxes": of(Kind::Sandbox),
        "running": running_in(&store, &id), "members": members,
    })))
}

async fn usage(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    let store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    let secs: u64 = store
        .machines
        .iter()
        .filter(|m| m.attrs.get("workspace_id") == Some(&json!(id)))
        .map(|m| m.total_runtime().as_secs())
        .sum();
    let now = util::now();
    ok(data(json!({
        "workspace_id": id, "period": q.str("period").unwrap_or("month-to-date"),
        "period_start": q.str("start").map_or_else(|| format!("{}-01T00:00:00Z", &now[..7]), str::to_owned),
        "period_end": q.str("end").map_or(now.clone(), str::to_owned),
        "compute_seconds": secs, "credit_cents": secs / 36,
    })))
}

async fn computers(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    let items: Vec<Value> = store
        .machines
        .iter()
        .filter(|m| {
            m.kind == Kind::Computer
                && m.phase != Phase::Destroyed
                && m.attrs.get("workspace_id") == Some(&json!(id))
        })
        .map(|m| m.computer_view())
        .collect();
    ok(data(Value::Array(items)))
}

pub fn member_rec(
    ws: &str,
    user: &str,
    email: &str,
    name: &str,
    role: &str,
    added_by: Option<&str>,
) -> Map<String, Value> {
    util::obj(json!({
        "user_id": user, "workspace_id": ws, "email": email, "name": name, "avatar_url": null,
        "role": role, "joined_at": util::now(), "added_by": added_by,
    }))
}

fn ws_members(store: &Store, ws: &str) -> Vec<Value> {
    store
        .members
        .values()
        .filter(|m| m.get("workspace_id") == Some(&json!(ws)))
        .map(|m| Value::Object(m.clone()))
        .collect()
}

async fn members(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    let items = ws_members(&store, &id);
    let total = items.len();
    ok(json!({"data": items, "total": total}))
}

async fn member_add(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let user = body.str_req("user_id")?;
    let role = role(&body, "member")?;
    let mut store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    let key = format!("{id}/{user}");
    if store.members.get(&key).is_some() {
        return Err(ApiError::conflict(
            "ALREADY_MEMBER",
            "user is already a member",
        ));
    }
    let rec = member_rec(
        &id,
        &user,
        &format!("{user}@emulator.test"),
        &user,
        &role,
        Some("usr_emulator"),
    );
    store.members.insert(key, rec.clone());
    created(data(Value::Object(rec)))
}

async fn member_get(State(app): State<App>, Path((id, user)): Path<(String, String)>) -> Resp {
    let store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    ok(data(Value::Object(
        store
            .members
            .req(&format!("{id}/{user}"), "Member")?
            .clone(),
    )))
}

fn owners(store: &Store, ws: &str) -> usize {
    store
        .members
        .values()
        .filter(|m| {
            m.get("workspace_id") == Some(&json!(ws)) && m.get("role") == Some(&json!("owner"))
        })
        .count()
}

fn last_owner() -> ApiError {
    ApiError::conflict("LAST_OWNER", "Cannot remove the last workspace owner").nested()
}

async fn member_update(
    State(app): State<App>,
    Path((id, user)): Path<(String, String)>,
    body: Body,
) -> Resp {
    let new_role = body.str_req("role")?;
    if !ROLES.contains(&new_role.as_str()) {
        return Err(ApiError::validation(
            "role",
            "must be owner, admin, member or viewer",
        ));
    }
    let mut store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    let key = format!("{id}/{user}");
    let was_owner = store.members.req(&key, "Member")?.get("role") == Some(&json!("owner"));
    if was_owner && new_role != "owner" && owners(&store, &id) <= 1 {
        return Err(last_owner());
    }
    let rec = store.members.req_mut(&key, "Member")?;
    rec.insert("role".into(), json!(new_role));
    ok(data(Value::Object(rec.clone())))
}

async fn member_remove(State(app): State<App>, Path((id, user)): Path<(String, String)>) -> Resp {
    let mut store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    let key = format!("{id}/{user}");
    let is_owner = store.members.req(&key, "Member")?.get("role") == Some(&json!("owner"));
    if is_owner && owners(&store, &id) <= 1 {
        return Err(last_owner());
    }
    store.members.remove(&key);
    ok(json!({"deleted": true, "user_id": user}))
}

fn invite_public(rec: &Map<String, Value>) -> Value {
    let mut r = rec.clone();
    r.remove("token");
    Value::Object(r)
}

async fn invite_create(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let email = email(&body)?;
    let role = role(&body, "member")?;
    let mut store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    if let Some(member) = store.members.values().find(|m| {
        m.get("workspace_id") == Some(&json!(id)) && m.get("email") == Some(&json!(email))
    }) {
        return created(json!({"data": member.clone(), "type": "added"}));
    }
    let iid = util::new_id("winv");
    let token = format!("wtok_{}", util::random_hex(12));
    let rec = util::obj(json!({
        "id": iid, "workspace_id": id, "tenant_id": TENANT_ID, "email": email, "role": role,
        "invited_by": "usr_emulator", "expires_at": util::in_secs(7 * 86_400), "accepted_at": null,
        "revoked_at": null, "inserted_at": util::now(), "token": token,
        "invite_url": format!("https://app.miosa.ai/workspace-invites/{token}"),
    }));
    store.ws_invites.insert(iid, rec.clone());
    store.count("workspace_invite");
    created(json!({"data": invite_public(&rec), "type": "invited"}))
}

async fn invite_list(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    let items: Vec<Value> = store
        .ws_invites
        .values()
        .filter(|i| {
            i.get("workspace_id") == Some(&json!(id))
                && i.get("revoked_at").is_none_or(Value::is_null)
        })
        .map(invite_public)
        .collect();
    let total = items.len();
    ok(json!({"data": items, "total": total}))
}

async fn invite_get(State(app): State<App>, Path((id, iid)): Path<(String, String)>) -> Resp {
    let store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    let rec = store.ws_invites.req(&iid, "Invite")?;
    if rec.get("workspace_id") != Some(&json!(id)) {
        return Err(ApiError::not_found("Invite"));
    }
    ok(data(invite_public(rec)))
}

async fn invite_cancel(State(app): State<App>, Path((id, iid)): Path<(String, String)>) -> Resp {
    let mut store = app.store();
    store.workspaces.req(&id, "Workspace")?;
    let rec = store.ws_invites.req_mut(&iid, "Invite")?;
    if rec.get("workspace_id") != Some(&json!(id)) {
        return Err(ApiError::not_found("Invite"));
    }
    if rec.get("accepted_at").is_some_and(|v| !v.is_null()) {
        return Err(ApiError::conflict("INVITE_ACCEPTED", "invite was already accepted").nested());
    }
    rec.entry("revoked_at").or_insert(Value::Null);
    if rec.get("revoked_at").is_some_and(Value::is_null) {
        rec.insert("revoked_at".into(), json!(util::now()));
    }
    ok(json!({"invite_id": iid, "revoked": true}))
}

fn by_token<'a>(invites: &'a crate::state::Records, token: &str) -> Option<&'a Map<String, Value>> {
    invites
        .values()
        .find(|i| i.get("token") == Some(&json!(token)))
}

fn flag(rec: &Map<String, Value>, key: &str) -> bool {
    rec.get(key).is_some_and(|v| !v.is_null())
}

async fn invite_preview(State(app): State<App>, Path(token): Path<String>) -> Resp {
    let store = app.store();
    let rec = by_token(&store.ws_invites, &token).ok_or_else(|| ApiError::not_found("Invite"))?;
    let ws_name = rec
        .get("workspace_id")
        .and_then(Value::as_str)
        .and_then(|w| store.workspaces.get(w))
        .and_then(|w| w.get("name").cloned())
        .unwrap_or(Value::Null);
    let tenant_name = store.tenant.get("name").cloned().unwrap_or(Value::Null);
    ok(data(json!({
        "workspace_name": ws_name, "tenant_name": tenant_name, "role": rec.get("role"),
        "email": rec.get("email"), "expires_at": rec.get("expires_at"), "expired": false,
        "revoked": flag(rec, "revoked_at"), "accepted": flag(rec, "accepted_at"),
    })))
}

async fn invite_accept(State(app): State<App>, Path(token): Path<String>) -> Resp {
    let mut store = app.store();
    let rec = by_token(&store.ws_invites, &token)
        .ok_or_else(|| ApiError::not_found("Invite"))?
        .clone();
    if flag(&rec, "revoked_at") {
        return Err(ApiError::conflict("INVITE_REVOKED", "invite was revoked").nested());
    }
    if flag(&rec, "accepted_at") {
        return Err(ApiError::conflict("INVITE_ACCEPTED", "invite was already accepted").nested());
    }
    let iid = rec
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let ws = rec
        .get("workspace_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let role = rec
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or("member")
        .to_owned();
    let email = rec
        .get("email")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(i) = store.ws_invites.get_mut(&iid) {
        i.insert("accepted_at".into(), json!(util::now()));
    }
    let user = format!("usr_{}", util::random_hex(6));
    let member = member_rec(
        &ws,
        &user,
        &email,
        &email,
        &role,
        rec.get("invited_by").and_then(Value::as_str),
    );
    store.members.insert(format!("{ws}/{user}"), member);
    ok(
        json!({"accepted": true, "workspace_id": ws, "tenant_id": TENANT_ID, "role": role, "user_id": user}),
    )
}

fn check_tenant(tid: &str) -> ApiResult<()> {
    if tid == TENANT_ID {
        Ok(())
    } else {
        Err(ApiError::not_found("Tenant"))
    }
}

fn org_public(rec: &Map<String, Value>) -> Value {
    let mut r = rec.clone();
    r.remove("token");
    Value::Object(r)
}

async fn org_create(State(app): State<App>, Path(tid): Path<String>, body: Body) -> Resp {
    check_tenant(&tid)?;
    let email = email(&body)?;
    let role = role(&body, "member")?;
    let iid = util::new_id("oinv");
    let token = format!("otok_{}", util::random_hex(12));
    let rec = util::obj(json!({
        "invite_id": iid, "id": iid, "tenant_id": tid, "email": email, "role": role,
        "expires_at": util::in_secs(7 * 86_400), "accepted_at": null, "revoked_at": null,
        "invite_url": format!("https://app.miosa.ai/invites/{token}"), "token": token,
        "created_at": util::now(),
    }));
    let mut store = app.store();
    store.org_invites.insert(iid, rec.clone());
    store.count("org_invite");
    created(data(org_public(&rec)))
}

async fn org_list(State(app): State<App>, Path(tid): Path<String>) -> Resp {
    check_tenant(&tid)?;
    let store = app.store();
    let items: Vec<Value> = store
        .org_invites
        .values()
        .filter(|i| !flag(i, "revoked_at"))
        .map(org_public)
        .collect();
    ok(data(Value::Array(items)))
}

async fn org_cancel(State(app): State<App>, Path((tid, iid)): Path<(String, String)>) -> Resp {
    check_tenant(&tid)?;
    let mut store = app.store();
    let rec = store.org_invites.req_mut(&iid, "Invite")?;
    if flag(rec, "accepted_at") {
        return Err(ApiError::conflict("INVITE_ACCEPTED", "invite was already accepted").nested());
    }
    if !flag(rec, "revoked_at") {
        rec.insert("revoked_at".into(), json!(util::now()));
    }
    ok(json!({"invite_id": iid, "revoked": true}))
}

async fn org_preview(State(app): State<App>, Path(token): Path<String>) -> Resp {
    let store = app.store();
    let rec = by_token(&store.org_invites, &token).ok_or_else(|| ApiError::not_found("Invite"))?;
    ok(data(json!({
        "email": rec.get("email"), "tenant_name": store.tenant.get("name"), "role": rec.get("role"),
        "expires_at": rec.get("expires_at"), "expired": false, "accepted": flag(rec, "accepted_at"),
        "revoked": flag(rec, "revoked_at"),
    })))
}

/// Bad tokens answer 400 here (ex org_invites).
async fn org_accept(State(app): State<App>, Path(token): Path<String>) -> Resp {
    let mut store = app.store();
    let Some(rec) = by_token(&store.org_invites, &token).cloned() else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_TOKEN",
            "invite token is invalid or expired",
        ));
    };
    if flag(&rec, "revoked_at") || flag(&rec, "accepted_at") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_TOKEN",
            "invite was revoked or already used",
        ));
    }
    let iid = rec
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(i) = store.org_invites.get_mut(&iid) {
        i.insert("accepted_at".into(), json!(util::now()));
    }
    ok(
        json!({"accepted": true, "tenant_id": rec.get("tenant_id"), "role": rec.get("role"), "email": rec.get("email")}),
    )
}

async fn tenants(State(app): State<App>, q: Q) -> Resp {
    let store = app.store();
    let needle = q.str("q").map(str::to_ascii_lowercase);
    let items: Vec<Value> = store
        .tenants
        .values()
        .filter(|t| {
            needle.as_ref().is_none_or(|n| {
                t.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| name.to_ascii_lowercase().contains(n))
                    || t.get("id")
                        .and_then(Value::as_str)
                        .is_some_and(|id| id.contains(n.as_str()))
            })
        })
        .map(|t| Value::Object(t.clone()))
        .collect();
    paged(items, &q)
}

async fn tenant_detail(State(app): State<App>, Path(tid): Path<String>) -> Resp {
    let store = app.store();
    let mut t = store.tenants.req(&tid, "Tenant")?.clone();
    if tid == TENANT_ID {
        let live = |k: Kind| {
            store
                .machines
                .iter()
                .filter(|m| m.kind == k && m.phase != Phase::Destroyed)
                .count()
        };
        t.insert(
            "stats".into(),
            json!({
                "sandboxes": live(Kind::Sandbox), "computers": live(Kind::Computer),
                "workspaces": store.workspaces.values().count(), "credits_balance": store.credits,
            }),
        );
    }
    ok(data(Value::Object(t)))
}

fn set_status(app: &App, tid: &str, status: &str, reason: Option<String>) -> Resp {
    let mut store = app.store();
    let t = store.tenants.req_mut(tid, "Tenant")?;
    t.insert("status".into(), json!(status));
    t.insert("suspended_reason".into(), json!(reason));
    t.insert("updated_at".into(), json!(util::now()));
    ok(json!({"ok": true, "data": Value::Object(t.clone())}))
}

async fn suspend(State(app): State<App>, Path(tid): Path<String>, body: Body) -> Resp {
    let reason = body.str_opt("reason")?;
    set_status(&app, &tid, "suspended", reason)
}

async fn unsuspend(State(app): State<App>, Path(tid): Path<String>) -> Resp {
    set_status(&app, &tid, "active", None)
}
