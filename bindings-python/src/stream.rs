//! Server-sent event streams: a blocking iterator and an awaitable `anext`
//! over the core's `EventStream`. Closing, or dropping the object, ends the
//! connection; `close()` from another thread wakes a pending read.

use std::sync::Arc;

use pyo3::prelude::*;

use crate::client::block;
use crate::convert::json_to_py;
use crate::errors::{from_core, guard, guard_async};
use crate::shutdown::Guarded;

/// One server-sent event.
#[pyclass(frozen, eq, get_all, module = "miosa_native._native")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Event type; `message` when the server named none.
    event: String,
    /// Data lines joined with `\n`.
    data: String,
    /// Last event id seen on the stream.
    id: Option<String>,
    /// Reconnection delay the server asked for, in milliseconds.
    retry: Option<u64>,
}

impl From<miosa::Event> for Event {
    fn from(e: miosa::Event) -> Self {
        Self {
            event: e.event,
            data: e.data,
            id: e.id,
            retry: e.retry,
        }
    }
}

#[pymethods]
impl Event {
    #[new]
    #[pyo3(signature = (event, data, id=None, retry=None))]
    fn new(event: String, data: String, id: Option<String>, retry: Option<u64>) -> Self {
        Self {
            event,
            data,
            id,
            retry,
        }
    }

    /// `data` parsed as JSON.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let value: serde_json::Value = serde_json::from_str(&self.data).map_err(|e| {
                crate::errors::from_core(&miosa::Error::new(
                    miosa::ErrorKind::Decode,
                    format!("event data is not JSON: {e}"),
                ))
            })?;
            json_to_py(py, &value)
        })
    }

    /// `{"event", "data", "id", "retry"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let dict = pyo3::types::PyDict::new(py);
        dict.set_item("event", &self.event)?;
        dict.set_item("data", &self.data)?;
        dict.set_item("id", &self.id)?;
        dict.set_item("retry", self.retry)?;
        Ok(dict)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        fn r(value: Bound<'_, PyAny>) -> PyResult<String> {
            Ok(value.repr()?.to_cow()?.into_owned())
        }
        Ok(format!(
            "Event(event={}, data={}, id={}, retry={})",
            r(self.event.as_str().into_pyobject(py)?.into_any())?,
            r(self.data.as_str().into_pyobject(py)?.into_any())?,
            r(self.id.as_deref().into_pyobject(py)?.into_any())?,
            r(self.retry.into_pyobject(py)?.into_any())?,
        ))
    }
}

/// The core's stream, shared by every waiting reader: it serves concurrent
/// reads one event each and its `close()` wakes them all.
type Shared = Arc<miosa::EventStream>;

/// Reads the next event; the end of the stream and an error both free the
/// connection at once.
async fn next_event(stream: Shared) -> miosa::Result<Option<miosa::Event>> {
    match stream.next().await {
        Some(Ok(event)) => Ok(Some(event)),
        Some(Err(err)) => {
            stream.close();
            Err(err)
        }
        None => {
            stream.close();
            Ok(None)
        }
    }
}

/// An open event stream (the core's, with its connection).
#[pyclass(frozen, name = "EventStream", module = "miosa_native._native")]
#[derive(Debug)]
pub struct NativeEventStream {
    stream: Shared,
}

impl NativeEventStream {
    pub fn new(stream: miosa::EventStream) -> Self {
        Self {
            stream: Arc::new(stream),
        }
    }
}

#[pymethods]
impl NativeEventStream {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next event, blocking with the GIL released; Ctrl-C interrupts the wait.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Event>> {
        guard(|| {
            let next = block(py, next_event(Arc::clone(&self.stream)))?;
            Ok(next.map(Event::from))
        })
    }

    /// Awaitable next event; `None` at the end of the stream.
    async fn anext(&self) -> PyResult<Option<Event>> {
        let stream = Arc::clone(&self.stream);
        guard_async(async move {
            let next = Guarded::new(next_event(stream))
                .await
                .map_err(|e| from_core(&e))?;
            Ok(next.map(Event::from))
        })
        .await
    }

    /// Ends the stream and frees its connection.
    fn close(&self) {
        self.stream.close();
    }

    /// Whether the stream has ended or was closed.
    #[getter]
    fn closed(&self) -> bool {
        self.stream.is_closed()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }
}

/// Parses a whole stream given as chunks with the core's SSE engine (for the shared vectors).
#[pyfunction]
pub fn parse_sse(chunks: Vec<pyo3::pybacked::PyBackedBytes>) -> Vec<Event> {
    miosa::sse::parse_chunks(chunks.iter().map(|c| &c[..]))
        .into_iter()
        .map(Event::from)
        .collect()
}
