//! Maps core errors and Rust panics onto the exception classes of
//! `miosa_native/errors.py`, which own the hierarchy and its attributes.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyTuple;

use crate::convert::json_to_py;

/// `miosa_native.errors._from_native`, looked up once.
static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The fields of one exception, whatever produced it.
pub struct Fields<'a> {
    pub kind: &'a str,
    pub message: &'a str,
    pub status: Option<u16>,
    pub code: Option<&'a str>,
    pub body: Option<&'a serde_json::Value>,
    pub request_id: Option<&'a str>,
    pub retry_after: Option<f64>,
    pub attempts: u32,
}

impl<'a> Fields<'a> {
    fn local(kind: &'a str, message: &'a str) -> Self {
        Self {
            kind,
            message,
            status: None,
            code: None,
            body: None,
            request_id: None,
            retry_after: None,
            attempts: 1,
        }
    }
}

/// Builds the exception instance (not raised) for `fields`.
pub fn exception<'py>(py: Python<'py>, fields: &Fields<'_>) -> PyResult<Bound<'py, PyAny>> {
    let factory = FACTORY.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py
            .import("miosa_native.errors")?
            .getattr("_from_native")?
            .unbind())
    })?;
    let body = match fields.body {
        Some(value) => Some(json_to_py(py, value)?),
        None => None,
    };
    let args = PyTuple::new(
        py,
        [
            fields.kind.into_pyobject(py)?.into_any(),
            fields.message.into_pyobject(py)?.into_any(),
            fields.status.into_pyobject(py)?.into_any(),
            fields.code.into_pyobject(py)?.into_any(),
            body.into_pyobject(py)?.into_any(),
            fields.request_id.into_pyobject(py)?.into_any(),
            fields.retry_after.into_pyobject(py)?.into_any(),
            fields.attempts.into_pyobject(py)?.into_any(),
        ],
    )?;
    factory.bind(py).call1(args)
}

fn raise(fields: &Fields<'_>) -> PyErr {
    Python::attach(|py| match exception(py, fields) {
        Ok(exc) => PyErr::from_value(exc),
        // The package is broken (errors.py missing); still say what failed.
        Err(err) => PyRuntimeError::new_err(format!("{} ({err})", fields.message)),
    })
}

/// The Python exception for a core error.
pub fn from_core(err: &miosa::Error) -> PyErr {
    let retry_after = err.retry_after().map(|d| d.as_secs_f64());
    raise(&Fields {
        kind: err.kind().as_str(),
        message: err.message(),
        status: err.status(),
        code: err.code(),
        body: err.body(),
        request_id: err.request_id(),
        retry_after,
        attempts: err.attempts(),
    })
}

/// `InvalidArgumentError` (also a `ValueError` and `TypeError`).
pub fn invalid(message: impl AsRef<str>) -> PyErr {
    raise(&Fields::local("invalid_argument", message.as_ref()))
}

/// `UsageError`: the call cannot run in this state (e.g. a closed client).
pub fn usage(message: impl AsRef<str>) -> PyErr {
    raise(&Fields::local("usage", message.as_ref()))
}

/// `WebhookVerificationError` with the core's code for a refused delivery,
/// `InvalidArgumentError` for the caller's own unusable input.
pub fn webhook(err: miosa::webhooks::WebhookError) -> PyErr {
    let message = err.to_string();
    if !err.is_verification_failure() {
        return invalid(message);
    }
    raise(&Fields {
        code: Some(err.code()),
        ..Fields::local("webhook_verification", &message)
    })
}

fn panic_error(payload: &(dyn Any + Send)) -> PyErr {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    raise(&Fields::local(
        "internal",
        &format!("internal error in miosa_native: {detail}"),
    ))
}

/// Runs a binding entry point so that a panic becomes `MiosaError`, never pyo3's
/// `PanicException` (a `BaseException` that `except Exception` would miss).
pub fn guard<T>(body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    std::panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|p| Err(panic_error(&*p)))
}

/// [`guard`] for the futures behind `async` methods.
pub async fn guard_async<T>(body: impl Future<Output = PyResult<T>>) -> PyResult<T> {
    AssertUnwindSafe(body)
        .catch_unwind()
        .await
        .unwrap_or_else(|p| Err(panic_error(&*p)))
}

/// The exception the core builds for a non-success response (for the shared error vectors).
#[pyfunction]
#[pyo3(signature = (status, body, request_id=None, retry_after=None))]
pub fn error_from_response<'py>(
    py: Python<'py>,
    status: u16,
    body: &[u8],
    request_id: Option<&str>,
    retry_after: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let retry_after = retry_after
            .map(|s| crate::convert::duration("retry_after", s))
            .transpose()?;
        let err = miosa::Error::from_response(status, request_id, retry_after, body);
        let retry_after = err.retry_after().map(|d| d.as_secs_f64());
        exception(
            py,
            &Fields {
                kind: err.kind().as_str(),
                message: err.message(),
                status: err.status(),
                code: err.code(),
                body: err.body(),
                request_id: err.request_id(),
                retry_after,
                attempts: err.attempts(),
            },
        )
    })
}
