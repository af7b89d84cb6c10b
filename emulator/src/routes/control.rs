//! Test control routes under `/_emulator/` (API key required): recorded
//! requests, reset, credits, stats, fault injection, and a fixed-body ping
//! for benchmarks.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use super::{Resp, ok};
use crate::errors::{ApiError, ApiResult};
use crate::json::{Body, Q};
use crate::pipeline::Fault;
use crate::seed;
use crate::state::{App, Counters, Kind, Phase, lock};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/credits", put(credits).post(credits))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/ping", get(ping))
        .route(
            "/_emulator/faults",
            get(faults).post(add_faults).delete(clear_faults),
        )
}

/// Recorded requests, oldest first; `?limit=N` keeps the newest N,
/// `?method=` and `?path=` (prefix) filter.
async fn requests(State(app): State<App>, q: Q) -> Resp {
    let limit = q.int("limit")?;
    let log = lock(&app.requests);
    let items: Vec<Value> = log
        .entries
        .iter()
        .filter(|e| {
            q.str("method").is_none_or(|m| {
                e["method"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case(m))
            })
        })
        .filter(|e| {
            q.str("path")
                .is_none_or(|p| e["path"].as_str().is_some_and(|x| x.starts_with(p)))
        })
        .cloned()
        .collect();
    let skip = limit
        .and_then(|l| usize::try_from(l).ok())
        .map_or(0, |l| items.len().saturating_sub(l));
    let items: Vec<Value> = items.into_iter().skip(skip).collect();
    ok(Value::Array(items))
}

async fn clear_requests(State(app): State<App>) -> Resp {
    lock(&app.requests).entries.clear();
    ok(json!({"ok": true}))
}

async fn reset(State(app): State<App>) -> Resp {
    seed::reset(&app)
        .await
        .map_err(|e| ApiError::internal(format!("reset failed: {e}")))?;
    app.counters.reset_totals();
    ok(json!({"ok": true}))
}

async fn credits(State(app): State<App>, body: Body) -> Resp {
    let balance = body.int_req("balance")?;
    app.store().credits = balance;
    ok(json!({"balance": balance}))
}

async fn stats(State(app): State<App>) -> Resp {
    let c = &app.counters;
    let store = app.store();
    let live = |k: Kind| {
        store
            .machines
            .iter()
            .filter(|m| m.kind == k && m.phase != Phase::Destroyed)
            .count()
    };
    ok(json!({
        "created": store.created,
        "live": {
            "sandboxes": live(Kind::Sandbox), "computers": live(Kind::Computer),
            "webhooks": store.webhooks.values().count(), "api_keys": store.api_keys.values().count(),
            "workspaces": store.workspaces.values().count(), "snapshots": store.snapshots.len(),
        },
        "exec_count": store.exec_count,
        "credits": store.credits,
        "requests": lock(&app.requests).seq,
        "in_flight": Counters::get(&c.in_flight),
        "abandoned": Counters::get(&c.abandoned),
        "streams": {"open": Counters::get(&c.streams_open), "opened": Counters::get(&c.streams_opened)},
    }))
}

/// The cheapest route: a fixed body, no state touched; the benchmarks' floor.
async fn ping() -> Resp {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let json = HeaderValue::from_static("application/json");
    Ok(([(header::CONTENT_TYPE, json)], r#"{"ok":true}"#).into_response())
}

async fn faults(State(app): State<App>) -> Resp {
    let items: Vec<Value> = lock(&app.faults).iter().map(Fault::view).collect();
    ok(json!({"data": items}))
}

fn parse_fault(base: &str, v: &Value) -> ApiResult<Fault> {
    let Value::Object(m) = v else {
        return Err(ApiError::validation("faults", "must be objects"));
    };
    let b = Body::from_map(m.clone());
    let path = b.str_req("path")?;
    let path = if path.starts_with("/api/v1") || path == "*" {
        path
    } else {
        format!("{base}{path}")
    };
    let status = b
        .int_opt("status")?
        .map(|s| u16::try_from(s).unwrap_or(500));
    if status.is_some_and(|s| !(100..=599).contains(&s)) {
        return Err(ApiError::validation("status", "must be an HTTP status"));
    }
    let retry_after = match b.get("retry_after") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            return Err(ApiError::validation(
                "retry_after",
                "must be seconds or a date",
            ));
        }
    };
    let delay_ms = b.int_opt("delay_ms")?.unwrap_or(0).clamp(0, 600_000);
    let fault = Fault {
        method: b.str_opt("method")?,
        path: if path == "*" {
            "/api/v1/*".into()
        } else {
            path
        },
        times: b.int_opt("times")?.unwrap_or(1).max(1).unsigned_abs(),
        status,
        body: b.get("body").cloned(),
        retry_after,
        delay: Duration::from_millis(delay_ms.unsigned_abs()),
        reset: b.bool_opt("reset")?.unwrap_or(false),
        reset_body: b.bool_opt("reset_body")?.unwrap_or(false),
        truncate: b.bool_opt("truncate")?.unwrap_or(false),
        cut_after_events: b
            .int_opt("cut_after_events")?
            .map(|n| usize::try_from(n.max(0)).unwrap_or(0)),
        stall_after_events: b
            .int_opt("stall_after_events")?
            .map(|n| usize::try_from(n.max(0)).unwrap_or(0)),
    };
    if fault.stall_after_events.is_some() && fault.delay.is_zero() {
        return Err(ApiError::validation(
            "delay_ms",
            "stall_after_events needs delay_ms (how long the stream stays silent)",
        ));
    }
    if fault.status.is_none()
        && !fault.reset
        && !fault.reset_body
        && !fault.truncate
        && fault.delay.is_zero()
        && fault.cut_after_events.is_none()
    {
        return Err(ApiError::validation(
            "status",
            "a fault needs status, reset, reset_body, truncate, delay_ms, cut_after_events or stall_after_events",
        ));
    }
    Ok(fault)
}

/// Adds faults: `{"faults": [...]}` or one fault object.
async fn add_faults(State(app): State<App>, body: Body) -> Resp {
    let list = match body.arr_opt("faults")? {
        Some(l) => l,
        None => vec![Value::Object(body.all())],
    };
    let parsed = list
        .iter()
        .map(|v| parse_fault("/api/v1", v))
        .collect::<ApiResult<Vec<_>>>()?;
    let mut faults = lock(&app.faults);
    faults.extend(parsed);
    let items: Vec<Value> = faults.iter().map(Fault::view).collect();
    ok(json!({"data": items}))
}

async fn clear_faults(State(app): State<App>) -> Resp {
    lock(&app.faults).clear();
    ok(json!({"ok": true}))
}
