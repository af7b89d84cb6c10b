//! WebSockets: the core's `Socket` with blocking and awaitable reads and
//! writes. Closing, or dropping the object, ends the connection; `close()`
//! from another thread wakes a pending read.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::client::block;
use crate::convert::json_to_py;
use crate::errors::{from_core, guard, guard_async};
use crate::shutdown::Guarded;

/// One message received on a socket.
#[pyclass(frozen, module = "miosa_native._native")]
#[derive(Debug, Clone)]
pub struct SocketMessage {
    inner: miosa::Message,
}

#[pymethods]
impl SocketMessage {
    /// `text`, `binary`, `stdout` or `stderr`.
    #[getter]
    fn channel(&self) -> &'static str {
        self.inner.channel.as_str()
    }

    /// The raw bytes.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.data)
    }

    /// The bytes as text (invalid UTF-8 replaced).
    #[getter]
    fn text(&self) -> String {
        self.inner.text()
    }

    /// The data parsed as JSON (an event frame).
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let value = self.inner.json().map_err(|e| from_core(&e))?;
            json_to_py(py, &value)
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "SocketMessage(channel={:?}, {} bytes)",
            self.inner.channel.as_str(),
            self.inner.data.len()
        )
    }
}

/// Text or bytes, as a caller may send them.
#[derive(FromPyObject)]
enum Payload {
    Text(String),
    Bytes(Vec<u8>),
}

type Shared = Arc<miosa::Socket>;

async fn send(socket: Shared, payload: Payload) -> miosa::Result<()> {
    match payload {
        Payload::Text(text) => socket.send_text(&text).await,
        Payload::Bytes(bytes) => socket.send_bytes(&bytes).await,
    }
}

/// Reads the next message; the end and an error both close the socket.
async fn next_message(socket: Shared) -> miosa::Result<Option<SocketMessage>> {
    match socket.next().await {
        Some(Ok(inner)) => Ok(Some(SocketMessage { inner })),
        Some(Err(err)) => {
            socket.close();
            Err(err)
        }
        None => {
            socket.close();
            Ok(None)
        }
    }
}

/// An open WebSocket (the core's, with its connection).
#[pyclass(frozen, name = "Socket", module = "miosa_native._native")]
#[derive(Debug)]
pub struct NativeSocket {
    socket: Shared,
}

impl NativeSocket {
    pub fn new(socket: miosa::Socket) -> Self {
        Self {
            socket: Arc::new(socket),
        }
    }
}

#[pymethods]
impl NativeSocket {
    /// The next message, blocking with the GIL released; `None` once the
    /// socket has ended (`closed` is then true), or when `timeout` seconds
    /// pass first (the socket stays open).
    #[pyo3(signature = (timeout=None))]
    fn recv(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<SocketMessage>> {
        guard(|| {
            let socket = Arc::clone(&self.socket);
            match timeout {
                None => block(py, next_message(socket)),
                Some(seconds) => {
                    let wait = Duration::try_from_secs_f64(seconds).map_err(|_| {
                        from_core(&miosa::Error::new(
                            miosa::ErrorKind::InvalidArgument,
                            format!(
                                "timeout must be a non-negative number of seconds, got {seconds}"
                            ),
                        ))
                    })?;
                    // A bounded wait: short enough that Ctrl-C needs no polling here.
                    match py.detach(|| socket.next_timeout(wait)) {
                        std::task::Poll::Pending => Ok(None),
                        std::task::Poll::Ready(Some(Ok(inner))) => {
                            Ok(Some(SocketMessage { inner }))
                        }
                        std::task::Poll::Ready(Some(Err(err))) => {
                            socket.close();
                            Err(from_core(&err))
                        }
                        std::task::Poll::Ready(None) => {
                            socket.close();
                            Ok(None)
                        }
                    }
                }
            }
        })
    }

    /// Awaitable next message; `None` once the socket has ended.
    async fn arecv(&self) -> PyResult<Option<SocketMessage>> {
        let socket = Arc::clone(&self.socket);
        guard_async(async move {
            Guarded::new(next_message(socket))
                .await
                .map_err(|e| from_core(&e))
        })
        .await
    }

    /// Sends text or bytes (terminal input, or an exec's stdin).
    fn send(&self, py: Python<'_>, data: Payload) -> PyResult<()> {
        guard(|| block(py, send(Arc::clone(&self.socket), data)))
    }

    /// Awaitable form of `send`.
    async fn asend(&self, data: Payload) -> PyResult<()> {
        let socket = Arc::clone(&self.socket);
        guard_async(async move {
            Guarded::new(send(socket, data))
                .await
                .map_err(|e| from_core(&e))
        })
        .await
    }

    /// Resizes the terminal to `cols` × `rows`.
    fn resize(&self, py: Python<'_>, cols: u32, rows: u32) -> PyResult<()> {
        let socket = Arc::clone(&self.socket);
        guard(|| block(py, async move { socket.resize(cols, rows).await }))
    }

    /// Awaitable form of `resize`.
    async fn aresize(&self, cols: u32, rows: u32) -> PyResult<()> {
        let socket = Arc::clone(&self.socket);
        guard_async(async move {
            Guarded::new(async move { socket.resize(cols, rows).await })
                .await
                .map_err(|e| from_core(&e))
        })
        .await
    }

    /// Sends a signal such as `SIGINT` to an exec's process.
    fn signal(&self, py: Python<'_>, signal: String) -> PyResult<()> {
        let socket = Arc::clone(&self.socket);
        guard(|| block(py, async move { socket.signal(&signal).await }))
    }

    /// Ends an exec's standard input.
    fn close_stdin(&self, py: Python<'_>) -> PyResult<()> {
        let socket = Arc::clone(&self.socket);
        guard(|| block(py, async move { socket.close_stdin().await }))
    }

    /// The exit code an exec reported, once it has.
    #[getter]
    fn exit_code(&self) -> Option<i64> {
        self.socket.exit_code()
    }

    /// `terminal`, `exec` or `events`.
    #[getter]
    fn frames(&self) -> &'static str {
        self.socket.frames().as_str()
    }

    /// Closes the socket; a pending read returns `None` at once.
    fn close(&self) {
        self.socket.close();
    }

    /// Whether the socket was closed.
    #[getter]
    fn closed(&self) -> bool {
        self.socket.is_closed()
    }

    fn __repr__(&self) -> String {
        format!(
            "Socket(frames={:?}, closed={})",
            self.socket.frames().as_str(),
            if self.socket.is_closed() {
                "True"
            } else {
                "False"
            }
        )
    }
}
