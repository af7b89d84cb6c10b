//! The emulator's in-memory state: one `Store` behind a mutex, never held
//! across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::config::Config;
use crate::errors::{ApiError, ApiResult};
use crate::pipeline::{Fault, Idem, RequestLog};
use crate::util;

pub type App = Arc<AppState>;

/// The tenant every resource of the emulator belongs to.
pub const TENANT_ID: &str = "ten_fixture";

/// Shared server state.
#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    /// Canonical directory holding `sandboxes/` and `snapshots/`.
    pub root: PathBuf,
    /// Whether `root` was made by us and is removed on drop.
    owns_root: bool,
    /// `http://127.0.0.1:PORT/api/v1`.
    pub base_url: String,
    store: Mutex<Store>,
    pub requests: Mutex<RequestLog>,
    pub faults: Mutex<Vec<Fault>>,
    pub idem: Mutex<HashMap<String, Idem>>,
    /// Live connection facts for `GET /_emulator/stats`.
    pub counters: Arc<Counters>,
    shutdown: watch::Sender<bool>,
}

/// What the emulator can see of its connections: requests still being
/// answered, requests whose client left first, and open SSE streams.
#[derive(Debug, Default)]
pub struct Counters {
    pub in_flight: AtomicU64,
    pub abandoned: AtomicU64,
    pub streams_open: AtomicU64,
    pub streams_opened: AtomicU64,
}

impl Counters {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }

    /// Clears the totals (not the live gauges) at `POST /_emulator/reset`.
    pub fn reset_totals(&self) {
        self.abandoned.store(0, Ordering::SeqCst);
        self.streams_opened.store(0, Ordering::SeqCst);
    }
}

/// Counts one request as in flight until dropped; dropped before
/// [`InFlight::finish`] means the client went away first (the connection
/// closed and the server stopped answering).
#[derive(Debug)]
pub struct InFlight {
    counters: Arc<Counters>,
    finished: bool,
}

impl InFlight {
    pub fn start(counters: &Arc<Counters>) -> Self {
        counters.in_flight.fetch_add(1, Ordering::SeqCst);
        Self {
            counters: Arc::clone(counters),
            finished: false,
        }
    }

    pub fn finish(mut self) {
        self.finished = true;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !self.finished {
            self.counters.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Counts an SSE stream as open until its response body is dropped (the
/// stream ended or the client closed the connection).
#[derive(Debug)]
pub struct StreamGuard(Arc<Counters>);

impl StreamGuard {
    pub fn new(counters: &Arc<Counters>) -> Self {
        counters.streams_open.fetch_add(1, Ordering::SeqCst);
        counters.streams_opened.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(counters))
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.streams_open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Locks a mutex, ignoring poisoning: a panicked handler must not take the
/// whole emulator down with it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    pub fn new(config: Config, root: PathBuf, owns_root: bool, base_url: String) -> Self {
        Self {
            config,
            root,
            owns_root,
            base_url,
            store: Mutex::new(Store::default()),
            requests: Mutex::new(RequestLog::default()),
            faults: Mutex::new(Vec::new()),
            idem: Mutex::new(HashMap::new()),
            counters: Arc::new(Counters::default()),
            shutdown: watch::Sender::new(false),
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub fn sandboxes_dir(&self) -> PathBuf {
        self.root.join("sandboxes")
    }

    pub fn snapshots_dir(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    /// Tells every open stream and the server to finish.
    pub fn signal_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn shutdown_rx(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Sleeps for `d`; false when the emulator is shutting down meanwhile.
    pub async fn sleep(&self, d: Duration) -> bool {
        let mut rx = self.shutdown_rx();
        if *rx.borrow() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            _ = rx.wait_for(|v| *v) => false,
        }
    }

    /// Kills every background process of every machine.
    pub fn kill_all_processes(&self) {
        let store = self.store();
        for m in &store.machines {
            for p in &m.processes {
                p.kill_now();
            }
        }
    }
}

impl Drop for AppState {
    fn drop(&mut self) {
        self.kill_all_processes();
        if self.owns_root {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// Insertion-ordered JSON records keyed by id.
#[derive(Debug, Default, Clone)]
pub struct Records {
    items: Vec<(String, Map<String, Value>)>,
}

impl Records {
    /// Inserts or replaces the record with this id.
    pub fn insert(&mut self, id: impl Into<String>, rec: Map<String, Value>) {
        let id = id.into();
        if let Some(slot) = self.items.iter_mut().find(|(k, _)| *k == id) {
            slot.1 = rec;
        } else {
            self.items.push((id, rec));
        }
    }

    pub fn get(&self, id: &str) -> Option<&Map<String, Value>> {
        self.items.iter().find(|(k, _)| k == id).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Map<String, Value>> {
        self.items.iter_mut().find(|(k, _)| k == id).map(|(_, v)| v)
    }

    /// The record or a 404 naming `what`.
    pub fn req(&self, id: &str, what: &str) -> ApiResult<&Map<String, Value>> {
        self.get(id).ok_or_else(|| ApiError::not_found(what))
    }

    pub fn req_mut(&mut self, id: &str, what: &str) -> ApiResult<&mut Map<String, Value>> {
        self.get_mut(id).ok_or_else(|| ApiError::not_found(what))
    }

    pub fn remove(&mut self, id: &str) -> Option<Map<String, Value>> {
        let pos = self.items.iter().position(|(k, _)| k == id)?;
        Some(self.items.remove(pos).1)
    }

    pub fn values(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.items.iter().map(|(_, v)| v)
    }
}

/// Sandbox or computer: both are machines with a private directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sandbox,
    Computer,
}

/// Lifecycle phase of a machine; the JSON views turn it into `state` or
/// `status` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Creating,
    Starting,
    Running,
    Stopped,
    Paused,
    Destroyed,
}

/// One environment variable of a machine.
#[derive(Debug, Clone)]
pub struct EnvVar {
    pub value: String,
    pub encrypted: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// One lifecycle event, as sent on `GET /sandboxes/{id}/events`.
#[derive(Debug, Clone)]
pub struct Event {
    pub seq: u64,
    pub name: String,
    pub data: Value,
}

/// Output and status of a background process, filled by its watcher task.
#[derive(Debug, Default)]
pub struct ProcOut {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Both streams interleaved in arrival order.
    pub combined: Vec<u8>,
    pub exit_code: Option<i32>,
    pub ended_at: Option<String>,
    pub killed: bool,
}

/// A background process started with `POST /sandboxes/{id}/processes`.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: String,
    pub rec: Map<String, Value>,
    pub out: Arc<Mutex<ProcOut>>,
    /// OS process group of the `sh -c` child, to kill it with its children.
    pub pgid: Option<u32>,
}

impl Proc {
    pub fn view(&self) -> Value {
        let out = lock(&self.out);
        let mut m = Map::new();
        m.insert("pid".into(), json!(self.pid));
        m.extend(self.rec.clone());
        let status = match (out.ended_at.is_some(), out.killed) {
            (false, _) => "running",
            (true, true) => "killed",
            (true, false) => "exited",
        };
        m.insert("status".into(), json!(status));
        m.insert("exit_code".into(), json!(out.exit_code));
        m.insert("ended_at".into(), json!(out.ended_at));
        Value::Object(m)
    }

    pub fn running(&self) -> bool {
        lock(&self.out).ended_at.is_none()
    }

    /// SIGKILL to the whole process group, synchronously (used on shutdown).
    pub fn kill_now(&self) {
        if let Some(pgid) = self.pgid
            && self.running()
        {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pgid}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// A sandbox or computer.
#[derive(Debug, Clone)]
pub struct Machine {
    pub id: String,
    pub kind: Kind,
    pub phase: Phase,
    /// When a pending `Creating`/`Starting` phase turns `Running`.
    pub transition_at: Option<Instant>,
    /// The directory standing for `/workspace` (and `/home/user`).
    pub dir: PathBuf,
    /// Every other field of the JSON view (name, size, metadata, tags...).
    pub attrs: Map<String, Value>,
    pub env: BTreeMap<String, EnvVar>,
    pub created_at: String,
    pub updated_at: String,
    pub started_at: Option<String>,
    pub ready_at: Option<String>,
    pub destroyed_at: Option<String>,
    /// Running time so far, plus the start of the current run.
    pub runtime: Duration,
    pub run_since: Option<Instant>,
    pub events: Vec<Event>,
    pub processes: Vec<Proc>,
    pub shares: Records,
    pub previews: Records,
    pub terminals: Records,
    pub ports: Records,
    pub auto_stop_seconds: i64,
}

impl Machine {
    pub fn new(kind: Kind, id: String, dir: PathBuf, attrs: Map<String, Value>) -> Self {
        let now = util::now();
        Self {
            id,
            kind,
            phase: Phase::Creating,
            transition_at: None,
            dir,
            attrs,
            env: BTreeMap::new(),
            created_at: now.clone(),
            updated_at: now,
            started_at: None,
            ready_at: None,
            destroyed_at: None,
            runtime: Duration::ZERO,
            run_since: None,
            events: Vec::new(),
            processes: Vec::new(),
            shares: Records::default(),
            previews: Records::default(),
            terminals: Records::default(),
            ports: Records::default(),
            auto_stop_seconds: 0,
        }
    }

    /// The noun used in messages: "Sandbox" or "Computer".
    pub fn noun(&self) -> &'static str {
        match self.kind {
            Kind::Sandbox => "Sandbox",
            Kind::Computer => "Computer",
        }
    }

    fn event_prefix(&self) -> &'static str {
        match self.kind {
            Kind::Sandbox => "sandbox",
            Kind::Computer => "computer",
        }
    }

    /// Starts booting: `Creating` or `Starting` now, `Running` after `delay`.
    pub fn boot(&mut self, phase: Phase, delay: Duration) {
        self.phase = phase;
        self.transition_at = Some(Instant::now() + delay);
        self.tick();
    }

    /// Applies a due `Creating`/`Starting` -> `Running` transition.
    pub fn tick(&mut self) {
        if let Some(at) = self.transition_at
            && Instant::now() >= at
            && matches!(self.phase, Phase::Creating | Phase::Starting)
        {
            self.set_running();
        }
    }

    /// Marks the machine running now and records the event.
    pub fn set_running(&mut self) {
        self.transition_at = None;
        self.phase = Phase::Running;
        let now = util::now();
        self.started_at.get_or_insert_with(|| now.clone());
        self.ready_at = Some(now.clone());
        self.updated_at = now.clone();
        self.run_since = Some(Instant::now());
        let name = match self.kind {
            Kind::Sandbox => "sandbox.ready",
            Kind::Computer => "computer.started",
        };
        self.push_event(name, json!({"ready_at": now}));
    }

    /// Ends the current run (stop, pause, destroy).
    pub fn halt(&mut self, phase: Phase) {
        if let Some(since) = self.run_since.take() {
            self.runtime += since.elapsed();
        }
        self.transition_at = None;
        self.phase = phase;
        self.updated_at = util::now();
        let name = match phase {
            Phase::Paused => "paused",
            Phase::Destroyed => "destroyed",
            _ => "stopped",
        };
        if phase == Phase::Destroyed {
            self.destroyed_at = Some(util::now());
        }
        let name = format!("{}.{name}", self.event_prefix());
        self.push_event(&name, json!({}));
    }

    pub fn total_runtime(&self) -> Duration {
        self.runtime + self.run_since.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// Appends an event; `data` gets the machine id added.
    pub fn push_event(&mut self, name: &str, data: Value) {
        let mut data = util::obj(data);
        let key = match self.kind {
            Kind::Sandbox => "sandbox_id",
            Kind::Computer => "computer_id",
        };
        data.insert(key.into(), json!(self.id));
        data.insert("at".into(), json!(util::now()));
        let seq = self.events.last().map_or(1, |e| e.seq + 1);
        self.events.push(Event {
            seq,
            name: name.to_owned(),
            data: Value::Object(data),
        });
    }

    /// Records a sandbox-prefixed event such as `sandbox.exec.completed`.
    pub fn note(&mut self, what: &str, data: Value) {
        let name = format!("{}.{what}", self.event_prefix());
        self.push_event(&name, data);
        self.updated_at = util::now();
    }

    pub fn state_str(&self) -> &'static str {
        match (self.kind, self.phase) {
            (_, Phase::Creating) => "creating",
            (Kind::Sandbox, Phase::Starting) => "resuming",
            (Kind::Computer, Phase::Starting) => "starting",
            (_, Phase::Running) => "running",
            (_, Phase::Stopped) => "stopped",
            (_, Phase::Paused) => "paused",
            (_, Phase::Destroyed) => "destroyed",
        }
    }

    pub fn size(&self) -> String {
        self.attrs
            .get("size")
            .and_then(Value::as_str)
            .unwrap_or("small")
            .to_owned()
    }

    pub fn tags(&self) -> Vec<Value> {
        self.attrs
            .get("tags")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// Environment for commands: the machine's variables.
    pub fn env_pairs(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    fn base_view(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.extend(self.attrs.clone());
        // Simulated desktop state is internal, not part of the resource.
        m.remove("desktop");
        let (cpu, mem, disk) = contract(&self.size());
        for (k, v) in [
            ("cpu_count", cpu),
            ("memory_mb", mem),
            ("disk_size_mb", disk),
        ] {
            m.entry(k).or_insert(json!(v));
        }
        m.insert("tenant_id".into(), json!(TENANT_ID));
        m
    }

    /// The sandbox JSON (PROTOCOL fixtures/sandbox.json).
    pub fn sandbox_view(&self) -> Value {
        let mut m = self.base_view();
        let size = self.size();
        let (cpu, mem, disk) = contract(&size);
        m.insert("state".into(), json!(self.state_str()));
        m.insert("ready".into(), json!(self.phase == Phase::Running));
        m.insert(
            "resource_contract".into(),
            json!({
                "id": format!("sandbox/{size}@v1"), "version": "v1", "product": "sandbox",
                "size": size, "vcpus": cpu, "memory_mb": mem, "disk_size_mb": disk,
            }),
        );
        let timeout = self
            .attrs
            .get("timeout_sec")
            .and_then(Value::as_i64)
            .unwrap_or(3600);
        let used = i64::try_from(self.total_runtime().as_millis()).unwrap_or(0);
        m.insert(
            "timeout_remaining_ms".into(),
            json!((timeout * 1000 - used).max(0)),
        );
        m.entry("timeout_sec").or_insert(json!(timeout));
        m.entry("boot_path").or_insert(json!("warm_pool"));
        m.entry("boot_ms").or_insert(json!(0));
        m.insert(
            "preview_url".into(),
            json!(format!("https://{}.sandbox.miosa.app", self.id)),
        );
        m.insert("preview_domain".into(), json!("miosa.app"));
        m.insert("created_at".into(), json!(self.created_at));
        m.insert("updated_at".into(), json!(self.updated_at));
        m.insert("started_at".into(), json!(self.started_at));
        m.insert("ready_at".into(), json!(self.ready_at));
        m.insert("destroyed_at".into(), json!(self.destroyed_at));
        m.insert(
            "total_runtime_sec".into(),
            json!(self.total_runtime().as_secs()),
        );
        Value::Object(m)
    }

    /// The computer JSON (PROTOCOL fixtures/computer.json); also used for a
    /// sandbox addressed through `/computers/{id}`.
    pub fn computer_view(&self) -> Value {
        let mut m = self.base_view();
        if self.kind == Kind::Sandbox
            && let Some(t) = self.attrs.get("template_id").cloned()
        {
            m.insert("template_type".into(), t);
        }
        m.insert("status".into(), json!(self.state_str()));
        let ip = (self.phase == Phase::Running).then_some("10.0.0.2");
        m.insert("ip_address".into(), json!(ip));
        m.insert("preview_domain".into(), json!("miosa.app"));
        m.insert("created_at".into(), json!(self.created_at));
        m.insert("updated_at".into(), json!(self.updated_at));
        Value::Object(m)
    }

    pub fn view(&self) -> Value {
        match self.kind {
            Kind::Sandbox => self.sandbox_view(),
            Kind::Computer => self.computer_view(),
        }
    }
}

/// vCPUs, memory MiB and disk MiB of a named size (PROTOCOL §16).
pub fn contract(size: &str) -> (i64, i64, i64) {
    match size {
        "xs" => (1, 2048, 10240),
        "medium" => (4, 8192, 20480),
        "large" => (8, 16384, 40960),
        "xl" | "xlarge" => (16, 32768, 81920),
        _ => (2, 4096, 10240),
    }
}

pub const SIZES: [&str; 6] = ["xs", "small", "medium", "large", "xl", "xlarge"];

/// A snapshot of a machine's directory (sandbox or computer snapshot).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub id: String,
    pub owner: String,
    pub dir: PathBuf,
    pub rec: Map<String, Value>,
}

/// A stored object of a bucket.
#[derive(Debug, Clone)]
pub struct Object {
    pub bucket_id: String,
    pub key: String,
    pub content_type: String,
    pub bytes: bytes::Bytes,
    pub updated_at: String,
}

impl Object {
    pub fn view(&self) -> Value {
        use sha2::Digest;
        let etag = hex::encode(sha2::Sha256::digest(&self.bytes));
        json!({
            "bucket_id": self.bucket_id, "key": self.key, "size": self.bytes.len(),
            "content_type": self.content_type, "etag": &etag[..32], "updated_at": self.updated_at,
        })
    }
}

/// Everything the emulator remembers.
#[derive(Debug, Default)]
pub struct Store {
    pub machines: Vec<Machine>,
    pub snapshots: Vec<Snapshot>,
    pub webhooks: Records,
    pub webhook_secrets: HashMap<String, String>,
    pub deliveries: Vec<Value>,
    pub api_keys: Records,
    /// Plaintext token -> api key id, so created keys authenticate.
    pub api_key_tokens: HashMap<String, String>,
    pub templates: Records,
    pub deployments: Records,
    pub versions: Records,
    pub databases: Records,
    pub buckets: Records,
    pub objects: Vec<Object>,
    pub volumes: Records,
    pub attachments: Records,
    pub sessions: Records,
    pub workspaces: Records,
    /// Keyed by `"{workspace_id}/{user_id}"`.
    pub members: Records,
    pub ws_invites: Records,
    pub org_invites: Records,
    pub tenants: Records,
    /// Keyed by external user id.
    pub quotas: Records,
    pub tenant: Map<String, Value>,
    pub branding: Map<String, Value>,
    pub preview_domain: Map<String, Value>,
    pub credits: i64,
    pub transactions: Vec<Value>,
    pub audit: Vec<Value>,
    pub audit_seq: u64,
    /// Resources created, by kind, since the last reset (fixtures excluded).
    pub created: BTreeMap<String, u64>,
    pub exec_count: u64,
    pub ai_tokens: u64,
    /// Machines left in the warm pool for `fail_fast` creates.
    pub warm_ready: u64,
    /// Builds of sandbox templates; their status follows their age.
    pub template_builds: Records,
    /// Custom domains of deployments.
    pub domains: Records,
}

impl Store {
    /// Counts one created resource of `kind` for `GET /_emulator/stats`.
    pub fn count(&mut self, kind: &str) {
        *self.created.entry(kind.to_owned()).or_default() += 1;
    }

    fn machine_pos(&self, id: &str) -> Option<usize> {
        self.machines.iter().position(|m| m.id == id)
    }

    /// A live sandbox (not a computer), with due transitions applied.
    pub fn sandbox(&mut self, id: &str) -> ApiResult<&mut Machine> {
        let pos = self
            .machine_pos(id)
            .filter(|&i| {
                self.machines[i].kind == Kind::Sandbox && self.machines[i].phase != Phase::Destroyed
            })
            .ok_or_else(|| ApiError::not_found("Sandbox"))?;
        let m = &mut self.machines[pos];
        m.tick();
        Ok(m)
    }

    /// A computer, or a sandbox addressed as one; destroyed computers stay
    /// visible with status `destroyed`.
    pub fn computer(&mut self, id: &str) -> ApiResult<&mut Machine> {
        let pos = self
            .machine_pos(id)
            .filter(|&i| {
                self.machines[i].kind == Kind::Computer
                    || self.machines[i].phase != Phase::Destroyed
            })
            .ok_or_else(|| ApiError::not_found("Computer"))?;
        let m = &mut self.machines[pos];
        m.tick();
        Ok(m)
    }

    pub fn remove_machine(&mut self, id: &str) -> Option<Machine> {
        let pos = self.machine_pos(id)?;
        Some(self.machines.remove(pos))
    }

    /// Takes `amount` credits for a billable action; 402 when the balance is
    /// exhausted.
    pub fn debit(&mut self, amount: i64, description: &str) -> ApiResult<()> {
        if self.credits < amount.max(1) {
            return Err(ApiError::insufficient_credits());
        }
        self.credits -= amount;
        self.transactions.push(json!({
            "id": util::new_id("txn"), "amount": -amount, "type": "debit",
            "description": description, "created_at": util::now(),
        }));
        Ok(())
    }

    pub fn snapshot(&self, id: &str) -> ApiResult<&Snapshot> {
        self.snapshots
            .iter()
            .find(|s| s.id == id && s.rec.get("status") != Some(&json!("deleted")))
            .ok_or_else(|| ApiError::not_found("Snapshot"))
    }
}
