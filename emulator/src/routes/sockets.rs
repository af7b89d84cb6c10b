//! WebSockets (PROTOCOL §13): the sandbox terminal on a real pseudo-terminal,
//! interactive exec over the canonical JSON frames, and a computer's live
//! events: files, processes, windows, clipboard, and the end of the machine.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::running;
use crate::errors::{ApiError, ApiResult};
use crate::exec::{self, Lang};
use crate::json::Q;
use crate::pty::Pty;
use crate::state::App;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/sandboxes/{id}/terminal/stream", get(terminal))
        .route("/computers/{id}/exec/stream", get(exec_stream))
        .route("/computers/{id}/events", get(events))
}

/// The terminal size a query asks for (`cols`, `rows`), within sane bounds.
fn size(q: &Q, cols_default: u16, rows_default: u16) -> ApiResult<(u16, u16)> {
    let one = |key: &str, default: u16| -> ApiResult<u16> {
        match q.int(key)? {
            None => Ok(default),
            Some(n) => u16::try_from(n)
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| ApiError::validation(key, "must be between 1 and 1000")),
        }
    };
    Ok((one("cols", cols_default)?, one("rows", rows_default)?))
}

/// `{"type":"resize","cols","rows"}`, if that is what the frame says.
fn resize_request(text: &str) -> Option<(u16, u16)> {
    let v: Value = serde_json::from_str(text).ok()?;
    if v.get("type")?.as_str()? != "resize" {
        return None;
    }
    let cols = u16::try_from(v.get("cols")?.as_u64()?).ok()?;
    let rows = u16::try_from(v.get("rows")?.as_u64()?).ok()?;
    (cols > 0 && rows > 0).then_some((cols, rows))
}

async fn terminal(
    State(app): State<App>,
    Path(id): Path<String>,
    q: Q,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    let (dir, env) = running(&app, &id, true)?;
    let (cols, rows) = size(&q, 80, 24)?;
    let shell = q.str("shell").unwrap_or("/bin/sh").to_owned();
    if !shell.starts_with('/') || !FsPath::new(&shell).is_file() {
        return Err(ApiError::validation(
            "shell",
            "must be the absolute path of an installed shell",
        ));
    }
    let pty = Pty::spawn(&shell, &dir, &env, cols, rows)
        .map_err(|e| ApiError::internal(format!("cannot start the terminal: {e}")))?;
    Ok(upgrade
        .on_upgrade(move |socket| run_terminal(socket, pty))
        .into_response())
}

/// Terminal output goes out as binary frames; binary or text frames in are
/// typed, except a JSON `resize` text frame.
async fn run_terminal(mut socket: WebSocket, mut pty: Pty) {
    let Ok(mut output) = pty.output() else {
        return;
    };
    loop {
        tokio::select! {
            chunk = output.recv() => match chunk {
                Some(bytes) => {
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        return;
                    }
                }
                None => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            },
            frame = socket.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let done = match resize_request(text.as_str()) {
                        Some((cols, rows)) => pty.resize(cols, rows),
                        None => pty.write(text.as_bytes()),
                    };
                    if done.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Binary(bytes))) => {
                    if pty.write(&bytes).is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
        }
    }
}

async fn exec_stream(
    State(app): State<App>,
    Path(id): Path<String>,
    q: Q,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    let (dir, env) = running(&app, &id, false)?;
    let command = q
        .str("command")
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| ApiError::validation("command", "is required"))?
        .to_owned();
    size(&q, 80, 24)?;
    let mut cmd = exec::command(Lang::Shell, &command, &dir, &env);
    cmd.stdin(Stdio::piped());
    let child = cmd
        .spawn()
        .map_err(|e| ApiError::internal(format!("cannot start the command: {e}")))?;
    note(&app, &id, "exec.started", json!({"command": command}));
    Ok(upgrade
        .on_upgrade(move |socket| async move {
            let code = run_exec(socket, child).await;
            note(
                &app,
                &id,
                "exec.completed",
                json!({"command": command, "exit_code": code}),
            );
        })
        .into_response())
}

/// Records an event in the machine's log (which event sockets tail).
fn note(app: &App, id: &str, what: &str, data: Value) {
    if let Ok(m) = app.store().computer(id) {
        m.note(what, data);
    }
}

fn frame(value: &Value) -> Message {
    Message::Text(value.to_string().into())
}

/// The canonical frames: `stdin`, `stdin_close`, `resize`, `signal` in;
/// `stdout`, `stderr` as they are written, then `exit` with the code.
/// Answers the exit code (None when the client left first).
async fn run_exec(mut socket: WebSocket, mut child: tokio::process::Child) -> Option<i32> {
    let mut stdin = child.stdin.take();
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return None;
    };
    let (mut out_buf, mut err_buf) = (vec![0u8; 8192], vec![0u8; 8192]);
    let (mut out_open, mut err_open) = (true, true);
    while out_open || err_open {
        tokio::select! {
            n = stdout.read(&mut out_buf), if out_open => match n {
                Ok(n) if n > 0 => {
                    let data = String::from_utf8_lossy(&out_buf[..n]);
                    if socket.send(frame(&json!({"type": "stdout", "data": data}))).await.is_err() {
                        return None;
                    }
                }
                _ => out_open = false,
            },
            n = stderr.read(&mut err_buf), if err_open => match n {
                Ok(n) if n > 0 => {
                    let data = String::from_utf8_lossy(&err_buf[..n]);
                    if socket.send(frame(&json!({"type": "stderr", "data": data}))).await.is_err() {
                        return None;
                    }
                }
                _ => err_open = false,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let v: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    match v.get("type").and_then(Value::as_str) {
                        Some("stdin") => {
                            let data = v.get("data").and_then(Value::as_str).unwrap_or_default();
                            if let Some(pipe) = stdin.as_mut() {
                                let _ = pipe.write_all(data.as_bytes()).await;
                                let _ = pipe.flush().await;
                            }
                        }
                        Some("stdin_close") => stdin = None,
                        Some("signal") => {
                            let name = v.get("signal").and_then(Value::as_str).unwrap_or("SIGTERM");
                            signal(&child, name);
                        }
                        // Pipes have no size; the request is accepted.
                        _ => {}
                    }
                }
                Some(Ok(_)) => {}
                // The client went away: the command goes with it.
                Some(Err(_)) | None => return None,
            },
        }
    }
    let code = match child.wait().await {
        Ok(status) => status
            .code()
            .or_else(|| std::os::unix::process::ExitStatusExt::signal(&status).map(|s| 128 + s))
            .unwrap_or(-1),
        Err(_) => -1,
    };
    let _ = socket
        .send(frame(&json!({"type": "exit", "code": code})))
        .await;
    let _ = socket.send(Message::Close(None)).await;
    Some(code)
}

fn signal(child: &tokio::process::Child, name: &str) {
    let number = match name.trim_start_matches("SIG") {
        "INT" => libc::SIGINT,
        "KILL" => libc::SIGKILL,
        "HUP" => libc::SIGHUP,
        "QUIT" => libc::SIGQUIT,
        _ => libc::SIGTERM,
    };
    if let Some(pid) = child.id().and_then(|p| libc::pid_t::try_from(p).ok()) {
        // SAFETY: kill(2) on the command's own process group.
        unsafe {
            libc::kill(-pid, number);
        }
    }
}

async fn events(
    State(app): State<App>,
    Path(id): Path<String>,
    q: Q,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    let (dir, _) = running(&app, &id, false)?;
    let families: Vec<String> = q
        .str("subscribe")
        .unwrap_or("window,clipboard,file,process,idle")
        .split(',')
        .map(|f| f.trim().to_owned())
        .collect();
    // Accepted as the API takes them; every file under the machine is watched.
    let _ = (q.str("paths"), q.int("idle_threshold_sec")?);
    // Only what happens from now on is sent, not the machine's history.
    let seen = app
        .store()
        .computer(&id)?
        .events
        .last()
        .map_or(0, |e| e.seq);
    // The baseline is taken before the upgrade is answered, so a file written
    // as soon as the client holds the socket is reported.
    let files = scan(&dir);
    let feed = Feed {
        app,
        id,
        dir,
        families,
        seen,
        files,
    };
    Ok(upgrade
        .on_upgrade(move |socket| run_events(socket, feed))
        .into_response())
}

/// What one events socket watches.
struct Feed {
    app: App,
    id: String,
    dir: PathBuf,
    families: Vec<String>,
    /// The last machine event already considered.
    seen: u64,
    /// The files as last scanned.
    files: HashMap<String, (u64, SystemTime)>,
}

/// The socket frame type a machine event stands for (PROTOCOL §13's names);
/// None for events with no socket counterpart (file events come from polling).
fn socket_event(name: &str) -> Option<&'static str> {
    // Machine events are prefixed with `sandbox.` or `computer.`.
    let (_, what) = name.split_once('.')?;
    Some(match what {
        "exec.started" | "process.started" => "process.started",
        "exec.completed" | "process.stopped" => "process.stopped",
        "window.opened" => "window.opened",
        "window.focus_changed" => "window.focus_changed",
        "window.closed" => "window.closed",
        "clipboard.changed" => "clipboard.changed",
        "stopped" | "paused" | "destroyed" => "producer.unavailable",
        _ => return None,
    })
}

impl Feed {
    fn wants(&self, kind: &str) -> bool {
        let family = kind.split('.').next().unwrap_or_default();
        family == "producer" || self.families.iter().any(|f| f == family)
    }

    /// The frames for machine events since the last call; the flag says the
    /// machine has stopped (or is gone), so the feed ends after them.
    fn machine_frames(&mut self) -> (Vec<Value>, bool) {
        let mut store = self.app.store();
        let Ok(m) = store.computer(&self.id) else {
            let gone = json!({"type": "producer.unavailable", "timestamp": crate::util::now(),
                              "payload": {"reason": "destroyed"}});
            return (vec![gone], true);
        };
        let mut frames = Vec::new();
        let mut ended = false;
        let from = self.seen;
        for e in m.events.iter().filter(|e| e.seq > from) {
            self.seen = e.seq;
            let Some(kind) = socket_event(&e.name) else {
                continue;
            };
            let mut payload = e.data.clone();
            if kind == "producer.unavailable" {
                ended = true;
                payload["reason"] = json!(e.name.split_once('.').map_or("", |(_, w)| w));
            }
            if self.wants(kind) {
                frames.push(
                    json!({"type": kind, "timestamp": crate::util::now(), "payload": payload}),
                );
            }
        }
        (frames, ended)
    }
}

/// Files seen under a machine directory: path (as the API names it) to
/// size and modification time. Bounded, so a huge tree cannot stall the loop.
fn scan(dir: &FsPath) -> HashMap<String, (u64, SystemTime)> {
    const MAX_ENTRIES: usize = 5000;
    let mut seen = HashMap::new();
    let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.flatten() {
            if seen.len() >= MAX_ENTRIES {
                return seen;
            }
            let Ok(meta) = entry.metadata() else { continue };
            let path = entry.path();
            if meta.is_dir() {
                pending.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                let name = format!("/home/user/{}", rel.to_string_lossy());
                seen.insert(name, (meta.len(), meta.modified().unwrap_or(UNIX_EPOCH)));
            }
        }
    }
    seen
}

/// Sends the machine's events as they happen (processes, windows, clipboard;
/// `producer.unavailable`, then a going-away close, when it stops) and polls
/// the directory for `file.created`, `file.modified` and `file.deleted`,
/// until the client leaves.
async fn run_events(mut socket: WebSocket, mut feed: Feed) {
    let files = feed.wants("file");
    let mut before = std::mem::take(&mut feed.files);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let (events, ended) = feed.machine_frames();
                for event in events {
                    if socket.send(frame(&event)).await.is_err() {
                        return;
                    }
                }
                if ended {
                    let _ = socket.send(Message::Close(Some(axum::extract::ws::CloseFrame {
                        code: axum::extract::ws::close_code::AWAY,
                        reason: "the machine has stopped".into(),
                    }))).await;
                    return;
                }
                if !files {
                    continue;
                }
                let now = scan(&feed.dir);
                let mut frames = Vec::new();
                for (path, stamp) in &now {
                    match before.get(path) {
                        None => frames.push(("file.created", path.clone())),
                        Some(old) if old != stamp => frames.push(("file.modified", path.clone())),
                        Some(_) => {}
                    }
                }
                frames.extend(before.keys().filter(|p| !now.contains_key(*p)).map(|p| ("file.deleted", p.clone())));
                before = now;
                for (kind, path) in frames {
                    let event = json!({"type": kind, "timestamp": crate::util::now(), "payload": {"path": path}});
                    if socket.send(frame(&event)).await.is_err() {
                        return;
                    }
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
