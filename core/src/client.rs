//! The client handle: owns a tokio runtime and a pooled HTTP client, so its
//! futures can be awaited from any executor (asyncio, Node, Kotlin, Swift) and
//! its blocking calls work from threads with no executor at all.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::task::JoinHandle;

use crate::cancel::CancelToken;
use crate::config::{ClientBuilder, Config, RedactedHeaders};
use crate::decode::Output;
use crate::dispatch;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::OpSpec;
use crate::pagination::Pager;
use crate::request::Arg;
use crate::transport::{Engine, Shared, Transport, ensure_may_block};

/// Per-call additions: headers, query and body fields the table lacks, and a timeout.
/// An `Idempotency-Key` header here becomes the call's key (sent once, reused by retries).
#[derive(Clone, Default, PartialEq)]
pub struct RequestOptions {
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Extra query parameters.
    pub query: Map<String, Value>,
    /// Extra JSON body fields (merged over the call's own).
    pub body: Map<String, Value>,
    /// Per-attempt timeout, replacing the client's `timeout` for this call.
    pub timeout: Option<Duration>,
    /// Cap on this call's buffered JSON body, replacing the client's `max_response_bytes`.
    pub max_response_bytes: Option<u64>,
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestOptions")
            .field("headers", &RedactedHeaders(&self.headers))
            .field("query", &self.query)
            .field("body", &self.body)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl RequestOptions {
    /// Empty options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.query.insert(name.into(), value.into());
        self
    }
    /// Adds a body field.
    pub fn body_field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.body.insert(name.into(), value.into());
        self
    }
    /// Sets the per-attempt timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// These options with `other`'s laid over them.
    pub fn merged(&self, other: &RequestOptions) -> RequestOptions {
        let mut out = self.clone();
        out.headers.extend(other.headers.iter().cloned());
        out.query
            .extend(other.query.iter().map(|(k, v)| (k.clone(), v.clone())));
        out.body
            .extend(other.body.iter().map(|(k, v)| (k.clone(), v.clone())));
        out.timeout = other.timeout.or(self.timeout);
        out.max_response_bytes = other.max_response_bytes.or(self.max_response_bytes);
        out
    }

    fn validate(&self) -> Result<()> {
        self.headers.iter().try_for_each(|(name, value)| {
            crate::settings::validate_header("extra_headers", name, value)
        })?;
        if self.timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid("invalid `timeout`: must be positive"));
        }
        if self.max_response_bytes == Some(0) {
            return Err(Error::invalid(
                "invalid `max_response_bytes`: must be positive",
            ));
        }
        Ok(())
    }
}

/// A MIOSA API client. Cheap to clone (clones share the runtime and pool), `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    pub(crate) defaults: Arc<RequestOptions>,
    /// When set, every call of this handle ends as cancelled once it fires.
    cancel: Option<CancelToken>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field(
                "base_url",
                &crate::redact::url(&self.shared.config.base_url),
            )
            .field("api_key", &self.shared.config.api_key)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `api_key` with the default options.
    pub fn new(api_key: impl Into<String>) -> Result<Self> {
        Self::builder(api_key).build()
    }

    /// A builder with the seed's options (base URL, timeouts, retry, headers).
    pub fn builder(api_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(api_key)
    }

    /// A client from `MIOSA_API_KEY` and, when set, `MIOSA_BASE_URL`.
    pub fn from_env() -> Result<Self> {
        ClientBuilder::from_env().build()
    }

    /// A client from plain values (see [`Config::from_input`]): the entry point of every binding.
    pub fn from_input(
        settings: &crate::settings::Input,
        dialect: crate::settings::Dialect,
    ) -> Result<Self> {
        Self::from_config(Config::from_input(
            settings,
            dialect,
            &crate::settings::process_env,
        )?)
    }

    pub(crate) fn from_config(config: Config) -> Result<Self> {
        Ok(Self {
            shared: Arc::new(Shared::new(config)?),
            defaults: Arc::new(RequestOptions::default()),
            cancel: None,
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// A handle sharing this client's pool whose calls all carry `options`.
    pub fn with_options(&self, options: RequestOptions) -> Result<Self> {
        options.validate()?;
        Ok(Self {
            shared: Arc::clone(&self.shared),
            defaults: Arc::new(self.defaults.merged(&options)),
            cancel: self.cancel.clone(),
        })
    }

    /// A handle sharing this client's pool whose calls (blocking or async)
    /// all end with [`ErrorKind::Cancelled`] once `token` is cancelled, from any thread.
    pub fn with_cancel(&self, token: CancelToken) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            defaults: Arc::clone(&self.defaults),
            cancel: Some(token),
        }
    }

    /// The cancel token this handle's calls watch, if any.
    pub fn cancel_token(&self) -> Option<&CancelToken> {
        self.cancel.as_ref()
    }

    /// The per-call options this handle adds.
    pub fn options(&self) -> &RequestOptions {
        &self.defaults
    }

    /// The engine of the current process, rebuilt when the process is a fork child.
    pub(crate) fn engine(&self) -> Result<Arc<Engine>> {
        self.shared.engine()
    }

    /// What sends this handle's requests in the current process.
    pub(crate) fn transport(&self) -> Result<Transport> {
        Transport::new(&self.shared)
    }

    /// Runs `fut` on the client's runtime. The returned future can be polled by
    /// any executor; dropping it aborts the work.
    pub fn spawn<T, F>(&self, fut: F) -> Task<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        // Moved by pointer from here on: the wrappers below and the task would
        // each copy a large future otherwise.
        let fut = Box::pin(fut);
        let cancel = self.cancel.clone();
        // A caller collecting the raw response (`with_response`) sees this task's responses too.
        let raw_slot = crate::raw::current_slot();
        let fut = crate::raw::in_slot(raw_slot, async move {
            match cancel {
                Some(token) => token.run(fut).await,
                None => fut.await,
            }
        });
        // So does a client's own logger (`log::with_log_sink`).
        let fut = crate::log::in_scope(crate::log::current_scope(), fut);
        match self.engine() {
            Ok(engine) => Task {
                inner: TaskInner::Running(engine.handle().spawn(fut)),
            },
            Err(err) => Task {
                inner: TaskInner::Failed(Some(err)),
            },
        }
    }

    /// Blocks the calling thread until `fut` completes on the client's runtime.
    /// Refused with [`ErrorKind::Usage`] inside an async runtime, where blocking would stall it.
    pub fn block_on<T, F>(&self, fut: F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        ensure_may_block()?;
        futures_executor::block_on(self.spawn(fut))
    }

    /// Like [`Client::block_on`], but wakes every `interval` to run `check`; when
    /// `check` fails (e.g. Python saw Ctrl-C) the work is cancelled and its error returned.
    pub fn block_on_interruptible<T, E, F, C>(
        &self,
        fut: F,
        interval: Duration,
        mut check: C,
    ) -> std::result::Result<Result<T>, E>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
        C: FnMut() -> std::result::Result<(), E>,
    {
        if let Err(err) = ensure_may_block() {
            return Ok(Err(err));
        }
        // The task is polled right here and wakes this thread itself: no
        // second task and no channel between the runtime and the caller.
        let mut task = std::pin::pin!(self.spawn(fut));
        let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut last_check = std::time::Instant::now();
        loop {
            if let Poll::Ready(result) = task.as_mut().poll(&mut cx) {
                return Ok(result);
            }
            std::thread::park_timeout(interval);
            if last_check.elapsed() >= interval {
                // Returning drops the task, which aborts the request.
                check()?;
                last_check = std::time::Instant::now();
            }
        }
    }

    /// Calls any operation of the table with positional `args` and keyword `params`.
    pub async fn invoke(
        &self,
        op: &'static OpSpec,
        args: Vec<Arg>,
        params: Map<String, Value>,
    ) -> Result<Output> {
        let client = self.clone();
        // Boxed: a dispatch future holds the state of every kind of answer (tens
        // of kB), and the future of `invoke`, which bindings move into their own
        // wrappers, would hold it inline (`spawn` boxes what it is given).
        let work = Box::pin(async move { dispatch::invoke(&client, op, args, params).await });
        // Already on one of the client's own threads (a task it spawned, as
        // the bindings' calls are): run here, saving a task and a wake-up.
        if self.engine().is_ok_and(|engine| engine.is_current()) {
            return match self.cancel.clone() {
                Some(token) => token.run(work).await,
                None => work.await,
            };
        }
        self.spawn(work).await
    }

    /// Blocking form of [`Client::invoke`].
    pub fn invoke_blocking(
        &self,
        op: &'static OpSpec,
        args: Vec<Arg>,
        params: Map<String, Value>,
    ) -> Result<Output> {
        let client = self.clone();
        self.block_on(async move { dispatch::invoke(&client, op, args, params).await })
    }

    /// A lazy iterator over every item of a paginated operation, following cursors.
    pub fn pager<T: serde::de::DeserializeOwned>(
        &self,
        op: &'static OpSpec,
        args: Vec<Arg>,
        params: Map<String, Value>,
    ) -> Result<Pager<T>> {
        let client = self.clone();
        let fetch = move |params: Map<String, Value>| {
            let client = client.clone();
            let args = args.clone();
            let page: futures_util::future::BoxFuture<'static, Result<crate::Page>> =
                Box::pin(async move { client.invoke(op, args, params).await?.into_page() });
            page
        };
        Pager::new(op, params, Box::new(fetch), self.cancel.clone())
    }

    /// Streams server-sent events from any path of the API (the seed's `Client.stream_sse`).
    pub async fn stream_sse(
        &self,
        path: &str,
        params: Map<String, Value>,
    ) -> Result<crate::EventStream> {
        let op = dispatch::stream_sse_op();
        self.invoke(op, vec![Arg::from(path)], params)
            .await?
            .into_events()
    }

    /// Sends one request to any path and returns the decoded JSON (envelope unwrapped).
    pub async fn request_json(
        &self,
        method: crate::HttpMethod,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let client = self.clone();
        let path = path.to_owned();
        self.spawn(async move { dispatch::raw_json(&client, method, &path, body).await })
            .await
    }

    /// Downloads raw bytes from any path.
    pub async fn request_bytes(&self, path: &str) -> Result<Bytes> {
        let client = self.clone();
        let path = path.to_owned();
        self.spawn(async move { dispatch::raw_bytes(&client, &path).await })
            .await
    }
}

/// Wakes a thread blocked in [`Client::block_on_interruptible`].
struct Unpark(std::thread::Thread);

impl std::task::Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Work running on a client's runtime. Await it anywhere; drop it to cancel.
#[must_use = "a task does nothing useful unless awaited; dropping it cancels the work"]
#[derive(Debug)]
pub struct Task<T> {
    inner: TaskInner<T>,
}

#[derive(Debug)]
enum TaskInner<T> {
    Running(JoinHandle<Result<T>>),
    Failed(Option<Error>),
}

impl<T> Future for Task<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.inner {
            TaskInner::Failed(err) => Poll::Ready(Err(err.take().unwrap_or_else(Error::cancelled))),
            TaskInner::Running(handle) => Pin::new(handle).poll(cx).map(|joined| match joined {
                Ok(result) => result,
                Err(e) if e.is_cancelled() => Err(Error::cancelled()),
                Err(_) => Err(Error::new(
                    ErrorKind::Usage,
                    "internal error: the request task panicked",
                )),
            }),
        }
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if let TaskInner::Running(handle) = &self.inner {
            handle.abort();
        }
    }
}
