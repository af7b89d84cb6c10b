//! Logging: one record per HTTP attempt (method, route template, status,
//! attempt, duration, request id), emitted as a `tracing` event and handed to
//! the sink a binding installs (Python `logging`, a C callback), or written
//! to stderr when `MIOSA_LOG` asks for it. A record never holds the API key,
//! a token, a query string or a body: the route is the table's path template.

use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use crate::error::{Error, Result};

/// The environment variable that turns on logging to stderr (`debug`, `info`, `warn`, `off`).
pub const ENV_LOG: &str = "MIOSA_LOG";

/// How important a record is; a sink receives the records at or above its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Retry waits and other detail.
    Debug,
    /// One record per completed HTTP attempt.
    Info,
    /// Attempts that failed.
    Warn,
}

impl LogLevel {
    /// Parses `debug`, `info` or `warn` (any case); `off` and an empty text give `None`.
    pub fn parse(text: &str) -> Result<Option<Self>> {
        match text.trim().to_ascii_lowercase().as_str() {
            "debug" | "trace" => Ok(Some(Self::Debug)),
            "info" => Ok(Some(Self::Info)),
            "warn" | "warning" | "error" => Ok(Some(Self::Warn)),
            "" | "off" | "none" => Ok(None),
            _ => Err(Error::invalid(format!(
                "invalid `{ENV_LOG}`: expected debug, info, warn or off, got {text:?}"
            ))),
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
        }
    }
}

/// One logged event of the client.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// Importance.
    pub level: LogLevel,
    /// HTTP method.
    pub method: &'static str,
    /// The route: the operation's path template (`/sandboxes/{id}`), never a query string.
    pub route: String,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Which attempt of the call this was (1 for the first).
    pub attempt: u32,
    /// Time from sending to the response head (or the failure).
    pub duration: Duration,
    /// The server's `x-request-id`, when it sent one.
    pub request_id: Option<String>,
    /// For a failed attempt: its error message (already free of secrets).
    pub error: Option<String>,
}

impl fmt::Display for LogRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.route)?;
        match self.status {
            Some(status) => write!(f, " -> {status}")?,
            None => write!(f, " -> no response")?,
        }
        write!(
            f,
            " in {:.1} ms (attempt {})",
            self.duration.as_secs_f64() * 1000.0,
            self.attempt
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " request_id={id}")?;
        }
        if let Some(error) = &self.error {
            write!(f, ": {error}")?;
        }
        Ok(())
    }
}

/// Receives the records at or above its level, on whatever thread made them.
pub type LogSink = Arc<dyn Fn(&LogRecord) + Send + Sync>;

struct Installed {
    level: LogLevel,
    sink: LogSink,
}

static SINK: RwLock<Option<Installed>> = RwLock::new(None);

/// Sends every record at or above `level` to `sink`, for the whole process
/// (replacing any earlier sink and the stderr output of `MIOSA_LOG`).
pub fn set_log_sink(level: LogLevel, sink: LogSink) {
    *SINK
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Installed { level, sink });
}

/// Removes the sink set by [`set_log_sink`]; `MIOSA_LOG` applies again.
pub fn clear_log_sink() {
    *SINK
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
}

/// A sink for the calls run inside [`with_log_sink`], with its level.
#[derive(Clone)]
pub(crate) struct Scoped {
    level: LogLevel,
    sink: LogSink,
}

tokio::task_local! {
    static SCOPED: Scoped;
}

/// Runs `call` (any call of a client) so that its records at or above `level`
/// go to `sink` instead of the process-wide sink or `MIOSA_LOG`'s stderr output.
/// Bindings use it to give each client its own logger: records of two clients
/// never cross, whichever thread makes them.
pub async fn with_log_sink<F: std::future::Future>(
    level: LogLevel,
    sink: LogSink,
    call: F,
) -> F::Output {
    SCOPED.scope(Scoped { level, sink }, call).await
}

/// The scoped sink of the calling task, carried into the tasks it spawns.
pub(crate) fn current_scope() -> Option<Scoped> {
    SCOPED.try_with(Clone::clone).ok()
}

/// Runs `fut` inside `scope`, when there is one.
pub(crate) async fn in_scope<F: std::future::Future>(scope: Option<Scoped>, fut: F) -> F::Output {
    match scope {
        Some(scope) => SCOPED.scope(scope, fut).await,
        None => fut.await,
    }
}

/// The level `MIOSA_LOG` asks for; an unknown value is reported once on stderr and ignored.
fn env_level() -> Option<LogLevel> {
    static LEVEL: OnceLock<Option<LogLevel>> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let text = std::env::var(ENV_LOG).ok()?;
        LogLevel::parse(&text).unwrap_or_else(|err| {
            eprintln!("miosa: {err}");
            None
        })
    })
}

/// Emits `record` as a `tracing` event and to the installed sink (or stderr under `MIOSA_LOG`).
pub(crate) fn emit(record: &LogRecord) {
    let status = record.status.unwrap_or(0);
    let duration_ms = record.duration.as_secs_f64() * 1000.0;
    let request_id = record.request_id.as_deref().unwrap_or("");
    match record.level {
        LogLevel::Debug => {
            tracing::debug!(target: "miosa", method = record.method, route = %record.route, status, attempt = record.attempt, duration_ms, request_id, "{record}")
        }
        LogLevel::Info => {
            tracing::info!(target: "miosa", method = record.method, route = %record.route, status, attempt = record.attempt, duration_ms, request_id, "{record}")
        }
        LogLevel::Warn => {
            tracing::warn!(target: "miosa", method = record.method, route = %record.route, status, attempt = record.attempt, duration_ms, request_id, "{record}")
        }
    }
    if let Some(scoped) = current_scope() {
        if record.level >= scoped.level {
            (scoped.sink)(record);
        }
        return;
    }
    let installed = SINK
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match &*installed {
        Some(Installed { level, sink }) => {
            if record.level >= *level {
                let sink = Arc::clone(sink);
                drop(installed);
                sink(record);
            }
        }
        None => {
            if env_level().is_some_and(|level| record.level >= level) {
                eprintln!("miosa {}: {record}", record.level.as_str());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(
            LogLevel::parse("DEBUG").expect("valid"),
            Some(LogLevel::Debug)
        );
        assert_eq!(
            LogLevel::parse("info").expect("valid"),
            Some(LogLevel::Info)
        );
        assert_eq!(LogLevel::parse("off").expect("valid"), None);
        let err = LogLevel::parse("loud").expect_err("invalid");
        assert!(err.to_string().contains("MIOSA_LOG"), "{err}");
        assert!(LogLevel::Warn > LogLevel::Info && LogLevel::Info > LogLevel::Debug);
    }

    fn record(route: &str, level: LogLevel) -> LogRecord {
        LogRecord {
            level,
            method: "GET",
            route: route.into(),
            status: Some(200),
            attempt: 1,
            duration: Duration::ZERO,
            request_id: None,
            error: None,
        }
    }

    #[tokio::test]
    async fn a_scoped_sink_gets_the_records_of_its_calls_at_its_level() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let into = Arc::clone(&seen);
        let sink: LogSink = Arc::new(move |record: &LogRecord| {
            into.lock()
                .expect("not poisoned")
                .push(record.route.clone());
        });
        with_log_sink(LogLevel::Info, sink, async {
            emit(&record("/inside", LogLevel::Info));
            emit(&record("/detail", LogLevel::Debug));
            // A task spawned inside the scope keeps it when it carries it.
            let scope = current_scope();
            tokio::spawn(in_scope(scope, async {
                emit(&record("/spawned", LogLevel::Warn))
            }))
            .await
            .expect("joined");
        })
        .await;
        emit(&record("/outside", LogLevel::Info));
        assert_eq!(*seen.lock().expect("not poisoned"), ["/inside", "/spawned"]);
    }

    #[test]
    fn a_record_reads_as_one_line() {
        let record = LogRecord {
            level: LogLevel::Info,
            method: "GET",
            route: "/sandboxes/{id}".into(),
            status: Some(200),
            attempt: 1,
            duration: Duration::from_millis(3),
            request_id: Some("req_1".into()),
            error: None,
        };
        assert_eq!(
            record.to_string(),
            "GET /sandboxes/{id} -> 200 in 3.0 ms (attempt 1) request_id=req_1"
        );
    }
}
