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

use crate::convert::{CallOptions, json_to_py, py_to_args, py_to_input, py_to_map};
use crate::errors::{from_core, guard, guard_async, invalid, usage};
use crate::from_json::json_text_to_py;
use crate::pager::{NativePager, Page, PageCall};
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
/// A Python callable as the core's state callback. It runs on a runtime thread
/// with the GIL taken; an exception it raises goes to `sys.unraisablehook` and
/// the wait goes on.
fn state_callback(callable: Py<PyAny>) -> miosa::OnState {
    Arc::new(move |state: &str| {
        Python::attach(|py| {
            if let Err(err) = callable.call1(py, (state,)) {
                err.write_unraisable(py, Some(callable.bind(py)));
            }
        });
    })
}

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
pub(crate) struct Prepared {
    pub(crate) client: miosa::Client,
    pub(crate) op: &'static miosa::OpSpec,
    pub(crate) args: Vec<miosa::Arg>,
    pub(crate) params: Map<String, Value>,
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

pub(crate) fn output_to_py(
    py: Python<'_>,
    output: miosa::Output,
    wrap: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    Ok(match output {
        miosa::Output::Json(value) => wrap_json(py, &value, wrap)?.unbind(),
        miosa::Output::Model(body) => {
            let value = json_text_to_py(py, body.bytes())?;
            match wrap {
                Some(wrap) if value.is_instance_of::<PyDict>() => wrap.call1((value,))?.unbind(),
                _ => value.unbind(),
            }
        }
        miosa::Output::Bytes(bytes) => PyBytes::new(py, &bytes).into_any().unbind(),
        miosa::Output::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        // A page without its call cannot fetch the next one; `call`/`acall` hand theirs over.
        miosa::Output::Page(page) => {
            Py::new(py, Page::from_core(py, &page, wrap, None)?)?.into_any()
        }
        miosa::Output::Events(stream) => Py::new(py, NativeEventStream::new(stream))?.into_any(),
        miosa::Output::Socket(socket) => {
            Py::new(py, crate::socket::NativeSocket::new(socket))?.into_any()
        }
    })
}

/// A call's result; a page keeps its call, so that `next_page()` can follow it.
fn page_or_output(
    py: Python<'_>,
    output: miosa::Output,
    call: Option<PageCall>,
    wrap: Option<&Bound<'_, PyAny>>,
) -> PyResult<Py<PyAny>> {
    match (output, call) {
        (miosa::Output::Page(page), Some(call)) => {
            Ok(Py::new(py, call.to_page(py, &page)?)?.into_any())
        }
        (other, _) => output_to_py(py, other, wrap),
    }
}

/// The handle behind `miosa_native.Client` and `AsyncClient`.
#[pyclass(frozen, module = "miosa_native._native")]
#[derive(Debug)]
pub struct NativeClient {
    inner: RwLock<Option<miosa::Client>>,
}

impl NativeClient {
    pub(crate) fn client(&self) -> PyResult<miosa::Client> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| usage("the client is closed"))
    }

    pub(crate) fn prepare(
        &self,
        op: &str,
        args: &Bound<'_, PyTuple>,
        params: Option<&Bound<'_, PyDict>>,
        options: &CallOptions<'_, '_>,
    ) -> PyResult<Prepared> {
        let op = find_op(op)?;
        let mut client = self.client()?;
        if let Some(options) = options.to_core()? {
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
    /// A client from a dict of settings (see `miosa_native.Client`); a missing
    /// key and base URL come from `MIOSA_API_KEY` and `MIOSA_BASE_URL`.
    #[new]
    #[pyo3(signature = (settings=None))]
    fn new(settings: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        guard(|| {
            let input = match settings {
                Some(settings) => py_to_input(settings)?,
                None => miosa::Input::Null,
            };
            let client = miosa::Client::from_input(&input, miosa::Dialect::SNAKE_SECONDS)
                .map_err(|e| from_core(&e))?;
            Ok(Self {
                inner: RwLock::new(Some(client)),
            })
        })
    }

    /// The settings in effect (snake_case, seconds), secrets redacted.
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| json_to_py(py, &self.client()?.config().summary()))
    }

    /// The per-call options a call with these values would use (snake_case, seconds).
    #[pyo3(signature = (
        extra_headers=None, extra_query=None, extra_body=None, timeout=None, max_response_bytes=None
    ))]
    fn call_options<'py>(
        &self,
        py: Python<'py>,
        extra_headers: Option<&Bound<'py, PyAny>>,
        extra_query: Option<&Bound<'py, PyAny>>,
        extra_body: Option<&Bound<'py, PyAny>>,
        timeout: Option<&Bound<'py, PyAny>>,
        max_response_bytes: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let options = CallOptions {
                extra_headers,
                extra_query,
                extra_body,
                timeout,
                max_response_bytes,
            }
            .to_core()?
            .unwrap_or_default();
            json_to_py(py, &options.summary())
        })
    }

    /// The API root requests go to.
    #[getter]
    fn base_url(&self) -> PyResult<String> {
        guard(|| Ok(miosa::redact::url(self.client()?.config().base_url())))
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
        timeout=None, max_response_bytes=None, wrap=None, on_state=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        py: Python<'_>,
        op: &str,
        args: &Bound<'_, PyTuple>,
        params: Option<&Bound<'_, PyDict>>,
        extra_headers: Option<&Bound<'_, PyAny>>,
        extra_query: Option<&Bound<'_, PyAny>>,
        extra_body: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        max_response_bytes: Option<&Bound<'_, PyAny>>,
        wrap: Option<&Bound<'_, PyAny>>,
        on_state: Option<&Bound<'_, PyAny>>,
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
                &CallOptions {
                    extra_headers,
                    extra_query,
                    extra_body,
                    timeout,
                    max_response_bytes,
                },
            )?;
            if let Some(on_state) = on_state.filter(|cb| !cb.is_none()) {
                let on_state = state_callback(on_state.clone().unbind());
                let ready = block(py, client.invoke_watching(op, args, params, on_state))?;
                return Ok(pyo3::types::PyBool::new(py, ready)
                    .to_owned()
                    .into_any()
                    .unbind());
            }
            let call = PageCall::keep(
                &client,
                op,
                &args,
                &params,
                wrap.map(|w| w.clone().unbind()),
            );
            let (output, response) =
                block(py, client.with_response(client.invoke(op, args, params)))?;
            let value = page_or_output(py, output, call, wrap)?;
            crate::observe::attach_request_id(py, &value, &response)?;
            Ok(value)
        })
    }

    /// Awaitable form of `call`; cancelling the awaiting task cancels the request.
    #[pyo3(signature = (
        op, args, params=None, extra_headers=None, extra_query=None, extra_body=None,
        timeout=None, max_response_bytes=None, wrap=None, on_state=None
    ))]
    #[allow(clippy::too_many_arguments)]
    async fn acall(
        &self,
        op: Py<PyString>,
        args: Py<PyTuple>,
        params: Option<Py<PyDict>>,
        extra_headers: Option<Py<PyAny>>,
        extra_query: Option<Py<PyAny>>,
        extra_body: Option<Py<PyAny>>,
        timeout: Option<Py<PyAny>>,
        max_response_bytes: Option<Py<PyAny>>,
        wrap: Option<Py<PyAny>>,
        on_state: Option<Py<PyAny>>,
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
                    &CallOptions {
                        extra_headers: extra_headers.as_ref().map(|p| p.bind(py)),
                        extra_query: extra_query.as_ref().map(|p| p.bind(py)),
                        extra_body: extra_body.as_ref().map(|p| p.bind(py)),
                        timeout: timeout.as_ref().map(|p| p.bind(py)),
                        max_response_bytes: max_response_bytes.as_ref().map(|p| p.bind(py)),
                    },
                )
            })?;
            if let Some(on_state) = on_state.filter(|cb| Python::attach(|py| !cb.is_none(py))) {
                let ready = Guarded::new(client.invoke_watching(
                    op,
                    args,
                    params,
                    state_callback(on_state),
                ))
                .await
                .map_err(|e| from_core(&e))?;
                return Python::attach(|py| {
                    Ok(pyo3::types::PyBool::new(py, ready)
                        .to_owned()
                        .into_any()
                        .unbind())
                });
            }
            let call = Python::attach(|py| {
                PageCall::keep(
                    &client,
                    op,
                    &args,
                    &params,
                    wrap.as_ref().map(|w| w.clone_ref(py)),
                )
            });
            // Dropping this future (task cancelled) drops the core's task, which aborts the request.
            let (output, response) =
                Guarded::new(client.with_response(client.invoke(op, args, params)))
                    .await
                    .map_err(|e| from_core(&e))?;
            Python::attach(|py| {
                let value = page_or_output(py, output, call, wrap.as_ref().map(|w| w.bind(py)))?;
                crate::observe::attach_request_id(py, &value, &response)?;
                Ok(value)
            })
        })
        .await
    }

    /// A lazy iterator over every item of a paginated operation (sync and async).
    #[pyo3(signature = (
        op, args, params=None, extra_headers=None, extra_query=None, extra_body=None,
        timeout=None, max_response_bytes=None, wrap=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn pager(
        &self,
        op: &str,
        args: &Bound<'_, PyTuple>,
        params: Option<&Bound<'_, PyDict>>,
        extra_headers: Option<&Bound<'_, PyAny>>,
        extra_query: Option<&Bound<'_, PyAny>>,
        extra_body: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        max_response_bytes: Option<&Bound<'_, PyAny>>,
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
                &CallOptions {
                    extra_headers,
                    extra_query,
                    extra_body,
                    timeout,
                    max_response_bytes,
                },
            )?;
            let call = PageCall {
                client: client.clone(),
                op,
                args: args.clone(),
                params: params.clone(),
                wrap: wrap.map(Bound::unbind),
            };
            let pager = client.pager(op, args, params).map_err(|e| from_core(&e))?;
            Ok(NativePager::new(pager, call))
        })
    }

    fn __repr__(&self) -> String {
        match &*self.inner.read().unwrap_or_else(PoisonError::into_inner) {
            Some(client) => format!(
                "NativeClient(base_url={:?})",
                miosa::redact::url(client.config().base_url())
            ),
            None => "NativeClient(closed)".to_owned(),
        }
    }
}
