//! `miosa-bench`: the Rust half of `scripts/bench.sh`.
//!
//! ```text
//! miosa-bench [--base-url URL --api-key KEY | --emulator PATH] [--pin]
//!             [--runs N] [--scale F] [--only a,b,...] [--json OUT]
//! ```
//!
//! Without `--base-url` it starts `miosa-emulator` (the binary next to this one,
//! or `--emulator PATH`) as a separate process; with `--pin` the emulator is
//! pinned to CPU 1 and this process to CPU 0 (`taskset`), so client and server
//! do not steal each other's core. Sections (`--only`): `floor`, `get`, `exec`,
//! `download`, `sse-parse`, `sse-e2e`, `inflight`. Prints tables and writes all
//! figures as JSON (`--json`), which `bench/report.py` turns into BENCHMARKS.md.
//! Numbers are printed, never asserted.

mod load;
mod mem;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Map, Value, json};

use load::{CallFn, Exec, measure, median};

type Res<T> = Result<T, String>;

const SANDBOX: &str = "sbx_fixture";
const DOWNLOAD_PATH: &str = "bench-1mib.bin";
const MIB: usize = 1 << 20;
const CONCURRENCY: [usize; 3] = [1, 16, 256];

#[derive(Debug, Clone)]
struct Opts {
    base_url: Option<String>,
    api_key: Option<String>,
    emulator: Option<String>,
    pin: bool,
    runs: usize,
    scale: f64,
    only: Option<Vec<String>>,
    json: Option<String>,
    sse_events: usize,
    inflight: usize,
    emulator_pid: Option<u32>,
}

fn parse_opts(args: &[String]) -> Res<Opts> {
    let mut o = Opts {
        base_url: None,
        api_key: None,
        emulator: None,
        pin: false,
        runs: 3,
        scale: 1.0,
        only: None,
        json: None,
        sse_events: 1_000_000,
        inflight: 1000,
        emulator_pid: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--base-url" => o.base_url = Some(val()?),
            "--api-key" => o.api_key = Some(val()?),
            "--emulator" => o.emulator = Some(val()?),
            "--pin" => o.pin = true,
            "--runs" => o.runs = val()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--scale" => o.scale = val()?.parse().map_err(|e| format!("--scale: {e}"))?,
            "--only" => o.only = Some(val()?.split(',').map(str::to_owned).collect()),
            "--json" => o.json = Some(val()?),
            "--sse-events" => {
                o.sse_events = val()?.parse().map_err(|e| format!("--sse-events: {e}"))?;
            }
            "--emulator-pid" => {
                o.emulator_pid = Some(val()?.parse().map_err(|e| format!("--emulator-pid: {e}"))?);
            }
            "--inflight" => o.inflight = val()?.parse().map_err(|e| format!("--inflight: {e}"))?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

impl Opts {
    fn wants(&self, section: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|l| l.iter().any(|s| s == section))
    }
    fn n(&self, base: usize) -> usize {
        ((base as f64 * self.scale) as usize).max(10)
    }
}

/// The emulator this process started (stopped with SIGTERM on drop, so it cleans up).
struct Emu {
    child: Child,
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn start_emulator(path: &str, pin: bool) -> Res<(Emu, String, String)> {
    // `taskset` execs the emulator, so the child's pid is the emulator's.
    let mut cmd = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "1", path]);
        c
    } else {
        Command::new(path)
    };
    let mut child = cmd
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {path}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .map(str::to_owned)
    };
    let _ = load::EMULATOR_PID.set(child.id());
    let emu = Emu { child };
    match (field("base_url="), field("api_key=")) {
        (Some(u), Some(k)) => Ok((emu, u, k)),
        _ => Err(format!("unexpected first line from the emulator: {line}")),
    }
}

fn default_emulator() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("miosa-emulator")))
        .map_or_else(
            || "miosa-emulator".to_owned(),
            |p| p.to_string_lossy().into_owned(),
        )
}

fn runtime() -> Res<tokio::runtime::Runtime> {
    // Built like the core's Engine::new: multi-thread, 2 workers, all drivers.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// A reqwest client with the core's pool settings (core/src/client.rs, Engine::new).
fn floor_http() -> Res<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(miosa::DEFAULT_CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .user_agent("miosa-bench-floor")
        .build()
        .map_err(|e| e.to_string())
}

fn core_client(base_url: &str, api_key: &str) -> Res<miosa::Client> {
    miosa::Client::builder(api_key)
        .base_url(base_url)
        .build()
        .map_err(|e| e.to_string())
}

/// A raw request as the core sends it: bearer key, `Accept`, per-attempt timeout; whole body read.
fn floor_call(
    http: &reqwest::Client,
    api_key: &str,
    method: reqwest::Method,
    url: &str,
    body: Option<&'static str>,
) -> CallFn {
    let http = http.clone();
    let key = api_key.to_owned();
    let url = reqwest::Url::parse(url).unwrap_or_else(|e| panic!("bad url {url}: {e}"));
    Arc::new(move || {
        let mut req = http
            .request(method.clone(), url.clone())
            .bearer_auth(&key)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(miosa::DEFAULT_TIMEOUT);
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b);
        }
        Box::pin(async move {
            let resp = req.send().await.map_err(|e| e.to_string())?;
            let status = resp.status();
            let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!("HTTP {status}"));
            }
            Ok(bytes.len() as u64)
        })
    })
}

fn core_call<F, Fut>(client: &miosa::Client, f: F) -> CallFn
where
    F: Fn(miosa::Client) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = miosa::Result<u64>> + Send + 'static,
{
    let client = client.clone();
    let f = Arc::new(f);
    Arc::new(move || {
        let fut = f(client.clone());
        Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
    })
}

fn print_row(label: &str, v: &Value) {
    println!(
        "  {label:<26} c={:<4} {:>8.0} calls/s  p50 {:>8.1} µs  p99 {:>9.1} µs  cpu/call {:>6.1} µs (emulator {:>6.1})  ctxsw/call {:>4.1}  runs {}  errors {}",
        v["concurrency"],
        v["calls_per_s"].as_f64().unwrap_or(f64::NAN),
        v["p50_us"].as_f64().unwrap_or(f64::NAN),
        v["p99_us"].as_f64().unwrap_or(f64::NAN),
        v["cpu_us_per_call"].as_f64().unwrap_or(f64::NAN),
        v["emu_cpu_us_per_call"].as_f64().unwrap_or(f64::NAN),
        v["ctx_switches_per_call"].as_f64().unwrap_or(f64::NAN),
        v["runs_calls_per_s"],
        v["errors"],
    );
    if let Some(e) = v["first_error"].as_str() {
        println!("    first error: {e}");
    }
}

struct Ctx {
    opts: Opts,
    base_url: String,
    api_key: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    client: miosa::Client,
}

impl Ctx {
    /// Floor and core side by side for one route, at each concurrency.
    fn route(
        &self,
        name: &str,
        totals: [usize; 3],
        floor: Option<&CallFn>,
        core: &CallFn,
    ) -> Value {
        println!("{name}");
        let mut rows = Vec::new();
        for (c, total) in CONCURRENCY.iter().zip(totals) {
            let total = self.opts.n(total);
            let mut row = Map::new();
            if let Some(floor) = floor {
                let f = measure(&Exec::Floor(&self.rt), floor, *c, total, self.opts.runs);
                print_row("raw reqwest (floor)", &f);
                row.insert("floor".into(), f);
            }
            let k = measure(&Exec::Core(&self.client), core, *c, total, self.opts.runs);
            print_row("miosa core", &k);
            row.insert("core".into(), k);
            rows.push(Value::Object(row));
        }
        json!(rows)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = if args.first().map(String::as_str) == Some("child") {
        child(&args[1..])
    } else {
        match parse_opts(&args) {
            Ok(o) => run(o),
            Err(e) => {
                if !e.is_empty() {
                    eprintln!("miosa-bench: {e}");
                }
                eprintln!(
                    "usage: miosa-bench [--base-url URL --api-key KEY | --emulator PATH] [--pin] \
                     [--runs N] [--scale F] [--only floor,get,exec,download,sse-parse,sse-e2e,inflight] \
                     [--json OUT] [--sse-events N] [--inflight N] [--emulator-pid PID]"
                );
                Err(String::new())
            }
        }
    };
    if let Err(e) = code {
        if !e.is_empty() {
            eprintln!("miosa-bench: {e}");
        }
        std::process::exit(1);
    }
}

fn run(opts: Opts) -> Res<()> {
    if opts.pin {
        // Threads created later inherit the main thread's affinity.
        let _ = Command::new("taskset")
            .args(["-cp", "0", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status();
    }
    if let Some(pid) = opts.emulator_pid {
        let _ = load::EMULATOR_PID.set(pid);
    }
    let (_emu, base_url, api_key) = match (&opts.base_url, &opts.api_key) {
        (Some(u), Some(k)) => (None, u.clone(), k.clone()),
        _ => {
            let path = opts.emulator.clone().unwrap_or_else(default_emulator);
            let (emu, u, k) = start_emulator(&path, opts.pin)?;
            println!("started {path} at {u}");
            (Some(emu), u, k)
        }
    };
    let ctx = Ctx {
        rt: runtime()?,
        http: floor_http()?,
        client: core_client(&base_url, &api_key)?,
        base_url,
        api_key,
        opts,
    };
    let mut out = Map::new();
    out.insert("runs".into(), json!(ctx.opts.runs));
    out.insert("scale".into(), json!(ctx.opts.scale));
    out.insert("pinned".into(), json!(ctx.opts.pin));
    let b = ctx.base_url.clone();
    let key = ctx.api_key.clone();

    if ctx.opts.wants("floor") {
        let floor = floor_call(
            &ctx.http,
            &key,
            reqwest::Method::GET,
            &format!("{b}/_emulator/ping"),
            None,
        );
        let core = core_call(&ctx.client, |c| async move {
            let v = c
                .request_json(miosa::HttpMethod::Get, "/_emulator/ping", None)
                .await?;
            Ok(u64::from(v.is_object()))
        });
        let rows = ctx.route(
            "GET /_emulator/ping (fixed body; core = client.request_json)",
            [3000, 10000, 20000],
            Some(&floor),
            &core,
        );
        out.insert("ping".into(), rows);
    }
    if ctx.opts.wants("get") {
        let floor = floor_call(
            &ctx.http,
            &key,
            reqwest::Method::GET,
            &format!("{b}/sandboxes/{SANDBOX}"),
            None,
        );
        let core = core_call(&ctx.client, |c| async move {
            let sb = c.sandboxes().get(SANDBOX).await?;
            Ok(u64::from(!sb.id.is_empty()))
        });
        let rows = ctx.route(
            "sandboxes.get (GET /sandboxes/sbx_fixture)",
            [3000, 10000, 20000],
            Some(&floor),
            &core,
        );
        out.insert("sandboxes_get".into(), rows);
    }
    if ctx.opts.wants("exec") {
        let floor = floor_call(
            &ctx.http,
            &key,
            reqwest::Method::POST,
            &format!("{b}/computers/{SANDBOX}/exec"),
            Some(r#"{"command":"true"}"#),
        );
        let core = core_call(&ctx.client, |c| async move {
            let r = c
                .exec()
                .run(
                    SANDBOX,
                    miosa::api::ExecRunParams::default().command("true"),
                )
                .await?;
            Ok(u64::from(r.exit_code == 0))
        });
        let rows = ctx.route(
            "exec.run `true` (POST /computers/sbx_fixture/exec)",
            [100, 256, 256],
            Some(&floor),
            &core,
        );
        out.insert("exec_run".into(), rows);
    }
    if ctx.opts.wants("download") {
        let content = vec![b'x'; MIB];
        futures_executor::block_on(ctx.client.sandbox().files().write(
            SANDBOX,
            DOWNLOAD_PATH,
            content,
        ))
        .map_err(|e| format!("writing the 1 MiB file: {e}"))?;
        let floor = floor_call(
            &ctx.http,
            &key,
            reqwest::Method::GET,
            &format!("{b}/sandboxes/{SANDBOX}/fs/download?path={DOWNLOAD_PATH}"),
            None,
        );
        let core = core_call(&ctx.client, |c| async move {
            let body = c.sandbox().files().read(SANDBOX, DOWNLOAD_PATH).await?;
            if body.len() != MIB {
                return Err(miosa::Error::new(
                    miosa::ErrorKind::Decode,
                    format!("got {} bytes", body.len()),
                ));
            }
            Ok(body.len() as u64)
        });
        let rows = ctx.route(
            "sandbox.files.read 1 MiB (GET /sandboxes/sbx_fixture/fs/download)",
            [300, 600, 768],
            Some(&floor),
            &core,
        );
        out.insert("download_1mib".into(), rows);
    }
    if ctx.opts.wants("sse-parse") {
        let mut both = Map::new();
        for (name, shape) in [
            ("bulk", sse_event_bulk as fn(&mut Vec<u8>, usize)),
            ("api", sse_event_api),
        ] {
            let v = sse_parse(1_000_000, ctx.opts.runs.max(5), shape);
            println!(
                "SSE parse in memory (SseParser, 1,000,000 `{name}` events, {:.0} B each, 16 KiB chunks): {:.0} events/s, {:.0} MB/s (runs {})",
                v["bytes"].as_f64().unwrap_or(0.0) / 1e6,
                v["events_per_s"].as_f64().unwrap_or(f64::NAN),
                v["mb_per_s"].as_f64().unwrap_or(f64::NAN),
                v["runs_events_per_s"]
            );
            both.insert(name.into(), v);
        }
        out.insert("sse_parse".into(), Value::Object(both));
    }
    if ctx.opts.wants("sse-e2e") {
        let mut runs = Vec::new();
        for _ in 0..ctx.opts.runs.min(3) {
            runs.push(child_process(
                &ctx,
                &["sse-e2e", "--n", &ctx.opts.sse_events.to_string()],
            )?);
        }
        let v = summarize_children(&runs, &["events_per_s", "rss_after_kb", "hwm_kb"]);
        println!(
            "SSE end to end through the core ({} events, own process): {:.0} events/s; RSS after {} kB; peak {} kB; samples {}",
            ctx.opts.sse_events,
            v["events_per_s"].as_f64().unwrap_or(f64::NAN),
            v["rss_after_kb"],
            v["hwm_kb"],
            runs.last()
                .map_or(Value::Null, |r| r["rss_samples_kb"].clone()),
        );
        out.insert("sse_e2e".into(), v);
    }
    if ctx.opts.wants("inflight") {
        for mode in ["core", "floor"] {
            let mut runs = Vec::new();
            for _ in 0..ctx.opts.runs {
                runs.push(child_process(
                    &ctx,
                    &[
                        "inflight",
                        "--n",
                        &ctx.opts.inflight.to_string(),
                        "--mode",
                        mode,
                    ],
                )?);
            }
            let v = summarize_children(
                &runs,
                &["secs", "errors", "rss_before_kb", "hwm_kb", "rss_after_kb"],
            );
            println!(
                "{} requests in flight on one handle ({mode}, own process): {:.3} s, errors {}, RSS before {} kB, peak {} kB",
                ctx.opts.inflight,
                v["secs"].as_f64().unwrap_or(f64::NAN),
                v["errors"],
                v["rss_before_kb"],
                v["hwm_kb"],
            );
            out.insert(format!("inflight_{mode}"), v);
        }
    }
    let text = serde_json::to_string_pretty(&Value::Object(out)).map_err(|e| e.to_string())?;
    if let Some(path) = &ctx.opts.json {
        std::fs::write(path, text + "\n").map_err(|e| format!("{path}: {e}"))?;
        println!("wrote {path}");
    }
    Ok(())
}

/// Medians over child runs for `keys`, plus every run.
fn summarize_children(runs: &[Value], keys: &[&str]) -> Value {
    let mut m = Map::new();
    for k in keys {
        m.insert(
            (*k).to_owned(),
            json!(median(runs.iter().filter_map(|r| r[*k].as_f64()).collect())),
        );
    }
    m.insert("runs".into(), json!(runs));
    Value::Object(m)
}

/// Runs `miosa-bench child ...` against the same emulator; its last stdout line is JSON.
fn child_process(ctx: &Ctx, args: &[&str]) -> Res<Value> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .arg("child")
        .args(args)
        .args(["--base-url", &ctx.base_url, "--api-key", &ctx.api_key])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).map_err(|e| format!("child {args:?} printed `{text}`: {e}"))
}

/// The shape the emulator's bulk stream (`/_emulator/stream`) sends.
fn sse_event_bulk(buf: &mut Vec<u8>, i: usize) {
    let _ = write!(buf, "id: {i}\ndata: {i}\n\n");
}

/// A typical API event: id, type and a JSON payload.
fn sse_event_api(buf: &mut Vec<u8>, i: usize) {
    let _ = write!(
        buf,
        "id: {i}\nevent: exec.output\ndata: {{\"seq\":{i},\"stream\":\"stdout\",\"text\":\"line {i}\"}}\n\n"
    );
}

fn sse_parse(events: usize, runs: usize, shape: fn(&mut Vec<u8>, usize)) -> Value {
    let mut buf = Vec::with_capacity(events * 40);
    for i in 0..events {
        shape(&mut buf, i);
    }
    let mut rates = Vec::new();
    let mut counted = 0;
    for _ in 0..runs {
        let mut parser = miosa::sse::SseParser::new();
        let mut out = Vec::new();
        let mut n = 0usize;
        let t = Instant::now();
        for chunk in buf.chunks(16 * 1024) {
            parser.feed(chunk, &mut out);
            n += out.len();
            out.clear();
        }
        let secs = t.elapsed().as_secs_f64();
        counted = n;
        rates.push(n as f64 / secs);
    }
    let eps = median(rates.clone());
    json!({
        "events": counted,
        "bytes": buf.len(),
        "bytes_per_event": buf.len() as f64 / counted.max(1) as f64,
        "chunk_bytes": 16 * 1024,
        "events_per_s": eps,
        "mb_per_s": eps * buf.len() as f64 / counted.max(1) as f64 / 1e6,
        "runs_events_per_s": rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
    })
}

/// Isolated measurements, each in its own process so peak RSS is theirs alone.
fn child(args: &[String]) -> Res<()> {
    let what = args.first().cloned().unwrap_or_default();
    let mut n = 1000usize;
    let mut mode = "core".to_owned();
    let mut base_url = String::new();
    let mut api_key = String::new();
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().cloned().unwrap_or_default();
        match a.as_str() {
            "--n" => n = v.parse().map_err(|e| format!("--n: {e}"))?,
            "--mode" => mode = v,
            "--base-url" => base_url = v,
            "--api-key" => api_key = v,
            _ => return Err(format!("unknown child argument {a}")),
        }
    }
    let result = match what.as_str() {
        "inflight" => inflight(&base_url, &api_key, n, &mode)?,
        "sse-e2e" => sse_e2e(&base_url, &api_key, n)?,
        "seq" | "sequential" => sequential(&base_url, &api_key, n, &mode)?,
        other => return Err(format!("unknown child {other}")),
    };
    println!("{result}");
    Ok(())
}

fn inflight(base_url: &str, api_key: &str, n: usize, mode: &str) -> Res<Value> {
    let (secs, errors, first_error, rss_before) = if mode == "floor" {
        let rt = runtime()?;
        let http = floor_http()?;
        let call = floor_call(
            &http,
            api_key,
            reqwest::Method::GET,
            &format!("{base_url}/sandboxes/{SANDBOX}"),
            None,
        );
        futures_executor::block_on(rt.spawn(call()))
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("warm-up: {e}"))?;
        let rss_before = mem::status_kb("VmRSS");
        let t = Instant::now();
        let handles: Vec<_> = (0..n).map(|_| rt.spawn(call())).collect();
        let results = futures_executor::block_on(join_all(handles));
        let secs = t.elapsed().as_secs_f64();
        let errs: Vec<String> = results
            .into_iter()
            .filter_map(|r| match r {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some(e),
                Err(e) => Some(e.to_string()),
            })
            .collect();
        (secs, errs.len(), errs.into_iter().next(), rss_before)
    } else {
        let client = core_client(base_url, api_key)?;
        futures_executor::block_on(client.sandboxes().get(SANDBOX))
            .map_err(|e| format!("warm-up: {e}"))?;
        let rss_before = mem::status_kb("VmRSS");
        let t = Instant::now();
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let c = client.clone();
                client.spawn(async move { c.sandboxes().get(SANDBOX).await })
            })
            .collect();
        let results = futures_executor::block_on(join_all(handles));
        let secs = t.elapsed().as_secs_f64();
        let errs: Vec<String> = results
            .into_iter()
            .filter_map(|r| r.err().map(|e| e.to_string()))
            .collect();
        (secs, errs.len(), errs.into_iter().next(), rss_before)
    };
    Ok(json!({
        "mode": mode, "n": n, "secs": secs, "errors": errors, "first_error": first_error,
        "rss_before_kb": rss_before, "hwm_kb": mem::status_kb("VmHWM"), "rss_after_kb": mem::status_kb("VmRSS"),
    }))
}

/// `n` `sandboxes.get` calls one after another in one task (after one warm-up
/// call): the per-call cost at one in flight, steady enough for callgrind.
fn sequential(base_url: &str, api_key: &str, n: usize, mode: &str) -> Res<Value> {
    let (cpu_ns, secs) = if mode == "floor" {
        let rt = runtime()?;
        let http = floor_http()?;
        let call = floor_call(
            &http,
            api_key,
            reqwest::Method::GET,
            &format!("{base_url}/sandboxes/{SANDBOX}"),
            None,
        );
        let run = move |count: usize| {
            let call = Arc::clone(&call);
            rt.block_on(rt.spawn(async move {
                for _ in 0..count {
                    call().await?;
                }
                Ok::<_, String>(())
            }))
            .map_err(|e| e.to_string())?
        };
        run(1)?;
        let (cpu0, t) = (mem::cpu_ns(None), Instant::now());
        run(n)?;
        (mem::cpu_ns(None) - cpu0, t.elapsed().as_secs_f64())
    } else {
        let client = core_client(base_url, api_key)?;
        let run = |count: usize| {
            let c = client.clone();
            futures_executor::block_on(client.spawn(async move {
                for _ in 0..count {
                    c.sandboxes().get(SANDBOX).await?;
                }
                Ok(())
            }))
            .map_err(|e| e.to_string())
        };
        run(1)?;
        let (cpu0, t) = (mem::cpu_ns(None), Instant::now());
        run(n)?;
        (mem::cpu_ns(None) - cpu0, t.elapsed().as_secs_f64())
    };
    Ok(json!({
        "mode": mode, "n": n, "secs": secs,
        "cpu_us_per_call": cpu_ns as f64 / 1000.0 / n.max(1) as f64,
    }))
}

fn sse_e2e(base_url: &str, api_key: &str, n: usize) -> Res<Value> {
    let client = core_client(base_url, api_key)?;
    // Warm the pool and check the route exists.
    futures_executor::block_on(client.request_json(
        miosa::HttpMethod::Get,
        "/_emulator/ping",
        None,
    ))
    .map_err(|e| e.to_string())?;
    let rss_before = mem::status_kb("VmRSS");
    let c = client.clone();
    let task = client.spawn(async move {
        let mut params = Map::new();
        params.insert("count".into(), json!(n));
        let t = Instant::now();
        let stream = c.stream_sse("/_emulator/stream", params).await?;
        let mut count = 0usize;
        let mut bytes = 0usize;
        let mut samples = Vec::new();
        let step = (n / 10).max(1);
        while let Some(ev) = stream.next().await {
            let ev = ev?;
            bytes += ev.data.len();
            count += 1;
            if count.is_multiple_of(step) {
                samples.push(mem::status_kb("VmRSS"));
            }
        }
        Ok((t.elapsed().as_secs_f64(), count, bytes, samples))
    });
    let (secs, count, bytes, samples) =
        futures_executor::block_on(task).map_err(|e| e.to_string())?;
    Ok(json!({
        "events": count, "data_bytes": bytes, "secs": secs, "events_per_s": count as f64 / secs,
        "rss_before_kb": rss_before, "rss_after_kb": mem::status_kb("VmRSS"), "hwm_kb": mem::status_kb("VmHWM"),
        "rss_samples_kb": samples,
    }))
}
