//! What a program sees of the client's traffic: the HTTP response behind a
//! result (`Client.recordingResponses`, wrapped by Kotlin's and Swift's
//! `withResponse`), the core's per-request log records handed to a foreign
//! handler, path transfers with progress, and the runtime the User-Agent names.
//! All of it is a thin conversion over the core's raw responses, log sink,
//! streamed transfers and `set_runtime`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};

use crate::client::Client;
use crate::errors::MiosaError;

/// One response header.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResponseHeader {
    /// Lower-case header name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// The HTTP response a result came from.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResponseMeta {
    /// HTTP status code.
    pub status: i32,
    /// Response headers in the order received, names in lower case.
    pub headers: Vec<ResponseHeader>,
    /// The server's `x-request-id`, when it sent one.
    pub request_id: Option<String>,
}

impl From<mcore::ResponseMeta> for ResponseMeta {
    fn from(meta: mcore::ResponseMeta) -> Self {
        Self {
            status: meta.status.into(),
            headers: meta
                .headers
                .into_iter()
                .map(|(name, value)| ResponseHeader { name, value })
                .collect(),
            request_id: meta.request_id,
        }
    }
}

/// Holds the response of the latest call made through the client returned by
/// `Client.recordingResponses(recorder)`. Each `withResponse` block makes its
/// own recorder and client, so concurrent blocks never see each other's responses.
#[derive(Debug, Default, uniffi::Object)]
pub struct ResponseRecorder {
    last: Mutex<Option<mcore::ResponseMeta>>,
}

impl ResponseRecorder {
    pub(crate) fn note(&self, response: mcore::ResponseMeta) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(response);
    }
}

#[uniffi::export]
impl ResponseRecorder {
    /// An empty recorder.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// The response of the latest completed call (for a call made of several
    /// requests, its last one); null/nil before any call completed.
    pub fn last(&self) -> Option<ResponseMeta> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .map(ResponseMeta::from)
    }
}

/// How important a log record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    /// Retry waits and other detail.
    Debug,
    /// One record per completed HTTP attempt.
    Info,
    /// Attempts that failed.
    Warn,
}

impl From<LogLevel> for mcore::LogLevel {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Debug => Self::Debug,
            LogLevel::Info => Self::Info,
            LogLevel::Warn => Self::Warn,
        }
    }
}

impl From<mcore::LogLevel> for LogLevel {
    fn from(level: mcore::LogLevel) -> Self {
        match level {
            mcore::LogLevel::Debug => Self::Debug,
            mcore::LogLevel::Info => Self::Info,
            mcore::LogLevel::Warn => Self::Warn,
        }
    }
}

/// One log record of the client: never the API key, a token, a query string or a body.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LogEntry {
    /// Importance.
    pub level: LogLevel,
    /// The whole record as one line, e.g. `GET /sandboxes/{id} -> 200 in 3.0 ms (attempt 1) request_id=req_1`.
    pub message: String,
    /// HTTP method.
    pub method: String,
    /// The operation's path template (`/sandboxes/{id}`).
    pub route: String,
    /// The HTTP status, when a response arrived.
    pub status: Option<i32>,
    /// Which attempt of the call this was (1 for the first).
    pub attempt: i32,
    /// Time from sending to the response head (or the failure), in milliseconds.
    pub duration_ms: f64,
    /// The server's `x-request-id`, when it sent one.
    pub request_id: Option<String>,
    /// For a failed attempt, its error message.
    pub error: Option<String>,
}

impl From<&mcore::LogRecord> for LogEntry {
    fn from(record: &mcore::LogRecord) -> Self {
        Self {
            level: record.level.into(),
            message: record.to_string(),
            method: record.method.to_owned(),
            route: record.route.clone(),
            status: record.status.map(i32::from),
            attempt: i32::try_from(record.attempt).unwrap_or(i32::MAX),
            duration_ms: record.duration.as_secs_f64() * 1000.0,
            request_id: record.request_id.clone(),
            error: record.error.clone(),
        }
    }
}

/// Receives the client's log records; called on the client's I/O threads.
#[uniffi::export(with_foreign)]
pub trait LogHandler: Send + Sync {
    /// One record.
    fn log(&self, entry: LogEntry);
}

/// Sends every record at or above `min_level` to `handler`, for the whole
/// process, replacing any earlier handler and the stderr output of `MIOSA_LOG`.
/// Kotlin installs an SLF4J forwarder by itself when SLF4J is on the classpath.
#[uniffi::export]
pub fn set_log_handler(min_level: LogLevel, handler: Arc<dyn LogHandler>) {
    mcore::set_log_sink(
        min_level.into(),
        Arc::new(move |record: &mcore::LogRecord| {
            let entry = LogEntry::from(record);
            // A handler that throws loses its record, never the request.
            let _ = catch_unwind(AssertUnwindSafe(|| handler.log(entry)));
        }),
    );
}

/// Removes the handler; `MIOSA_LOG` applies again.
#[uniffi::export]
pub fn clear_log_handler() {
    mcore::clear_log_sink();
}

/// Names the language and runtime in the `User-Agent` of clients built from
/// now on, e.g. `kotlin/2.0.21 jvm/17.0.13`; the Kotlin and Swift packages call
/// it themselves before their first client.
#[uniffi::export]
pub fn set_runtime(runtime: String) -> Result<(), MiosaError> {
    Ok(mcore::set_runtime(&runtime)?)
}

/// Told how far a transfer is: `done` bytes so far of `total` (null/nil when
/// the server announced no length). Called on an I/O thread, about once per MiB.
#[uniffi::export(with_foreign)]
pub trait TransferProgress: Send + Sync {
    /// Progress so far.
    fn on_progress(&self, done: i64, total: Option<i64>);
}

fn progress(callback: Option<Arc<dyn TransferProgress>>) -> Option<mcore::Progress> {
    let callback = callback?;
    Some(Arc::new(move |done: u64, total: Option<u64>| {
        let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        // A callback that throws misses this report; the transfer goes on.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            callback.on_progress(signed(done), total.map(signed))
        }));
    }))
}

#[uniffi::export]
impl Client {
    /// A client sharing this one's connections whose calls note the HTTP
    /// response they got in `recorder`. Kotlin's and Swift's `withResponse { }`
    /// make one per block.
    pub fn recording_responses(&self, recorder: Arc<ResponseRecorder>) -> Arc<Client> {
        self.recording(recorder)
    }

    /// Downloads the sandbox file `remote_path` into the local file
    /// `local_path` as it arrives, without holding it in memory (so no
    /// `max_download_bytes` cap); returns the number of bytes written. The
    /// file appears under its name only when complete.
    #[uniffi::method(default(on_progress = None))]
    pub async fn download_to_path(
        &self,
        sandbox_id: String,
        remote_path: String,
        local_path: String,
        on_progress: Option<Arc<dyn TransferProgress>>,
    ) -> Result<i64, MiosaError> {
        let written = self
            .core()
            .download_to_path(&sandbox_id, &remote_path, local_path, progress(on_progress))
            .await?;
        Ok(i64::try_from(written).unwrap_or(i64::MAX))
    }

    /// Uploads the local file `local_path` to the sandbox path `remote_path`,
    /// reading it as it is sent, without holding it in memory.
    #[uniffi::method(default(on_progress = None))]
    pub async fn upload_from_path(
        &self,
        sandbox_id: String,
        remote_path: String,
        local_path: String,
        on_progress: Option<Arc<dyn TransferProgress>>,
    ) -> Result<crate::FileWritten, MiosaError> {
        let value = self
            .core()
            .upload_from_path(&sandbox_id, &remote_path, local_path, progress(on_progress))
            .await?;
        crate::convert::model::<mcore::models::FileWritten, crate::FileWritten>(value)
    }
}
