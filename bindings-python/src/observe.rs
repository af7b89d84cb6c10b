//! Raw responses, log forwarding and path transfers: thin conversions over
//! the core's `Client::with_response`, log sink and streamed transfers.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::client::{NativeClient, Prepared, block, output_to_py, wrap_json};
use crate::convert::{CallOptions, json_to_py};
use crate::errors::{from_core, guard, guard_async};
use crate::shutdown::{Guarded, finalizing};

/// Sets `_request_id` on a model that came back from a call.
pub fn attach_request_id(
    py: Python<'_>,
    value: &Py<PyAny>,
    response: &miosa::ResponseMeta,
) -> PyResult<()> {
    let Some(id) = &response.request_id else {
        return Ok(());
    };
    let value = value.bind(py);
    if value.hasattr(pyo3::intern!(py, "_request_id"))? {
        // Models are read-only to users; the binding sets the slot directly.
        py.import("builtins")?
            .getattr("object")?
            .call_method1("__setattr__", (value, "_request_id", id))?;
    }
    Ok(())
}

/// `(value, status, headers, request_id)` for the Python `RawResponse`.
fn raw_tuple<'py>(
    py: Python<'py>,
    value: Py<PyAny>,
    response: &miosa::ResponseMeta,
) -> PyResult<Bound<'py, PyTuple>> {
    let headers = PyList::empty(py);
    for (name, text) in &response.headers {
        headers.append((name, text))?;
    }
    PyTuple::new(
        py,
        [
            value.into_bound(py),
            response.status.into_pyobject(py)?.into_any(),
            headers.into_any(),
            response.request_id.clone().into_pyobject(py)?.into_any(),
        ],
    )
}

/// Like `NativeClient.call`, returning `(value, status, headers, request_id)`.
#[pyfunction]
#[pyo3(signature = (
    native, op, args, params=None, extra_headers=None, extra_query=None, extra_body=None,
    timeout=None, max_response_bytes=None, wrap=None
))]
#[allow(clippy::too_many_arguments)]
pub fn call_raw<'py>(
    py: Python<'py>,
    native: &NativeClient,
    op: &str,
    args: &Bound<'py, PyTuple>,
    params: Option<&Bound<'py, PyDict>>,
    extra_headers: Option<&Bound<'py, PyAny>>,
    extra_query: Option<&Bound<'py, PyAny>>,
    extra_body: Option<&Bound<'py, PyAny>>,
    timeout: Option<&Bound<'py, PyAny>>,
    max_response_bytes: Option<&Bound<'py, PyAny>>,
    wrap: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    guard(|| {
        let Prepared {
            client,
            op,
            args,
            params,
        } = native.prepare(
            op,
            args,
            params,
            &CallOptions {
                extra_headers,
                extra_query,
                extra_body,
                timeout,
                max_response_bytes,
            },
        )?;
        let (output, response) = block(py, client.with_response(client.invoke(op, args, params)))?;
        let value = output_to_py(py, output, wrap)?;
        attach_request_id(py, &value, &response)?;
        raw_tuple(py, value, &response)
    })
}

/// Awaitable form of `call_raw`.
#[pyfunction]
#[pyo3(signature = (
    native, op, args, params=None, extra_headers=None, extra_query=None, extra_body=None,
    timeout=None, max_response_bytes=None, wrap=None
))]
#[allow(clippy::too_many_arguments)]
pub async fn acall_raw(
    native: Py<NativeClient>,
    op: Py<PyString>,
    args: Py<PyTuple>,
    params: Option<Py<PyDict>>,
    extra_headers: Option<Py<PyAny>>,
    extra_query: Option<Py<PyAny>>,
    extra_body: Option<Py<PyAny>>,
    timeout: Option<Py<PyAny>>,
    max_response_bytes: Option<Py<PyAny>>,
    wrap: Option<Py<PyAny>>,
) -> PyResult<Py<PyTuple>> {
    guard_async(async move {
        let Prepared {
            client,
            op,
            args,
            params,
        } = Python::attach(|py| {
            native.get().prepare(
                &op.bind(py).to_cow()?,
                args.bind(py),
                params.as_ref().map(|p| p.bind(py)),
                &CallOptions {
                    extra_headers: extra_headers.as_ref().map(|p| p.bind(py)),
                    extra_query: extra_query.as_ref().map(|p| p.bind(py)),
                    extra_body: extra_body.as_ref().map(|p| p.bind(py)),
                    timeout: timeout.as_ref().map(|p| p.bind(py)),
                    max_response_bytes: max_response_bytes.as_ref().map(|p| p.bind(py)),
                },
            )
        })?;
        let (output, response) =
            Guarded::new(client.with_response(client.invoke(op, args, params)))
                .await
                .map_err(|e| from_core(&e))?;
        Python::attach(|py| {
            let value = output_to_py(py, output, wrap.as_ref().map(|w| w.bind(py)))?;
            attach_request_id(py, &value, &response)?;
            Ok(raw_tuple(py, value, &response)?.unbind())
        })
    })
    .await
}

/// A core progress callback calling `callback(done, total)` with the GIL held.
/// An exception in it is reported as unraisable; the transfer goes on.
fn progress(callback: Option<Py<PyAny>>) -> Option<miosa::Progress> {
    let callback = Arc::new(callback?);
    Some(Arc::new(move |done: u64, total: Option<u64>| {
        if finalizing() {
            return;
        }
        Python::attach(|py| {
            if let Err(err) = callback.call1(py, (done, total)) {
                err.write_unraisable(py, Some(callback.bind(py)));
            }
        });
    }))
}

/// Downloads a sandbox file into a local path; returns the byte count.
#[pyfunction]
#[pyo3(signature = (native, sandbox_id, remote_path, local_path, on_progress=None))]
pub fn download_to_path(
    py: Python<'_>,
    native: &NativeClient,
    sandbox_id: &str,
    remote_path: &str,
    local_path: PathBuf,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<u64> {
    guard(|| {
        let client = native.client()?;
        block(
            py,
            client.download_to_path(sandbox_id, remote_path, local_path, progress(on_progress)),
        )
    })
}

/// Awaitable form of `download_to_path`.
#[pyfunction]
#[pyo3(signature = (native, sandbox_id, remote_path, local_path, on_progress=None))]
pub async fn adownload_to_path(
    native: Py<NativeClient>,
    sandbox_id: String,
    remote_path: String,
    local_path: PathBuf,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<u64> {
    guard_async(async move {
        let client = native.get().client()?;
        Guarded::new(client.download_to_path(
            &sandbox_id,
            &remote_path,
            local_path,
            progress(on_progress),
        ))
        .await
        .map_err(|e| from_core(&e))
    })
    .await
}

/// Uploads a local file to a sandbox path; returns the answer wrapped by `wrap`.
#[pyfunction]
#[pyo3(signature = (native, sandbox_id, remote_path, local_path, on_progress=None, wrap=None))]
pub fn upload_from_path<'py>(
    py: Python<'py>,
    native: &NativeClient,
    sandbox_id: &str,
    remote_path: &str,
    local_path: PathBuf,
    on_progress: Option<Py<PyAny>>,
    wrap: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let client = native.client()?;
        let value = block(
            py,
            client.upload_from_path(sandbox_id, remote_path, local_path, progress(on_progress)),
        )?;
        wrap_json(py, &value, wrap)
    })
}

/// Awaitable form of `upload_from_path`.
#[pyfunction]
#[pyo3(signature = (native, sandbox_id, remote_path, local_path, on_progress=None, wrap=None))]
pub async fn aupload_from_path(
    native: Py<NativeClient>,
    sandbox_id: String,
    remote_path: String,
    local_path: PathBuf,
    on_progress: Option<Py<PyAny>>,
    wrap: Option<Py<PyAny>>,
) -> PyResult<Py<PyAny>> {
    guard_async(async move {
        let client = native.get().client()?;
        let value = Guarded::new(client.upload_from_path(
            &sandbox_id,
            &remote_path,
            local_path,
            progress(on_progress),
        ))
        .await
        .map_err(|e| from_core(&e))?;
        Python::attach(|py| Ok(wrap_json(py, &value, wrap.as_ref().map(|w| w.bind(py)))?.unbind()))
    })
    .await
}

/// Sends the core's log records to `handler(level, message, fields)`, or stops with `None`.
/// `enabled(level)`, when given, is asked first, so that a record nobody listens to
/// costs no message, no fields and no second call.
#[pyfunction]
#[pyo3(signature = (handler, enabled=None))]
pub fn set_log_handler(handler: Option<Py<PyAny>>, enabled: Option<Py<PyAny>>) {
    let Some(handler) = handler else {
        miosa::clear_log_sink();
        return;
    };
    miosa::set_log_sink(
        miosa::LogLevel::Debug,
        Arc::new(move |record: &miosa::LogRecord| {
            if finalizing() {
                return;
            }
            Python::attach(|py| {
                let sent = (|| -> PyResult<()> {
                    if let Some(enabled) = &enabled
                        && !enabled.call1(py, (record.level.as_str(),))?.is_truthy(py)?
                    {
                        return Ok(());
                    }
                    let fields = json_to_py(
                        py,
                        &serde_json::json!({
                            "method": record.method,
                            "route": record.route,
                            "status": record.status,
                            "attempt": record.attempt,
                            "duration_ms": record.duration.as_secs_f64() * 1000.0,
                            "request_id": record.request_id,
                        }),
                    )?;
                    handler.call1(py, (record.level.as_str(), record.to_string(), fields))?;
                    Ok(())
                })();
                if let Err(err) = sent {
                    err.write_unraisable(py, Some(handler.bind(py)));
                }
            });
        }),
    );
}

pub fn install(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(call_raw, m)?)?;
    m.add_function(wrap_pyfunction!(acall_raw, m)?)?;
    m.add_function(wrap_pyfunction!(download_to_path, m)?)?;
    m.add_function(wrap_pyfunction!(adownload_to_path, m)?)?;
    m.add_function(wrap_pyfunction!(upload_from_path, m)?)?;
    m.add_function(wrap_pyfunction!(aupload_from_path, m)?)?;
    m.add_function(wrap_pyfunction!(set_log_handler, m)?)?;
    Ok(())
}
