//! Request ids and raw responses of calls, a client's own logger, and
//! streamed transfers between sandbox files and local paths: thin
//! conversions over the core's `Client::with_response`, `with_log_sink` and
//! `download_to_path` / `upload_from_path`.

use std::sync::Arc;

use miosa::{LogLevel, LogRecord, LogSink, Progress, ResponseMeta};
use napi::bindgen_prelude::{Buffer, Either, FnArgs, Function};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

/// A call's answer with the response it came from. `status` and `headers`
/// are filled only when the caller asked for the raw response.
#[napi(object)]
pub struct CallReply {
    /// JSON text, or bytes.
    pub value: Either<String, Buffer>,
    /// The server's `x-request-id`, when it sent one.
    pub request_id: Option<String>,
    /// The HTTP status.
    pub status: Option<u32>,
    /// The response headers as `[name, value, name, value, ...]`, names in lower case.
    pub headers: Option<Vec<String>>,
}

impl std::fmt::Debug for CallReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallReply")
            .field("request_id", &self.request_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl CallReply {
    pub(crate) fn new(value: Either<String, Buffer>, response: ResponseMeta, raw: bool) -> Self {
        if !raw {
            return Self {
                value,
                request_id: response.request_id,
                status: None,
                headers: None,
            };
        }
        let headers = response
            .headers
            .into_iter()
            .flat_map(|(name, text)| [name, text])
            .collect();
        Self {
            value,
            request_id: response.request_id,
            status: Some(u32::from(response.status)),
            headers: Some(headers),
        }
    }
}

/// Calls JavaScript with one JSON text; weak, so a logger never keeps the process alive.
type TextCallback = ThreadsafeFunction<String, (), String, napi::Status, false, true>;

/// A client's logger: records at or above `level` go to a JavaScript function.
#[derive(Clone)]
pub(crate) struct Logger {
    level: LogLevel,
    sink: LogSink,
}

impl Logger {
    /// `None` for the level `off`.
    pub(crate) fn new(
        level: &str,
        handler: &Function<'_, String, ()>,
    ) -> napi::Result<Option<Self>> {
        let Some(level) = LogLevel::parse(level).map_err(|e| crate::errors::to_napi(&e))? else {
            return Ok(None);
        };
        let callback: TextCallback = handler
            .build_threadsafe_function::<String>()
            .callee_handled::<false>()
            .weak::<true>()
            .build()?;
        let callback = Arc::new(callback);
        let sink: LogSink = Arc::new(move |record: &LogRecord| {
            // Non-blocking: the I/O thread never waits for the event loop.
            callback.call(record_json(record), ThreadsafeFunctionCallMode::NonBlocking);
        });
        Ok(Some(Self { level, sink }))
    }

    /// Runs `call` with this logger receiving its records.
    pub(crate) async fn scope<F: Future>(logger: Option<Self>, call: F) -> F::Output {
        match logger {
            Some(Self { level, sink }) => miosa::with_log_sink(level, sink, call).await,
            None => call.await,
        }
    }
}

/// The fields of a record as JSON: never a key, token, query or body (the route is the path template).
fn record_json(record: &LogRecord) -> String {
    serde_json::json!({
        "level": record.level.as_str(),
        "message": record.to_string(),
        "method": record.method,
        "route": record.route,
        "status": record.status,
        "attempt": record.attempt,
        "duration_ms": record.duration.as_secs_f64() * 1000.0,
        "request_id": record.request_id,
        "error": record.error,
    })
    .to_string()
}

/// The arguments of a JavaScript progress callback: `(done, total)`.
pub(crate) type ProgressArgs = FnArgs<(f64, Option<f64>)>;
/// A JavaScript progress callback.
pub(crate) type ProgressFunction<'a> = Function<'a, ProgressArgs, ()>;

/// Calls JavaScript with `(done, total)`.
type ProgressCallback =
    ThreadsafeFunction<ProgressArgs, (), ProgressArgs, napi::Status, false, true>;

/// A core progress callback calling `handler(done, total)` on the JavaScript thread.
/// Built before the call's Promise so that the last report arrives before it settles.
pub(crate) fn progress(handler: Option<&ProgressFunction<'_>>) -> napi::Result<Option<Progress>> {
    let Some(handler) = handler else {
        return Ok(None);
    };
    let callback: ProgressCallback = handler
        .build_threadsafe_function::<ProgressArgs>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    let callback = Arc::new(callback);
    Ok(Some(Arc::new(move |done: u64, total: Option<u64>| {
        // Byte counts stay exact in a double up to 2^53.
        #[allow(clippy::cast_precision_loss)]
        let args = (done as f64, total.map(|t| t as f64));
        callback.call(args.into(), ThreadsafeFunctionCallMode::NonBlocking);
    })))
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}
