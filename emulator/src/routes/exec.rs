//! Commands: sandbox and computer exec, code runs, streamed exec, and
//! background processes. Everything runs for real in the machine directory.

use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{Resp, created, ok, running};
use crate::errors::{ApiError, ApiResult};
use crate::exec::{self, Lang, Outcome};
use crate::fsutil;
use crate::json::{Body, Q};
use crate::pipeline::Ctx;
use crate::sse;
use crate::state::{App, lock};
use crate::util::{self, data};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/sandboxes/{id}/exec", post(sandbox_exec))
        .route("/sandboxes/{id}/exec/stream", post(sandbox_exec_stream))
        .route("/sandboxes/{id}/code/run", post(code_run))
        .route("/computers/{id}/exec", post(computer_exec))
        .route("/computers/{id}/exec/python", post(computer_python))
        .route(
            "/sandboxes/{id}/processes",
            post(start_process).get(list_processes),
        )
        .route(
            "/sandboxes/{id}/processes/{pid}",
            get(get_process).delete(stop_process),
        )
        .route("/sandboxes/{id}/processes/{pid}/logs", get(process_logs))
        .route(
            "/sandboxes/{id}/processes/{pid}/stream",
            get(process_stream),
        )
}

/// One exec request: command, working directory, extra env, time limit.
struct Request {
    code: String,
    cwd: PathBuf,
    env: Vec<(String, String)>,
    timeout: Duration,
}

/// Reads `{command|code, cwd|working_dir, env, timeout|timeout_sec}`;
/// `timeout_ms` wins when given (Elixir documents milliseconds).
async fn prepare(
    app: &App,
    id: &str,
    body: &Body,
    code_key: &str,
    sandbox_only: bool,
) -> ApiResult<Request> {
    let code = body.str_req(code_key)?;
    // Sandboxes take `cwd` (py), computers `working_dir` (go, the table).
    let cwd = if sandbox_only {
        body.str_any(&["cwd", "working_dir", "workdir"])?
    } else {
        body.str_any(&["working_dir", "cwd", "workdir"])?
    };
    let extra = body.str_map_opt("env")?.unwrap_or_default();
    let timeout = match body.int_opt("timeout_ms")? {
        Some(ms) => Some(ms as f64 / 1000.0),
        None => match body.num_opt("timeout")? {
            Some(t) => Some(t),
            None => body.num_opt("timeout_sec")?,
        },
    };
    if timeout.is_some_and(|t| t <= 0.0 || !t.is_finite()) {
        return Err(ApiError::validation("timeout", "must be positive"));
    }
    let (dir, mut env) = running(app, id, sandbox_only)?;
    let cwd = match cwd {
        Some(c) => {
            let p = fsutil::resolve(&dir, &c)?;
            if !p.is_dir() {
                return Err(ApiError::validation("cwd", "is not an existing directory"));
            }
            p
        }
        None => dir,
    };
    env.extend(extra);
    let timeout = timeout
        .and_then(|t| Duration::try_from_secs_f64(t).ok())
        .unwrap_or(app.config.exec_timeout);
    Ok(Request {
        code,
        cwd,
        env,
        timeout,
    })
}

async fn execute(app: &App, id: &str, lang: Lang, req: &Request) -> ApiResult<Outcome> {
    if let Ok(m) = app.store().computer(id) {
        m.note("exec.started", json!({"command": req.code}));
    }
    let out = exec::run(lang, &req.code, &req.cwd, &req.env, req.timeout)
        .await
        .map_err(|e| ApiError::internal(format!("could not run command: {e}")))?;
    let mut store = app.store();
    store.exec_count += 1;
    if let Ok(m) = store.computer(id) {
        m.note(
            "exec.completed",
            json!({"command": req.code, "exit_code": out.exit_code, "duration_ms": out.duration_ms}),
        );
    }
    Ok(out)
}

async fn sandbox_exec(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let req = prepare(&app, &id, &body, "command", true).await?;
    let out = execute(&app, &id, Lang::Shell, &req).await?;
    ok(data(json!({
        "stdout": out.stdout, "stderr": out.stderr, "exit_code": out.exit_code,
        "duration_ms": out.duration_ms, "timed_out": out.timed_out,
    })))
}

async fn code_run(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let language = body.str_opt("language")?.unwrap_or_else(|| "python".into());
    let lang = match language.as_str() {
        "python" | "python3" | "py" => Lang::Python,
        "javascript" | "js" | "node" => Lang::Node,
        _ => {
            return Err(ApiError::validation(
                "language",
                "must be python or javascript",
            ));
        }
    };
    let req = prepare(&app, &id, &body, "code", true).await?;
    let out = execute(&app, &id, lang, &req).await?;
    ok(data(json!({
        "ok": out.exit_code == 0, "stdout": out.stdout, "stderr": out.stderr,
        "result": null, "language": language, "exit_code": out.exit_code,
        "duration_ms": out.duration_ms, "timed_out": out.timed_out,
    })))
}

fn computer_result(out: &Outcome) -> Value {
    json!({
        "output": out.stdout, "stderr": out.stderr, "exit_code": out.exit_code,
        "success": out.exit_code == 0, "duration_ms": out.duration_ms, "timed_out": out.timed_out,
    })
}

async fn computer_exec(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let req = prepare(&app, &id, &body, "command", false).await?;
    let out = execute(&app, &id, Lang::Shell, &req).await?;
    ok(computer_result(&out))
}

async fn computer_python(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let req = prepare(&app, &id, &body, "code", false).await?;
    let out = execute(&app, &id, Lang::Python, &req).await?;
    ok(computer_result(&out))
}

/// `event: stdout|stderr` with `{"line"}` per output line, then `event: exit`.
async fn sandbox_exec_stream(
    State(app): State<App>,
    Path(id): Path<String>,
    Extension(ctx): Extension<Ctx>,
    body: Body,
) -> Resp {
    let req = prepare(&app, &id, &body, "command", true).await?;
    let proc = exec::spawn(
        None,
        &req.code,
        &req.cwd,
        &req.env,
        Map::new(),
        Some(req.timeout),
    )
    .map_err(|e| ApiError::internal(format!("could not run command: {e}")))?;
    app.store().exec_count += 1;
    let (mut tx, resp) = sse::open(Some(&ctx));
    tokio::spawn(async move {
        let (mut out_pos, mut err_pos) = (0usize, 0usize);
        loop {
            let (stdout, stderr, done, code) = {
                let o = lock(&proc.out);
                (
                    o.stdout.clone(),
                    o.stderr.clone(),
                    o.ended_at.is_some(),
                    o.exit_code,
                )
            };
            for (name, buf, pos) in [
                ("stdout", &stdout, &mut out_pos),
                ("stderr", &stderr, &mut err_pos),
            ] {
                while let Some(nl) = buf[*pos..].iter().position(|b| *b == b'\n') {
                    let line = String::from_utf8_lossy(&buf[*pos..*pos + nl]).into_owned();
                    *pos += nl + 1;
                    if !tx
                        .event(Some(name), None, &json!({"line": line}).to_string())
                        .await
                    {
                        proc.kill_now();
                        return;
                    }
                }
                if done && *pos < buf.len() {
                    let line = String::from_utf8_lossy(&buf[*pos..]).into_owned();
                    *pos = buf.len();
                    tx.event(Some(name), None, &json!({"line": line}).to_string())
                        .await;
                }
            }
            if done {
                tx.event(Some("exit"), None, &json!({"exit_code": code}).to_string())
                    .await;
                return;
            }
            if !app.sleep(Duration::from_millis(30)).await {
                proc.kill_now();
                return;
            }
        }
    });
    Ok(resp)
}

async fn start_process(State(app): State<App>, Path(id): Path<String>, body: Body) -> Resp {
    let command = body.str_req("command")?;
    let name = body.str_opt("name")?;
    let extra = body.str_map_opt("env")?.unwrap_or_default();
    let timeout = body.num_opt("timeout")?;
    let cwd = body.str_any(&["cwd", "working_dir"])?;
    let (dir, mut env) = running(&app, &id, true)?;
    let cwd_path = match &cwd {
        Some(c) => fsutil::resolve(&dir, c)?,
        None => dir,
    };
    env.extend(extra);
    let mut rec = Map::new();
    rec.insert("name".into(), json!(name));
    rec.insert("command".into(), json!(command));
    rec.insert(
        "cwd".into(),
        json!(cwd.unwrap_or_else(|| "/workspace".into())),
    );
    rec.insert("started_at".into(), json!(util::now()));
    let limit = timeout.and_then(|t| Duration::try_from_secs_f64(t).ok());
    let proc = exec::spawn(None, &command, &cwd_path, &env, rec, limit)
        .map_err(|e| ApiError::internal(format!("could not start process: {e}")))?;
    let view = proc.view();
    let mut store = app.store();
    store.count("process");
    let m = store.sandbox(&id)?;
    m.note(
        "process.started",
        json!({"pid": proc.pid, "command": command}),
    );
    m.processes.push(proc);
    created(data(view))
}

async fn list_processes(State(app): State<App>, Path(id): Path<String>) -> Resp {
    let mut store = app.store();
    let m = store.sandbox(&id)?;
    let items: Vec<Value> = m.processes.iter().map(|p| p.view()).collect();
    ok(data(Value::Array(items)))
}

fn find_process(app: &App, id: &str, pid: &str) -> ApiResult<crate::state::Proc> {
    let mut store = app.store();
    let m = store.sandbox(id)?;
    m.processes
        .iter()
        .find(|p| p.pid == pid)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Process"))
}

async fn get_process(State(app): State<App>, Path((id, pid)): Path<(String, String)>) -> Resp {
    ok(data(find_process(&app, &id, &pid)?.view()))
}

async fn stop_process(State(app): State<App>, Path((id, pid)): Path<(String, String)>) -> Resp {
    let proc = find_process(&app, &id, &pid)?;
    exec::stop(&proc).await;
    // Give the watcher a moment to record the exit.
    for _ in 0..80 {
        if !proc.running() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    if let Ok(m) = app.store().sandbox(&id) {
        m.note("process.stopped", json!({"pid": pid}));
    }
    ok(json!({"ok": true, "data": proc.view()}))
}

fn tail(text: &str, n: Option<i64>) -> String {
    let Some(n) = n.and_then(|n| usize::try_from(n).ok()) else {
        return text.to_owned();
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    lines[lines.len().saturating_sub(n)..].concat()
}

async fn process_logs(
    State(app): State<App>,
    Path((id, pid)): Path<(String, String)>,
    q: Q,
) -> Resp {
    let proc = find_process(&app, &id, &pid)?;
    let n = q.int("tail")?.or(Some(200));
    let o = lock(&proc.out);
    let text = |b: &[u8]| tail(&String::from_utf8_lossy(b), n);
    ok(json!({
        "data": text(&o.combined), "logs": text(&o.combined),
        "stdout": text(&o.stdout), "stderr": text(&o.stderr), "pid": pid,
    }))
}

/// Output lines of a process as SSE (`data: {"line", "stream"}`), then `exit`.
async fn process_stream(
    State(app): State<App>,
    Path((id, pid)): Path<(String, String)>,
    Extension(ctx): Extension<Ctx>,
) -> Resp {
    let proc = find_process(&app, &id, &pid)?;
    let (mut tx, resp) = sse::open(Some(&ctx));
    tokio::spawn(async move {
        let mut pos = 0usize;
        loop {
            let (buf, done, code) = {
                let o = lock(&proc.out);
                (o.combined.clone(), o.ended_at.is_some(), o.exit_code)
            };
            let mut reader = BufReader::new(&buf[pos..]);
            let mut line = String::new();
            while let Ok(n) = reader.read_line(&mut line).await {
                if n == 0 || (!line.ends_with('\n') && !done) {
                    break;
                }
                pos += n;
                let text = line.trim_end_matches('\n').to_owned();
                if !tx
                    .event(None, None, &json!({"line": text}).to_string())
                    .await
                {
                    return;
                }
                line.clear();
            }
            if done {
                tx.event(Some("exit"), None, &json!({"exit_code": code}).to_string())
                    .await;
                return;
            }
            if !app.sleep(Duration::from_millis(50)).await {
                return;
            }
        }
    });
    Ok(resp)
}
