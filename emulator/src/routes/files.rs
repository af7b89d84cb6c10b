//! Files of sandboxes and computers, all confined to the machine directory.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use super::{Resp, ok, running};
use crate::errors::{ApiError, ApiResult};
use crate::fsutil;
use crate::json::{Body, Q};
use crate::pipeline::Ctx;
use crate::sse;
use crate::state::App;
use crate::util::data;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/sandboxes/{id}/fs/write", post(write))
        .route("/sandboxes/{id}/fs/download", get(download))
        .route("/sandboxes/{id}/fs", delete(remove))
        .route("/sandboxes/{id}/fs/mkdir", post(mkdir))
        .route("/sandboxes/{id}/fs/rename", post(rename))
        .route("/sandboxes/{id}/fs/stat", post(stat))
        .route("/sandboxes/{id}/fs/write-many", post(write_many))
        .route("/sandboxes/{id}/files", get(list).post(legacy_write))
        .route("/sandboxes/{id}/files/tree", get(tree))
        .route("/sandboxes/{id}/files/write-many", post(write_many))
        .route("/sandboxes/{id}/files/stat", post(stat))
        .route("/sandboxes/{id}/files/watch", get(watch))
        .route("/sandboxes/{id}/files/{*path}", get(legacy_download))
        .route(
            "/computers/{id}/files",
            get(computer_list).delete(computer_remove),
        )
        .route("/computers/{id}/files/list", get(computer_list))
        .route("/computers/{id}/files/download", get(computer_download))
        .route("/computers/{id}/files/write", post(computer_write))
        .route("/computers/{id}/files/mkdir", post(computer_mkdir))
        .route("/computers/{id}/files/rename", post(computer_rename))
}

/// Directory of a running machine and the host path for an API path.
async fn locate(
    app: &App,
    id: &str,
    path: &str,
    sandbox_only: bool,
) -> ApiResult<(std::path::PathBuf, std::path::PathBuf)> {
    let (dir, _) = running(app, id, sandbox_only)?;
    let p = fsutil::resolve(&dir, path)?;
    Ok((dir, p))
}

/// Content from `content_base64` (decoded) or `content` (stored verbatim).
fn content(body: &Body, base64_only: bool) -> ApiResult<Vec<u8>> {
    if let Some(b) = body.str_opt("content_base64")? {
        return B64
            .decode(b.trim())
            .map_err(|_| ApiError::validation("content_base64", "is not valid base64"));
    }
    match body.str_opt("content")? {
        Some(c) if base64_only => B64
            .decode(c.trim())
            .map_err(|_| ApiError::validation("content", "is not valid base64")),
        Some(c) => Ok(c.into_bytes()),
        None => Err(ApiError::validation("content_base64", "is required")),
    }
}

async fn write_file(
    app: &App,
    id: &str,
    path: &str,
    bytes: Vec<u8>,
    sandbox_only: bool,
) -> ApiResult<Value> {
    let (dir, p) = locate(app, id, path, sandbox_only).await?;
    if p == dir {
        return Err(ApiError::validation("path", "must name a file"));
    }
    let size = bytes.len();
    let (root, target) = (dir.clone(), p.clone());
    fsutil::blocking(move || fsutil::write_file(&root, &target, &bytes)).await?;
    let shown = fsutil::display(&dir, &p);
    if let Ok(m) = app.store().computer(id) {
        m.note("file.written", json!({"path": shown, "size_bytes": size}));
    }
    Ok(json!({"path": shown, "size_bytes": size, "size": size}))
}

async fn write(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let path = body.str_req("path")?;
    let bytes = content(&body, false)?;
    ok(data(write_file(&app, &id, &path, bytes, true).await?))
}

/// Legacy `POST /sandboxes/{id}/files {path, content}` where content is base64.
async fn legacy_write(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let path = body.str_req("path")?;
    let bytes = content(&body, true)?;
    ok(data(write_file(&app, &id, &path, bytes, true).await?))
}

async fn computer_write(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let path = body.str_req("path")?;
    let bytes = content(&body, false)?;
    ok(write_file(&app, &id, &path, bytes, false).await?)
}

async fn read_file(app: &App, id: &str, path: &str, sandbox_only: bool) -> ApiResult<Response> {
    let (dir, p) = locate(app, id, path, sandbox_only).await?;
    let file = fsutil::blocking(move || fsutil::open_file(&dir, &p)).await?;
    let length = file.metadata()?.len();
    // Streamed from disk in chunks: a large file is never held whole.
    let chunks =
        futures_util::stream::unfold(Some(tokio::fs::File::from_std(file)), |file| async move {
            let mut file = file?;
            let mut buf = vec![0u8; 64 * 1024];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        });
    let mut resp = axum::body::Body::from_stream(chunks).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Ok(resp)
}

fn query_path(q: &Q) -> ApiResult<String> {
    q.str("path")
        .map(str::to_owned)
        .ok_or_else(|| ApiError::validation("path", "is required"))
}

async fn download(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    read_file(&app, &id, &query_path(&q)?, true).await
}

/// Legacy `GET /sandboxes/{id}/files/<path>`: the glob carries the path
/// without its leading slash.
async fn legacy_download(State(app): State<App>, Path((id, path)): Path<(String, String)>) -> Resp {
    let path = if path == "workspace" || path.starts_with("workspace/") {
        format!("/{path}")
    } else {
        path
    };
    read_file(&app, &id, &path, true).await
}

async fn computer_download(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    read_file(&app, &id, &query_path(&q)?, false).await
}

async fn remove_path(
    app: &App,
    id: &str,
    path: &str,
    recursive: bool,
    sandbox_only: bool,
) -> ApiResult<Value> {
    let (dir, p) = locate(app, id, path, sandbox_only).await?;
    if p == dir {
        return Err(ApiError::forbidden(
            "PATH_OUTSIDE_WORKSPACE",
            "cannot delete the workspace root",
        ));
    }
    let (root, target) = (dir.clone(), p.clone());
    fsutil::blocking(move || fsutil::remove(&root, &target, recursive)).await?;
    let shown = fsutil::display(&dir, &p);
    if let Ok(m) = app.store().computer(id) {
        m.note("file.deleted", json!({"path": shown}));
    }
    Ok(json!({"ok": true, "path": shown, "deleted": true}))
}

/// DELETE takes `{path, recursive}` from the body or the query.
fn delete_args(q: &Q, body: &Body) -> ApiResult<(String, bool)> {
    let path = match body.str_opt("path")? {
        Some(p) => p,
        None => query_path(q)?,
    };
    let recursive = match body.bool_opt("recursive")? {
        Some(r) => r,
        None => q.bool("recursive")?.unwrap_or(false),
    };
    Ok((path, recursive))
}

async fn remove(State(app): State<App>, Path(id): Path<String>, q: Q, body: Body) -> Resp {
    let (path, recursive) = delete_args(&q, &body)?;
    ok(remove_path(&app, &id, &path, recursive, true).await?)
}

async fn computer_remove(State(app): State<App>, Path(id): Path<String>, q: Q, body: Body) -> Resp {
    let (path, recursive) = delete_args(&q, &body)?;
    ok(remove_path(&app, &id, &path, recursive, false).await?)
}

async fn make_dir(app: &App, id: &str, body: &Body, sandbox_only: bool) -> ApiResult<Value> {
    let path = body.str_req("path")?;
    let recursive = body.bool_opt("recursive")?.unwrap_or(true);
    let (dir, p) = locate(app, id, &path, sandbox_only).await?;
    let (root, target) = (dir.clone(), p.clone());
    fsutil::blocking(move || fsutil::create_dir(&root, &target, recursive)).await?;
    Ok(json!({"ok": true, "path": fsutil::display(&dir, &p)}))
}

async fn mkdir(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    ok(make_dir(&app, &id, &body, true).await?)
}

async fn computer_mkdir(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    ok(make_dir(&app, &id, &body, false).await?)
}

async fn move_path(app: &App, id: &str, body: &Body, sandbox_only: bool) -> ApiResult<Value> {
    let from = body
        .str_any(&["from", "source", "old_path"])?
        .ok_or_else(|| ApiError::validation("from", "is required"))?;
    let to = body
        .str_any(&["to", "destination", "new_path"])?
        .ok_or_else(|| ApiError::validation("to", "is required"))?;
    let (dir, src) = locate(app, id, &from, sandbox_only).await?;
    let dst = fsutil::resolve(&dir, &to)?;
    if src == dir || dst == dir {
        return Err(ApiError::validation(
            "from",
            "cannot move the workspace root",
        ));
    }
    let (root, s, d) = (dir.clone(), src.clone(), dst.clone());
    fsutil::blocking(move || fsutil::rename(&root, &s, &d)).await?;
    let (from, to) = (fsutil::display(&dir, &src), fsutil::display(&dir, &dst));
    if let Ok(m) = app.store().computer(id) {
        m.note("file.renamed", json!({"from": from, "to": to}));
    }
    Ok(json!({"ok": true, "from": from, "to": to}))
}

async fn rename(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    ok(move_path(&app, &id, &body, true).await?)
}

async fn computer_rename(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    ok(move_path(&app, &id, &body, false).await?)
}

async fn stat(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let path = body.str_req("path")?;
    let (dir, p) = locate(&app, &id, &path, true).await?;
    let view = fsutil::blocking(move || {
        let meta = fsutil::metadata(&dir, &p)?;
        Ok(json!({
            "path": fsutil::display(&dir, &p), "exists": true,
            "type": if meta.is_dir() { "dir" } else { "file" }, "is_dir": meta.is_dir(),
            "size": meta.len(), "modified_at": meta.modified().ok().map(crate::util::rfc3339),
        }))
    })
    .await?;
    ok(data(view))
}

async fn write_many(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let files = body
        .arr_opt("files")?
        .ok_or_else(|| ApiError::validation("files", "is required"))?;
    let mut written = Vec::new();
    let mut failed = Vec::new();
    for (i, f) in files.into_iter().enumerate() {
        let Value::Object(m) = f else {
            return Err(ApiError::validation(
                &format!("files[{i}]"),
                "must be an object",
            ));
        };
        let item = body.child(m);
        let path = item.str_req("path")?;
        let bytes = content(&item, false)?;
        match write_file(&app, &id, &path, bytes, true).await {
            Ok(v) => written.push(json!({"path": v["path"], "size_bytes": v["size_bytes"]})),
            Err(e) if e.status().is_client_error() && e.status().as_u16() != 404 => {
                failed.push(json!({"path": path, "error": e.message(), "code": e.code()}));
            }
            Err(e) => return Err(e),
        }
    }
    ok(data(json!({"written": written, "failed": failed})))
}

fn depth(q: &Q, default: i64) -> ApiResult<u32> {
    let d = q.int("depth")?.unwrap_or(default);
    if !(0..=64).contains(&d) {
        return Err(ApiError::validation("depth", "must be between 0 and 64"));
    }
    Ok(u32::try_from(d).unwrap_or(0))
}

async fn list_files(app: &App, id: &str, q: &Q, sandbox_only: bool) -> Resp {
    let path = q.str("path").unwrap_or("/workspace").to_owned();
    let depth = depth(q, 1)?;
    let (dir, p) = locate(app, id, &path, sandbox_only).await?;
    let items = fsutil::blocking(move || fsutil::list(&dir, &p, depth.max(1))).await?;
    ok(data(Value::Array(items)))
}

async fn list(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    list_files(&app, &id, &q, true).await
}

async fn computer_list(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    list_files(&app, &id, &q, false).await
}

async fn tree(State(app): State<App>, Path(id): Path<String>, q: Q) -> Resp {
    let path = q.str("path").unwrap_or("/workspace").to_owned();
    let depth = depth(&q, 3)?;
    let (dir, p) = locate(&app, &id, &path, true).await?;
    let node = fsutil::blocking(move || fsutil::tree(&dir, &p, depth)).await?;
    ok(data(node))
}

/// Polls the directory and streams real changes:
/// `data: {"event": created|modified|deleted, "path", "is_dir"}`.
async fn watch(
    State(app): State<App>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
    q: Q,
) -> Resp {
    let path = q.str("path").unwrap_or("/workspace").to_owned();
    let recursive = q.bool("recursive")?.unwrap_or(true);
    let (root, dir) = locate(&app, &id, &path, true).await?;
    let scan = move |d: std::path::PathBuf| async move {
        tokio::task::spawn_blocking(move || fsutil::scan(&d, recursive, 20_000))
            .await
            .unwrap_or_default()
    };
    // The first scan is taken before the answer's head goes out, so every
    // change made once the client holds the response is reported.
    let mut before = scan(dir.clone()).await;
    let (mut tx, resp) = sse::open(Some(&ctx));
    tokio::spawn(async move {
        let mut seq = 0u64;
        let mut last_beat = Instant::now();
        if !tx.comment("watching").await {
            return;
        }
        loop {
            if !app.sleep(Duration::from_millis(100)).await || tx.closed() {
                return;
            }
            if app.store().sandbox(&id).is_err() {
                return;
            }
            let after = scan(dir.clone()).await;
            let mut changes = Vec::new();
            for (p, (is_dir, size, mtime)) in &after {
                match before.get(p) {
                    None => changes.push(("created", p, *is_dir)),
                    Some((_, s, t)) if !is_dir && (s != size || t != mtime) => {
                        changes.push(("modified", p, *is_dir));
                    }
                    Some(_) => {}
                }
            }
            for (p, (is_dir, _, _)) in &before {
                if !after.contains_key(p) {
                    changes.push(("deleted", p, *is_dir));
                }
            }
            for (event, p, is_dir) in changes {
                seq += 1;
                let body = json!({"event": event, "type": event, "path": fsutil::display(&root, p), "is_dir": is_dir});
                if !tx
                    .event(None, Some(&seq.to_string()), &body.to_string())
                    .await
                {
                    return;
                }
            }
            before = after;
            if last_beat.elapsed() >= app.config.heartbeat {
                last_beat = Instant::now();
                if !tx.comment("heartbeat").await {
                    return;
                }
            }
        }
    });
    Ok(resp)
}
