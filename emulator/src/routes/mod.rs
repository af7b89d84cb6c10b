//! Every route of the API, under `/api/v1`.

mod bulk;
mod computers;
mod control;
mod desktop;
mod exec;
mod extra;
mod files;
mod intelligence;
mod platform;
mod resources;
mod sandbox_extras;
mod sandboxes;
mod sockets;
mod workspaces;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::errors::{ApiError, ApiResult};
use crate::json::{Body, Q};
use crate::pipeline;
use crate::state::{App, Kind, Machine, Phase, Store};

pub type Resp = ApiResult<Response>;

pub fn ok(v: Value) -> Resp {
    Ok((StatusCode::OK, Json(v)).into_response())
}

pub fn created(v: Value) -> Resp {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// The plain acknowledgement of deletes and actions.
pub fn ack() -> Resp {
    ok(json!({"ok": true}))
}

/// Cursor paging over records with an `id`: `limit` plus `cursor` (or
/// `after`); returns the page and the next cursor (None on the last page).
pub fn page(items: Vec<Value>, q: &Q, key: &str) -> ApiResult<(Vec<Value>, Option<String>)> {
    let limit = q.int("limit")?;
    if limit.is_some_and(|l| l < 1) {
        return Err(ApiError::validation("limit", "must be at least 1"));
    }
    let cursor = q.str("cursor").or_else(|| q.str("after"));
    let start = match cursor {
        None => 0,
        Some(c) => items
            .iter()
            .position(|v| v.get(key).and_then(Value::as_str) == Some(c))
            .map(|i| i + 1)
            .ok_or_else(|| ApiError::validation("cursor", "is not a valid cursor"))?,
    };
    let rest: Vec<Value> = items.into_iter().skip(start).collect();
    let Some(limit) = limit.and_then(|l| usize::try_from(l).ok()) else {
        return Ok((rest, None));
    };
    let next = (rest.len() > limit)
        .then(|| {
            rest[limit - 1]
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .flatten();
    Ok((rest.into_iter().take(limit).collect(), next))
}

/// `{"data": page, "next_cursor": ...}` for cursor-paged families.
pub fn paged(items: Vec<Value>, q: &Q) -> Resp {
    let (items, next) = page(items, q, "id")?;
    ok(json!({"data": items, "next_cursor": next}))
}

/// `{"data": page, "meta": {total, page, per_page}}` for page-numbered lists.
pub fn numbered(items: Vec<Value>, q: &Q, default_per_page: i64) -> Resp {
    let per_page = q
        .int("per_page")?
        .or(q.int("limit")?)
        .unwrap_or(default_per_page)
        .max(1);
    let page_no = q.int("page")?.unwrap_or(1).max(1);
    let offset = match q.int("offset")? {
        Some(o) => o.max(0),
        None => (page_no - 1) * per_page,
    };
    let total = items.len();
    let slice: Vec<Value> = items
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .collect();
    let total_pages = total.div_ceil(usize::try_from(per_page).unwrap_or(1));
    ok(
        json!({"data": slice, "meta": {"total": total, "page": page_no, "per_page": per_page, "total_pages": total_pages}}),
    )
}

/// Page numbers when the caller sends `page`/`per_page`/`offset`, else
/// cursor paging; both shapes carry `data`.
pub fn hybrid(items: Vec<Value>, q: &Q) -> Resp {
    if ["page", "per_page", "offset"]
        .iter()
        .any(|k| q.str(k).is_some())
    {
        numbered(items, q, 50)
    } else {
        paged(items, q)
    }
}

/// The directory and environment of a running machine; as MIOSA does, 409
/// `SANDBOX_STARTING`/`COMPUTER_STARTING` (retryable) while it boots and 409
/// `NOT_RUNNING` when it is stopped or paused.
pub fn running(
    app: &App,
    id: &str,
    sandbox_only: bool,
) -> ApiResult<(PathBuf, Vec<(String, String)>)> {
    let mut store = app.store();
    let m = if sandbox_only {
        store.sandbox(id)?
    } else {
        store.computer(id)?
    };
    match m.phase {
        Phase::Running => Ok((m.dir.clone(), m.env_pairs())),
        Phase::Creating | Phase::Starting => {
            let code = if m.kind == Kind::Sandbox {
                "SANDBOX_STARTING"
            } else {
                "COMPUTER_STARTING"
            };
            let left = m.transition_at.map_or(0, |at| {
                at.saturating_duration_since(Instant::now()).as_millis()
            });
            Err(
                ApiError::conflict(code, format!("{} is still starting", m.noun()))
                    .nested()
                    .with("retryable", json!(true))
                    .with("retry_after_ms", json!(left.clamp(50, 1000))),
            )
        }
        _ => Err(ApiError::not_running(m.noun())),
    }
}

/// Holds while a machine boots, until it runs or `limit` passes (`wait` of a
/// create, a start); the caller answers with the state reached.
pub async fn settle(app: &App, id: &str, limit: Duration) -> ApiResult<()> {
    let deadline = Instant::now() + limit;
    loop {
        let phase = app.store().computer(id)?.phase;
        if !matches!(phase, Phase::Creating | Phase::Starting) || Instant::now() >= deadline {
            return Ok(());
        }
        if !app.sleep(Duration::from_millis(10)).await {
            return Err(ApiError::internal("emulator is shutting down"));
        }
    }
}

/// How a create asked its machine to start.
#[derive(Debug, Clone, Copy)]
pub struct Boot {
    pub fail_fast: bool,
    pub auto_start: bool,
}

impl Boot {
    pub fn from_body(body: &Body) -> ApiResult<Self> {
        Ok(Self {
            fail_fast: body.bool_opt("fail_fast")?.unwrap_or(false),
            auto_start: body.bool_opt("auto_start")?.unwrap_or(true),
        })
    }
}

/// For a `fail_fast` create, checked before anything is billed: 503
/// `no_ready_machine` (never retryable) when the warm pool is empty.
pub fn check_warm(store: &Store, fail_fast: bool) -> ApiResult<()> {
    if fail_fast && store.warm_ready == 0 {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_ready_machine",
            "No ready machine in the warm pool; retry without fail_fast to wait for one",
        )
        .with("retryable", json!(false)));
    }
    Ok(())
}

/// Starts a new machine the way its create asked: running at once when it
/// came from the warm pool, left stopped with `auto_start: false`, else
/// booting for the boot delay.
pub fn first_boot(app: &App, m: &mut Machine, from_pool: bool, auto_start: bool) {
    if from_pool {
        m.attrs.insert("boot_path".into(), json!("warm_pool"));
        m.set_running();
    } else if !auto_start {
        m.phase = Phase::Stopped;
    } else if app.config.boot_delay.is_zero() {
        m.set_running();
    } else {
        let ms = u64::try_from(app.config.boot_delay.as_millis()).unwrap_or(u64::MAX);
        m.attrs.insert("boot_ms".into(), json!(ms));
        m.boot(Phase::Creating, app.config.boot_delay);
    }
}

/// In strict mode, a route reached by its non-canonical method answers as an
/// unknown route would.
pub fn canonical_method(body: &Body, canonical: &str) -> ApiResult<()> {
    if body.strict() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("Route not found for this method; send {canonical} (strict mode)"),
        ));
    }
    Ok(())
}

/// How long `wait=true` holds a create at most.
pub const WAIT_DEFAULT_SECS: f64 = 60.0;

pub fn router(app: App) -> Router {
    let api = Router::new()
        .merge(sandboxes::routes())
        .merge(sandbox_extras::routes())
        .merge(files::routes())
        .merge(exec::routes())
        .merge(computers::routes())
        .merge(desktop::routes())
        .merge(platform::routes())
        .merge(resources::routes())
        .merge(workspaces::routes())
        .merge(intelligence::routes())
        .merge(control::routes())
        .merge(bulk::routes())
        .merge(extra::routes())
        .merge(sockets::routes())
        .fallback(|| async { ApiError::not_found("Route") })
        // MIOSA's router answers a known path with an unknown method as an
        // unknown route.
        .method_not_allowed_fallback(|| async { ApiError::not_found("Route") });
    Router::new()
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::not_found("Route") })
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            pipeline::pipeline,
        ))
        .with_state(app)
}

pub use platform::default_branding;
pub use workspaces::member_rec;
