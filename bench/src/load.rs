//! Closed-loop load: `concurrency` workers share a counter of `total` calls;
//! each call is timed. Workers run as tasks on the runtime under test (the
//! floor's own runtime, or the core client's runtime through `Client::spawn`),
//! and the main thread only waits for them, so floor and core get the same
//! threads, the same pool settings and the same scheduling.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

pub type CallFut = Pin<Box<dyn Future<Output = Result<u64, String>> + Send>>;
/// One call; resolves to the number of body bytes it received.
pub type CallFn = Arc<dyn Fn() -> CallFut + Send + Sync>;

/// Where the workers run.
pub enum Exec<'a> {
    /// A tokio runtime built like the core's (multi-thread, 2 workers).
    Floor(&'a tokio::runtime::Runtime),
    /// The core client's own runtime.
    Core(&'a miosa::Client),
}

#[derive(Debug, Default)]
struct WorkerOut {
    lat_ns: Vec<u64>,
    errors: u64,
    bytes: u64,
    first_error: Option<String>,
}

async fn worker(call: CallFn, next: Arc<AtomicUsize>, total: usize) -> WorkerOut {
    let mut out = WorkerOut::default();
    while next.fetch_add(1, Ordering::Relaxed) < total {
        let t = Instant::now();
        let r = call().await;
        out.lat_ns
            .push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
        match r {
            Ok(b) => out.bytes += b,
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(e);
            }
        }
    }
    out
}

/// One measured run.
#[derive(Debug, Clone)]
pub struct Run {
    pub calls: usize,
    pub errors: u64,
    pub secs: f64,
    pub calls_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub bytes: u64,
    pub first_error: Option<String>,
    /// Client CPU (all threads of this process) per call, µs.
    pub cpu_us: f64,
    /// Emulator CPU per call, µs (NaN when its pid is unknown).
    pub emu_cpu_us: f64,
    /// Context switches of the client's threads per call.
    pub ctx_switches: f64,
}

/// The emulator's pid, when known, so its CPU per call is reported beside the client's.
pub static EMULATOR_PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

pub fn run_load(exec: &Exec<'_>, call: &CallFn, concurrency: usize, total: usize) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let emu_pid = EMULATOR_PID.get().copied();
    let cpu0 = crate::mem::cpu_ns(None);
    let cs0 = crate::mem::context_switches();
    let emu0 = emu_pid.map(|p| crate::mem::cpu_ns(Some(p)));
    let start = Instant::now();
    let outs: Vec<WorkerOut> = match exec {
        Exec::Floor(rt) => {
            let handles: Vec<_> = (0..concurrency)
                .map(|_| rt.spawn(worker(Arc::clone(call), Arc::clone(&next), total)))
                .collect();
            futures_executor::block_on(futures_util::future::join_all(handles))
                .into_iter()
                .map(Result::unwrap_or_default)
                .collect()
        }
        Exec::Core(client) => {
            let handles: Vec<_> = (0..concurrency)
                .map(|_| {
                    let w = worker(Arc::clone(call), Arc::clone(&next), total);
                    client.spawn(async move { Ok(w.await) })
                })
                .collect();
            futures_executor::block_on(futures_util::future::join_all(handles))
                .into_iter()
                .map(Result::unwrap_or_default)
                .collect()
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let cpu = crate::mem::cpu_ns(None).saturating_sub(cpu0);
    let cs = crate::mem::context_switches().saturating_sub(cs0);
    let emu = emu0.map(|e0| {
        emu_pid
            .map_or(0, |p| crate::mem::cpu_ns(Some(p)))
            .saturating_sub(e0)
    });
    let mut lat: Vec<u64> = Vec::with_capacity(total);
    let mut errors = 0;
    let mut bytes = 0;
    let mut first_error = None;
    for o in outs {
        lat.extend(o.lat_ns);
        errors += o.errors;
        bytes += o.bytes;
        if first_error.is_none() {
            first_error = o.first_error;
        }
    }
    lat.sort_unstable();
    let pct = |p: usize| -> f64 {
        if lat.is_empty() {
            return f64::NAN;
        }
        let i = (lat.len() * p / 100).min(lat.len() - 1);
        lat[i] as f64 / 1000.0
    };
    Run {
        calls: lat.len(),
        errors,
        secs,
        calls_per_s: lat.len() as f64 / secs,
        p50_us: pct(50),
        p99_us: pct(99),
        bytes,
        first_error,
        cpu_us: cpu as f64 / 1000.0 / total.max(1) as f64,
        ctx_switches: cs as f64 / total.max(1) as f64,
        emu_cpu_us: emu.map_or(f64::NAN, |e| e as f64 / 1000.0 / total.max(1) as f64),
    }
}

pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.retain(|x| !x.is_nan());
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Warm-up, then `runs` measured runs; the medians of each figure plus every run's calls/s.
pub fn measure(
    exec: &Exec<'_>,
    call: &CallFn,
    concurrency: usize,
    total: usize,
    runs: usize,
) -> Value {
    let _ = run_load(exec, call, concurrency, (concurrency * 2).max(50));
    let results: Vec<Run> = (0..runs)
        .map(|_| run_load(exec, call, concurrency, total))
        .collect();
    let errors: u64 = results.iter().map(|r| r.errors).sum();
    let first_error = results.iter().find_map(|r| r.first_error.clone());
    json!({
        "concurrency": concurrency,
        "calls_per_run": total,
        "secs_per_run": median(results.iter().map(|r| r.secs).collect()),
        "calls_per_s": median(results.iter().map(|r| r.calls_per_s).collect()),
        "p50_us": median(results.iter().map(|r| r.p50_us).collect()),
        "p99_us": median(results.iter().map(|r| r.p99_us).collect()),
        "cpu_us_per_call": median(results.iter().map(|r| r.cpu_us).collect()),
        "emu_cpu_us_per_call": median(results.iter().map(|r| r.emu_cpu_us).collect()),
        "ctx_switches_per_call": median(results.iter().map(|r| r.ctx_switches).collect()),
        "runs_calls_per_s": results.iter().map(|r| (r.calls_per_s * 10.0).round() / 10.0).collect::<Vec<_>>(),
        "bytes_per_call": results.first().map_or(0, |r| r.bytes / (r.calls.max(1) as u64)),
        "errors": errors,
        "first_error": first_error,
    })
}
