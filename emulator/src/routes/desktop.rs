//! Desktop control: a real PNG screenshot and `{"success": true}` actions
//! that update a small simulated desktop (cursor, typed text, clipboard).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{Resp, ok, running};
use crate::errors::{ApiError, ApiResult};
use crate::json::{Body, Q};
use crate::png;
use crate::state::{App, Kind};

const SCREEN: (i64, i64) = (1280, 800);

pub fn routes() -> Router<App> {
    Router::new()
        .route("/computers/{id}/desktop/screenshot", get(screenshot))
        .route("/computers/{id}/desktop/screenshot/region", get(screenshot))
        .route("/computers/{id}/screenshot", get(screenshot))
        .route("/computers/{id}/desktop/click", post(click))
        .route("/computers/{id}/desktop/right-click", post(right_click))
        .route("/computers/{id}/desktop/double-click", post(click))
        .route("/computers/{id}/desktop/move", post(move_cursor))
        .route("/computers/{id}/desktop/type", post(type_text))
        .route("/computers/{id}/desktop/key", post(key))
        .route("/computers/{id}/desktop/drag", post(drag))
        .route("/computers/{id}/desktop/scroll", post(scroll))
        .route("/computers/{id}/desktop/wait", post(wait))
        .route("/computers/{id}/desktop/launch", post(launch))
        .route("/computers/{id}/desktop/wallpaper", post(wallpaper))
        .route("/computers/{id}/desktop/window/focus", post(focus))
        .route(
            "/computers/{id}/desktop/accessibility-tree",
            get(accessibility_tree),
        )
        .route("/computers/{id}/desktop/windows", get(windows))
        .route("/computers/{id}/desktop/cursor", get(cursor))
        .route("/computers/{id}/desktop/screen-size", get(screen_size))
        .route(
            "/computers/{id}/desktop/clipboard",
            get(clipboard).post(set_clipboard),
        )
}

/// A computer that runs; a sandbox has no desktop, so its id is refused as
/// an unknown computer here.
fn desktop_running(app: &App, id: &str) -> ApiResult<()> {
    if app.store().computer(id)?.kind == Kind::Sandbox {
        return Err(ApiError::not_found("Computer"));
    }
    running(app, id, false).map(|_| ())
}

/// Records a desktop event in the machine's log (event sockets send it on).
fn note(app: &App, id: &str, what: &str, data: Value) {
    if let Ok(m) = app.store().computer(id) {
        m.note(what, data);
    }
}

/// The desktop's state lives in the machine's attributes under `desktop`.
async fn with_desktop<T>(
    app: &App,
    id: &str,
    f: impl FnOnce(&mut serde_json::Map<String, Value>) -> T,
) -> ApiResult<T> {
    desktop_running(app, id)?;
    let mut store = app.store();
    let m = store.computer(id)?;
    let d = m.attrs.entry("desktop").or_insert_with(
        || json!({"cursor": {"x": 0, "y": 0}, "typed": "", "clipboard": "", "apps": []}),
    );
    let Value::Object(desktop) = d else {
        return Err(ApiError::internal("desktop state is corrupt"));
    };
    Ok(f(desktop))
}

fn done(action: &str) -> Resp {
    ok(json!({"success": true, "message": action, "status": "ok"}))
}

fn point(body: &Body, xk: &str, yk: &str) -> ApiResult<(i64, i64)> {
    let x = body.int_req(xk)?;
    let y = body.int_req(yk)?;
    if !(0..=10_000).contains(&x) || !(0..=10_000).contains(&y) {
        return Err(ApiError::validation(
            xk,
            "coordinates must be between 0 and 10000",
        ));
    }
    Ok((x, y))
}

async fn screenshot(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    desktop_running(&app, &id)?;
    // A region's corner, in the canonical 0-1000 space; the picture is one colour.
    for k in ["x", "y"] {
        if q.int(k)?.is_some_and(|v| !(0..=1000).contains(&v)) {
            return Err(ApiError::validation(k, "must be between 0 and 1000"));
        }
    }
    let w = q.int("width")?.unwrap_or(64).clamp(1, 2048);
    let h = q.int("height")?.unwrap_or(48).clamp(1, 2048);
    let bytes = png::solid(
        u32::try_from(w).unwrap_or(64),
        u32::try_from(h).unwrap_or(48),
        [32, 96, 192],
    );
    let mut resp = bytes.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    Ok(resp)
}

async fn click(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let (x, y) = point(&body, "x", "y")?;
    let button = body.str_opt("button")?.unwrap_or_else(|| "left".into());
    if !["left", "right", "middle"].contains(&button.as_str()) {
        return Err(ApiError::validation(
            "button",
            "must be left, right or middle",
        ));
    }
    with_desktop(&app, &id, |d| {
        d.insert("cursor".into(), json!({"x": x, "y": y}))
    })
    .await?;
    done("clicked")
}

async fn right_click(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let (x, y) = point(&body, "x", "y")?;
    with_desktop(&app, &id, |d| {
        d.insert("cursor".into(), json!({"x": x, "y": y}))
    })
    .await?;
    done("right-clicked")
}

async fn move_cursor(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let (x, y) = point(&body, "x", "y")?;
    with_desktop(&app, &id, |d| {
        d.insert("cursor".into(), json!({"x": x, "y": y}))
    })
    .await?;
    done("moved")
}

async fn type_text(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let text = body
        .str_opt("text")?
        .ok_or_else(|| ApiError::validation("text", "is required"))?;
    if body.int_opt("delay")?.is_some_and(|d| d < 0) {
        return Err(ApiError::validation("delay", "must not be negative"));
    }
    with_desktop(&app, &id, |d| {
        let typed = d
            .get("typed")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        d.insert("typed".into(), json!(typed + &text));
    })
    .await?;
    done("typed")
}

async fn key(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let key = body
        .str_any(&["key", "keys"])?
        .ok_or_else(|| ApiError::validation("key", "is required"))?;
    with_desktop(&app, &id, |d| d.insert("last_key".into(), json!(key))).await?;
    done("key pressed")
}

async fn drag(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    point(&body, "from_x", "from_y")?;
    let (x, y) = point(&body, "to_x", "to_y")?;
    with_desktop(&app, &id, |d| {
        d.insert("cursor".into(), json!({"x": x, "y": y}))
    })
    .await?;
    done("dragged")
}

/// Accepts `clicks` (go/py) or `amount` (ex).
async fn scroll(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let direction = body.str_req("direction")?;
    if !["up", "down", "left", "right"].contains(&direction.as_str()) {
        return Err(ApiError::validation(
            "direction",
            "must be up, down, left or right",
        ));
    }
    let clicks = body.int_any(&["clicks", "amount"])?.unwrap_or(3);
    if clicks < 0 {
        return Err(ApiError::validation("clicks", "must not be negative"));
    }
    body.int_opt("x")?;
    body.int_opt("y")?;
    with_desktop(&app, &id, |d| {
        d.insert(
            "last_scroll".into(),
            json!({"direction": direction, "clicks": clicks}),
        )
    })
    .await?;
    done("scrolled")
}

/// Accepts `seconds` (go/py) or `ms` (ex); never sleeps longer than 5 s.
async fn wait(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let secs = match body.num_opt("seconds")? {
        Some(s) => s,
        None => body.num_opt("ms")?.map_or(1.0, |ms| ms / 1000.0),
    };
    if !(0.0..=3600.0).contains(&secs) {
        return Err(ApiError::validation(
            "seconds",
            "must be between 0 and 3600",
        ));
    }
    desktop_running(&app, &id)?;
    app.sleep(std::time::Duration::from_secs_f64(secs.min(5.0)))
        .await;
    done("waited")
}

/// Accepts `app_name` (go/py) or `app` (ex).
async fn launch(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let name = body
        .str_any(&["app_name", "app", "name"])?
        .ok_or_else(|| ApiError::validation("app_name", "is required"))?;
    with_desktop(&app, &id, |d| {
        let mut apps = d
            .get("apps")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        apps.push(json!(name));
        d.insert("apps".into(), Value::Array(apps));
    })
    .await?;
    note(&app, &id, "window.opened", json!({"app": name}));
    done("launched")
}

async fn wallpaper(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let path = body
        .str_any(&["path", "url"])?
        .ok_or_else(|| ApiError::validation("path", "is required"))?;
    if !(path.starts_with('/') || path.starts_with("https://") || path.starts_with("http://")) {
        return Err(ApiError::validation(
            "path",
            "must be an absolute VM path or an http(s) URL",
        ));
    }
    with_desktop(&app, &id, |d| d.insert("wallpaper".into(), json!(path))).await?;
    done("wallpaper set")
}

async fn focus(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let window = match body.get("window_id").or_else(|| body.get("id")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(ApiError::validation("window_id", "is required")),
    };
    with_desktop(&app, &id, |d| d.insert("focused".into(), json!(window))).await?;
    note(
        &app,
        &id,
        "window.focus_changed",
        json!({"window_id": window}),
    );
    done("focused")
}

async fn accessibility_tree(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let apps = with_desktop(&app, &id, |d| d.get("apps").cloned().unwrap_or_default()).await?;
    ok(json!({
        "role": "desktop", "name": "MIOSA Desktop",
        "bounds": {"x": 0, "y": 0, "width": SCREEN.0, "height": SCREEN.1},
        "children": [
            {"role": "panel", "name": "Taskbar", "bounds": {"x": 0, "y": 770, "width": SCREEN.0, "height": 30}, "children": []},
            {"role": "frame", "name": "Terminal", "bounds": {"x": 100, "y": 100, "width": 800, "height": 500},
             "children": [{"role": "text", "name": "terminal output", "children": []}]},
        ],
        "apps": apps,
    }))
}

async fn windows(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let focused = with_desktop(&app, &id, |d| d.get("focused").cloned()).await?;
    ok(json!({"windows": [
        {"id": "1", "title": "Terminal", "app": "xterm", "focused": focused.is_none_or(|f| f == json!("1")),
         "x": 100, "y": 100, "width": 800, "height": 500},
    ]}))
}

async fn cursor(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let c = with_desktop(&app, &id, |d| d.get("cursor").cloned().unwrap_or_default()).await?;
    ok(c)
}

async fn screen_size(State(app): State<App>, Path(id): Path<String>) -> Resp {
    desktop_running(&app, &id)?;
    ok(json!({"width": SCREEN.0, "height": SCREEN.1}))
}

async fn clipboard(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let text = with_desktop(&app, &id, |d| {
        d.get("clipboard").cloned().unwrap_or_default()
    })
    .await?;
    ok(json!({"text": text}))
}

async fn set_clipboard(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let text = body
        .str_opt("text")?
        .ok_or_else(|| ApiError::validation("text", "is required"))?;
    with_desktop(&app, &id, |d| d.insert("clipboard".into(), json!(text))).await?;
    note(
        &app,
        &id,
        "clipboard.changed",
        json!({"length": text.chars().count()}),
    );
    done("clipboard set")
}
