//! The native client: one generic `call` (blocking, GIL released) and `acall`
//! (awaitable) that reach every operation of the core's table by name.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use crate::convert::{duration, header_pairs, json_to_py, py_to_args, py_to_map, request_options};
use crate::errors::{from_core, guard, guard_async, invalid, usage};
use crate::pager::{NativePager, Page};
use crate::shutdown::Guarded;
use crate::stream::NativeEventStream;

/// How often a blocked call wakes up to let Python handle signals (Ctrl-C).
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Wakes the blocked Python thread when the awaited work makes progress.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `fut` on the calling thread with the GIL released; the core's I/O
/// runs on the client's runtime and wakes this thread directly. Every
/// [`SIGNAL_CHECK_INTERVAL`] Python gets to run its signal handlers: when one
/// raises (Ctrl-C), `fut` is dropped, which aborts the request, and that error
/// is returned. (The core's `block_on_interruptible` does the same through two
/// extra tasks and a channel; polling here saves those thread hops per call.)
pub fn block<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = miosa::Result<T>> + Send,
) -> PyResult<T> {
    let outcome: PyResult<miosa::Result<T>> = py.detach(|| {
        let mut fut = pin!(fut);
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut last_check = Instant::now();
        loop {
            if let Poll::Ready(result) = fut.as_mut().poll(&mut cx) {
                return Ok(result);
            }
            std::thread::park_timeout(SIGNAL_CHECK_INTERVAL);
            if last_check.elapsed() >= SIGNAL_CHECK_INTERVAL {
                Python::attach(|py| py.check_signals())?;
                last_check = Instant::now();
            }
        }
    });
    outcome?.map_err(|e| from_core(&e))
}

fn find_op(name: &str) -> PyResult<&'static miosa::OpSpec> {
    static BY_NAME: OnceLock<HashMap<&'static str, &'static miosa::OpSpec>> = OnceLock::new();
    BY_NAME
        .get_or_init(|| {
            miosa::ops::OPERATIONS
                .iter()
                .map(|op| (op.name, *op))
                .collect()
        })
        .get(name)
        .copied()
        .ok_or_else(|| invalid(format!("unknown operation `{name}`")))
}

/// A call ready to run: the (possibly option-carrying) client, the operation and its values.
struct Prepared {
    client: miosa::Client,
    op: &'static miosa::OpSpec,
    args: Vec<miosa::Arg>,
    params: Map<String, Value>,
}

/// Applies `wrap` (a model class) to an object, or to each object of a list.
pub fn wrap_json<'py>(
    py: Python<'py>,
    value: &Value,
    wrap: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some(wrap) = wrap else {
        return json_to_py(py, value);
    };
    match value {
        Value::Object(_) => wrap.call1((json_to_py(py, value)?,)),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(wrap_json(py, item, Some(wrap))?)?;
            }
            Ok(list.into_any())
        }
        other => json_to_py(py, other),
    }
}

fn output_to_py(
    py: Python<'_>,
    output: miosa::Output,
    wrap: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    Ok(match output {
        miosa::Output::Json(value) => wrap_json(py, &value, wrap)?.unbind(),
        miosa::Output::Bytes(bytes) => PyBytes::new(py, &bytes).into_any().unbind(),
        miosa::Output::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        miosa::Output::Page(page) => Py::new(py, Page::from_core(py, &page, wrap)?)?.into_any(),
        miosa::Output::Events(stream) => Py::new(py, NativeEventStream::new(stream))?.into_any(),
    })
}

/// The handle behind `miosa_native.Client` and `AsyncClient`.
#[pyclass(frozen, module = "miosa_native._native")]
#[derive(Debug)]
pub struct NativeClient {
    inner: RwLock<Option<miosa::Client>>,
}

impl NativeClient {
    fn client(&self) -> PyResult<miosa::Client> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| usage("the client is closed"))
    }

    #[allow(clippy::too_many_arguments)]
    fn prepare(
        &self,
        op: &str,
        args: &Bound<'_, PyTuple>,
        params: Option<&Bound<'_, PyDict>>,
        extra_headers: Option<&Bound<'_, PyDict>>,
        extra_query: Option<&Bound<'_, PyDict>>,
        extra_body: Option<&Bound<'_, PyDict>>,
        timeout: Option<f64>,
    ) -> PyResult<Prepared> {
        let op = find_op(op)?;
        let mut client = self.client()?;
        if let Some(options) = request_options(extra_headers, extra_query, extra_body, timeout)? {
            client = client.with_options(options).map_err(|e| from_core(&e))?;
        }
        Ok(Prepared {
            client,
            op,
            args: py_to_args(args)?,
            params: py_to_map(params)?,
        })
    }
}

#[pymethods]
impl NativeClient {
    #[new]
    #[pyo3(signature = (
        api_key, *, base_url=None, timeout=None, receive_timeout=None, retry=false,
        max_attempts=None, base_delay=None, max_delay=None, headers=None, operation_timeout=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        api_key: &Bound<'_, PyAny>,
        base_url: Option<String>,
        timeout: Option<f64>,
        receive_timeout: Option<f64>,
        retry: bool,
        max_attempts: Option<u32>,
        base_delay: Option<f64>,
        max_delay: Option<f64>,
        headers: Option<&Bound<'_, PyDict>>,
        operation_timeout: Option<f64>,
    ) -> PyResult<Self> {
        guard(|| {
            let key = api_key
                .cast::<PyString>()
                .map_err(|_| invalid("api_key must be a string"))?
                .to_cow()?
                .into_owned();
            let mut builder = miosa::Client::builder(key).retry(retry);
            if let Some(url) = base_url {
                builder = builder.base_url(url);
            }
            if let Some(t) = timeout {
                builder = builder.timeout(duration("timeout", t)?);
            }
            if let Some(t) = receive_timeout {
                builder = builder.receive_timeout(duration("receive_timeout", t)?);
            }
            if let Some(t) = operation_timeout {
                builder = builder.operation_timeout(duration("operation_timeout", t)?);
            }
            if max_attempts.is_some() || base_delay.is_some() || max_delay.is_some() {
                let defaults = miosa::RetryPolicy::default();
                builder = builder.retry_policy(miosa::RetryPolicy {
                    max_attempts: max_attempts.unwrap_or(defaults.max_attempts),
                    base_delay: match base_delay {
                        Some(s) => duration("base_delay", s)?,
                        None => defaults.base_delay,
                    },
                    max_delay: match max_delay {
                        Some(s) => duration("max_delay", s)?,
                        None => defaults.max_delay,
                    },
                });
            }
            if let Some(headers) = headers {
                for (name, value) in header_pairs(headers, "headers")? {
                    builder = builder.header(name, value);
                }
            }
            let client = builder.build().map_err(|e| from_core(&e))?;
            Ok(Self {
                inner: RwLock::new(Some(client)),
            })
        })
    }

    /// A client from `MIOSA_API_KEY` and, when set, `MIOSA_BASE_URL`.
    #[staticmethod]
    fn from_env() -> PyResult<Self> {
        guard(|| {
            let client = miosa::Client::from_env().map_err(|e| from_core(&e))?;
            Ok(Self {
                inner: RwLock::new(Some(client)),
            })
        })
    }

    /// The API root requests go to.
    #[getter]
    fn base_url(&self) -> PyResult<String> {
        guard(|| Ok(self.client()?.config().base_url().to_owned()))
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// Releases this handle; open streams and pagers keep working until dropped.
    fn close(&self) {
        self.inner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// Calls operation `op`, blocking with the GIL released.
    #[pyo3(signature = (
        op, args, params=None, extra_headers=None, extra_query=None, extra_body=None,
        timeout=None, wrap=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        py: Python<'_>,
        op: &str,
        args: &Bound<'_, PyTuple>,
        params: Option<&Bound<'_, PyDict>>,
        extra_headers: Option<&Bound<'_, PyDict>>,
        extra_query: Option<&Bound<'_, PyDict>>,
        extra_body: Option<&Bound<'_, PyDict>>,
        timeout: Option<f64>,
        wrap: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        guard(|| {
            let Prepared {
                client,
                op,
                args,
                params,
            } = self.prepare(
                op,
                args,
                params,
                extra_headers,
                extra_query,
                extra_body,
                timeout,
            )?;
            let output = block(py, client.invoke(op, args, params))?;
            output_to_py(py, output, wrap)
        })
    }

    /// Awaitable form of `call`; cancelling the awaiting task cancels the request.
    #[pyo3(signature = (
        op, args, params=None, extra_headers=None, extra_query=None, extra_body=None,
        timeout=None, wrap=None
    ))]
    #[allow(clippy::too_many_arguments)]
    async fn acall(
        &self,
        op: Py<PyString>,
        args: Py<PyTuple>,
        params: Option<Py<PyDict>>,
        extra_headers: Option<Py<PyDict>>,
        extra_query: Option<Py<PyDict>>,
        extra_body: Option<Py<PyDict>>,
        timeout: Option<f64>,
        wrap: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        guard_async(async move {
            let Prepared {
                client,
                op,
                args,
                params,
            } = Python::attach(|py| {
                self.prepare(
                    &op.bind(py).to_cow()?,
                    args.bind(py),
                    params.as_ref().map(|p| p.bind(py)),
                    extra_headers.as_ref().map(|p| p.bind(py)),
                    extra_query.as_ref().map(|p| p.bind(py)),
                    extra_body.as_ref().map(|p| p.bind(py)),
                    timeout,
                )
            })?;
            // Dropping this future (task cancelled) drops the core's task, which aborts the request.
            let output = Guarded::new(client.invoke(op, args, params))
                .await
                .map_err(|e| from_core(&e))?;
            Python::attach(|py| output_to_py(py, output, wrap.as_ref().map(|w| w.bind(py))))
        })
        .await
    }

    /// A lazy iterator over every item of a paginated operation (sync and async).
    #[pyo3(signature = (
        op, args, params=None, extra_headers=None, extra_query=None, extra_body=None,
        timeout=None, wrap=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn pager(
        &self,
        op: &str,
        args: &Bound<'_, PyTuple>,
        params: Option<&Bound<'_, PyDict>>,
        extra_headers: Option<&Bound<'_, PyDict>>,
        extra_query: Option<&Bound<'_, PyDict>>,
        extra_body: Option<&Bound<'_, PyDict>>,
        timeout: Option<f64>,
        wrap: Option<Bound<'_, PyAny>>,
    ) -> PyResult<NativePager> {
        guard(|| {
            let Prepared {
                client,
                op,
                args,
                params,
            } = self.prepare(
                op,
                args,
                params,
                extra_headers,
                extra_query,
                extra_body,
                timeout,
            )?;
            let pager = client.pager(op, args, params).map_err(|e| from_core(&e))?;
            Ok(NativePager::new(pager, wrap.map(Bound::unbind)))
        })
    }

    fn __repr__(&self) -> String {
        match &*self.inner.read().unwrap_or_else(PoisonError::into_inner) {
            Some(client) => format!("NativeClient(base_url={:?})", client.config().base_url()),
            None => "NativeClient(closed)".to_owned(),
        }
    }
}
