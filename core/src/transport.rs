//! Transport: the runtime and connection pool of this process, and sending a
//! [`Prepared`] request under the retry policy, with every body bounded.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::runtime::Runtime;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::HttpMethod;
use crate::request::{Body, BodyLimit, Prepared};
use crate::retry::{self, RetryBudget};

/// The runtime and connection pool of one process. Rebuilt in a child after `fork()`.
pub(crate) struct Engine {
    runtime: Option<Runtime>,
    http: reqwest::Client,
    pid: u32,
    /// Marks this engine's own threads (see [`Engine::is_current`]).
    id: u64,
}

thread_local! {
    /// The id of the engine whose runtime owns this thread (0: none).
    static ENGINE_OF_THREAD: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl Engine {
    fn new(config: &Config) -> Result<Self> {
        // rustls needs a process-wide crypto provider; a second install is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("miosa-io")
            .on_thread_start(move || ENGINE_OF_THREAD.with(|e| e.set(id)))
            .enable_all()
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Usage,
                    format!("cannot start the I/O runtime: {e}"),
                )
            })?;
        let builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .user_agent(crate::user_agent::user_agent());
        #[cfg(target_os = "android")]
        let builder = builder.tls_certs_only(bundled_roots());
        let http = builder
            .build()
            .or_else(|err| http_without_tls(config, &err))?;
        Ok(Self {
            runtime: Some(runtime),
            http,
            pid: std::process::id(),
            id,
        })
    }

    /// Whether the calling thread is one of this engine's and inside its
    /// runtime, so that work can run right here instead of being spawned.
    pub(crate) fn is_current(&self) -> bool {
        ENGINE_OF_THREAD.with(|e| e.get()) == self.id
            && tokio::runtime::Handle::try_current().is_ok()
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        match &self.runtime {
            Some(rt) => rt.handle(),
            None => unreachable!("the runtime is only taken in Drop"),
        }
    }
}

/// The bundled Mozilla root store, used on Android where the platform verifier
/// would first need a JNI initialisation with an application `Context`.
#[cfg(any(target_os = "android", test))]
fn bundled_roots() -> Vec<reqwest::Certificate> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|der| reqwest::Certificate::from_der(der).ok())
        .collect()
}

/// When TLS cannot be set up (a slim container with no CA certificates), a
/// client for a loopback `http://` URL still works; any other says why it cannot.
fn http_without_tls(config: &Config, err: &reqwest::Error) -> Result<reqwest::Client> {
    let cause = crate::error::error_chain(err);
    let loopback_http = reqwest::Url::parse(&config.base_url)
        .is_ok_and(|url| url.scheme() == "http" && crate::settings::is_loopback_url(&url));
    if loopback_http {
        let plain = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .user_agent(crate::user_agent::user_agent())
            .tls_certs_only(Vec::new())
            .build();
        if let Ok(http) = plain {
            return Ok(http);
        }
    }
    Err(Error::new(
        ErrorKind::Usage,
        format!(
            "cannot set up TLS for the HTTP client ({cause}); install the system CA certificates (e.g. the ca-certificates package)"
        ),
    ))
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            if self.pid == std::process::id() {
                // Dropping a runtime inside async code panics; background shutdown never does.
                rt.shutdown_background();
            } else {
                // After fork() the worker threads do not exist in this process: leak, never join.
                std::mem::forget(rt);
            }
        }
    }
}

/// What every handle of one client shares: its settings, its engine and its retry budget.
pub(crate) struct Shared {
    pub(crate) config: Config,
    engine: Mutex<Arc<Engine>>,
    pub(crate) budget: RetryBudget,
}

impl Shared {
    pub(crate) fn new(config: Config) -> Result<Self> {
        let engine = Engine::new(&config)?;
        Ok(Self {
            config,
            engine: Mutex::new(Arc::new(engine)),
            budget: RetryBudget::default(),
        })
    }

    /// The engine of the current process, rebuilt when the process is a fork child.
    pub(crate) fn engine(&self) -> Result<Arc<Engine>> {
        let mut guard = self
            .engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.pid != std::process::id() {
            *guard = Arc::new(Engine::new(&self.config)?);
        }
        Ok(Arc::clone(&guard))
    }
}

/// Sends requests: the client's settings and budget with this process's engine.
#[derive(Clone)]
pub(crate) struct Transport {
    shared: Arc<Shared>,
    engine: Arc<Engine>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").finish_non_exhaustive()
    }
}

impl Transport {
    pub(crate) fn new(shared: &Arc<Shared>) -> Result<Self> {
        Ok(Self {
            engine: shared.engine()?,
            shared: Arc::clone(shared),
        })
    }

    pub(crate) fn config(&self) -> &Config {
        &self.shared.config
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        self.engine.handle()
    }

    /// Builds one attempt's request.
    pub(crate) fn request(
        &self,
        prepared: &Prepared,
        with_timeout: bool,
    ) -> reqwest::RequestBuilder {
        let config = self.config();
        let mut req = self
            .engine
            .http
            .request(prepared.method.to_reqwest(), prepared.url.clone())
            .bearer_auth(config.api_key.expose())
            .header(reqwest::header::ACCEPT, prepared.accept.header());
        for (name, value) in config.headers().iter().chain(&prepared.headers) {
            req = req.header(name.as_str(), value.as_str());
        }
        if let Some(key) = &prepared.idempotency_key {
            req = req.header("Idempotency-Key", key.as_str());
        }
        if with_timeout {
            // reqwest's per-request timeout runs from connecting to the body's last byte.
            req = req.timeout(prepared.timeout);
        }
        match &prepared.body {
            Body::None => req,
            Body::Json(bytes) => req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Body::Raw {
                bytes,
                content_type,
            } => req
                .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                .body(bytes.clone()),
            Body::Multipart(form) => req.multipart(form.form()),
        }
    }

    /// Runs attempts until one succeeds or the policy, the method or the budget says stop.
    pub(crate) async fn with_retries<T, F, Fut>(
        &self,
        prepared: &Prepared,
        mut attempt_fn: F,
    ) -> Result<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let policy = self.config().retry().clone();
        let budget = &self.shared.budget;
        // Read back when the operation timeout cuts the loop short.
        let started = AtomicU32::new(0);
        let last_failure: Mutex<Option<String>> = Mutex::new(None);
        let attempts = async {
            let mut attempt = 1;
            loop {
                started.store(attempt, Ordering::Relaxed);
                match attempt_fn(attempt).await {
                    Ok(value) => {
                        budget.refund();
                        return Ok(value);
                    }
                    Err(err) => {
                        let may_retry = attempt < policy.max_attempts
                            && retry::may_resend(
                                &err,
                                prepared.method,
                                prepared.idempotency_key.is_some(),
                            )
                            && budget.try_acquire(&err);
                        if !may_retry {
                            return Err(err.with_attempts(attempt));
                        }
                        let wait = retry::backoff(&policy, attempt, err.retry_after());
                        crate::log::emit(&crate::log::LogRecord {
                            level: crate::log::LogLevel::Debug,
                            method: prepared.method.as_str(),
                            route: prepared.route.clone(),
                            status: err.status(),
                            attempt,
                            duration: wait,
                            request_id: err.request_id().map(str::to_owned),
                            error: Some(format!("retrying after {} ms", wait.as_millis())),
                        });
                        *last_failure
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) =
                            Some(err.to_string());
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                }
            }
        };
        match self.config().operation_timeout() {
            None => attempts.await,
            Some(limit) => match tokio::time::timeout(limit, attempts).await {
                Ok(result) => result,
                Err(_) => {
                    let attempts = started.load(Ordering::Relaxed).max(1);
                    let last = last_failure
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .take()
                        .map(|e| format!("; last failure: {e}"))
                        .unwrap_or_default();
                    Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "the call did not finish within {} s ({attempts} attempt(s){last})",
                            limit.as_secs_f64()
                        ),
                    )
                    .with_attempts(attempts))
                }
            },
        }
    }

    /// Sends a request and reads its whole body within its limit; non-2xx
    /// statuses become errors.
    pub(crate) async fn send(&self, prepared: &Prepared) -> Result<Bytes> {
        self.with_retries(prepared, |attempt| async move {
            let response = self
                .exchange(prepared, self.request(prepared, true), attempt)
                .await?;
            read_bounded(response, prepared.body_limit).await
        })
        .await
    }

    /// Sends one attempt and waits for its head: logs it, notes it for a raw
    /// response, and turns a non-2xx status into its error.
    pub(crate) async fn exchange(
        &self,
        prepared: &Prepared,
        request: reqwest::RequestBuilder,
        attempt: u32,
    ) -> Result<reqwest::Response> {
        let started = Instant::now();
        let outcome = match request.send().await {
            Ok(response) => {
                crate::raw::record(&response);
                check_status(response).await
            }
            Err(e) => Err(Error::from_reqwest(&e)),
        };
        log_attempt(prepared, attempt, started, &outcome);
        outcome
    }

    /// Opens (or, with `last_event_id`, reopens) a stream's connection:
    /// headers within the attempt timeout, then a non-2xx status becomes its error.
    pub(crate) async fn connect_stream(
        &self,
        prepared: &Prepared,
        last_event_id: Option<&str>,
        attempt: u32,
    ) -> Result<reqwest::Response> {
        let mut req = self.request(prepared, false);
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        tokio::time::timeout(prepared.timeout, self.exchange(prepared, req, attempt))
            .await
            .map_err(|_| {
                let message = if last_event_id.is_some() {
                    "timed out reopening the stream"
                } else {
                    "timed out waiting for the stream to open"
                };
                Error::new(ErrorKind::Timeout, message)
            })?
    }

    /// Whether a stream of this request may be reopened after a cut: always
    /// for reads; a POST/PATCH only under an idempotency key with retries on,
    /// so a reconnect can never run the request twice.
    pub(crate) fn may_reconnect(&self, prepared: &Prepared) -> bool {
        match prepared.method {
            HttpMethod::Get | HttpMethod::Put | HttpMethod::Delete => true,
            HttpMethod::Post | HttpMethod::Patch => {
                self.config().retry().enabled() && prepared.idempotency_key.is_some()
            }
        }
    }
}

/// One log record for an attempt: its status and request id, or why it failed.
fn log_attempt(
    prepared: &Prepared,
    attempt: u32,
    started: Instant,
    outcome: &Result<reqwest::Response>,
) {
    use crate::log::{LogLevel, LogRecord};
    let duration = started.elapsed();
    let record = match outcome {
        Ok(response) => LogRecord {
            level: LogLevel::Info,
            method: prepared.method.as_str(),
            route: prepared.route.clone(),
            status: Some(response.status().as_u16()),
            attempt,
            duration,
            request_id: crate::raw::request_id_of(response.headers()),
            error: None,
        },
        Err(err) => LogRecord {
            level: LogLevel::Warn,
            method: prepared.method.as_str(),
            route: prepared.route.clone(),
            status: err.status(),
            attempt,
            duration,
            request_id: err.request_id().map(str::to_owned),
            error: Some(err.to_string()),
        },
    };
    crate::log::emit(&record);
}

/// Reads a success body, refusing it as soon as it is known to exceed
/// `limit`: from `Content-Length` before reading, else while reading.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: BodyLimit,
) -> Result<Bytes> {
    let over = || Error::limit_exceeded("the response body", limit.setting, limit.bytes);
    let announced = response.content_length();
    if announced.is_some_and(|len| len > limit.bytes) {
        return Err(over());
    }
    // Trust an announced length only up to a modest first allocation.
    let first = announced.unwrap_or(0).min(limit.bytes).min(1 << 20);
    let mut body = BytesMut::with_capacity(usize::try_from(first).unwrap_or(0));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::from_reqwest(&e))?
    {
        let total = body.len() as u64 + chunk.len() as u64;
        if total > limit.bytes {
            return Err(over());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Fails when the current thread runs an async runtime (blocking there would deadlock or panic).
pub(crate) fn ensure_may_block() -> Result<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            ErrorKind::Usage,
            "a blocking call was made from inside an async runtime; await the async method instead",
        ));
    }
    Ok(())
}

const MAX_ERROR_BODY: usize = 1 << 20;

/// Passes 2xx responses through; reads any other into an [`Error`].
pub(crate) async fn check_status(response: reqwest::Response) -> Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let retry_after = retry::parse_retry_after(&headers);
    let mut body = Vec::new();
    let mut response = response;
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ERROR_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    Err(Error::from_response(
        status.as_u16(),
        request_id.as_deref(),
        retry_after,
        &body,
    ))
}

#[cfg(test)]
mod bundled_roots_tests {
    #[test]
    fn the_android_root_store_builds_a_client() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let roots = super::bundled_roots();
        assert!(roots.len() > 100, "only {} roots", roots.len());
        let built = reqwest::Client::builder().tls_certs_only(roots).build();
        assert!(built.is_ok(), "{built:?}");
    }
}
