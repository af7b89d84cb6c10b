//! `Socket`: an open WebSocket (a sandbox terminal, an interactive exec or a
//! computer's live events), the core's one engine behind a UniFFI object.
//! `next()` is awaited from any coroutine or task; `close()` from anywhere
//! ends a pending `next()` (it then returns null/nil). Kotlin adds `asFlow()`
//! and `use {}` (Sockets.kt); Swift adds `AsyncSequence` (Sockets.swift).

use std::fmt;

use crate::count::Count;
use crate::errors::MiosaError;

/// Where a socket message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SocketChannel {
    /// A text frame: terminal output sent as text, or an event's JSON.
    Text,
    /// A binary frame: terminal output.
    Binary,
    /// The process's standard output (interactive exec).
    Stdout,
    /// The process's standard error (interactive exec).
    Stderr,
}

impl From<mcore::Channel> for SocketChannel {
    fn from(channel: mcore::Channel) -> Self {
        match channel {
            mcore::Channel::Text => Self::Text,
            mcore::Channel::Binary => Self::Binary,
            mcore::Channel::Stdout => Self::Stdout,
            mcore::Channel::Stderr => Self::Stderr,
        }
    }
}

/// One message received on a socket. Kotlin and Swift read its bytes as
/// UTF-8 with the `text` property.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct SocketMessage {
    /// Where it came from.
    pub channel: SocketChannel,
    /// Its bytes (UTF-8 for text, stdout and stderr).
    pub data: Vec<u8>,
}

/// Terminal output may hold whatever was typed; only its size is shown.
impl fmt::Debug for SocketMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketMessage")
            .field("channel", &self.channel)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl From<mcore::Message> for SocketMessage {
    fn from(m: mcore::Message) -> Self {
        Self {
            channel: m.channel.into(),
            data: m.data.to_vec(),
        }
    }
}

/// An open WebSocket. Pull messages with `next()` until it returns null/nil
/// (closed by either side, after an error, or after an exec's exit); send
/// with `sendText`/`sendBytes`; `close()` (Kotlin: also `use {}`) ends it.
#[derive(Debug, uniffi::Object)]
pub struct Socket {
    inner: mcore::Socket,
}

impl Socket {
    pub(crate) fn new(socket: mcore::Socket) -> Self {
        Self { inner: socket }
    }
}

#[uniffi::export]
impl Socket {
    /// The next message; null/nil once the socket has ended or was closed.
    pub async fn next(&self) -> Result<Option<SocketMessage>, MiosaError> {
        match self.inner.next().await {
            Some(Ok(message)) => Ok(Some(message.into())),
            Some(Err(err)) => {
                self.inner.close();
                Err(err.into())
            }
            None => {
                self.inner.close();
                Ok(None)
            }
        }
    }

    /// Sends text: typed input for a terminal, standard input for an exec.
    pub async fn send_text(&self, text: String) -> Result<(), MiosaError> {
        Ok(self.inner.send_text(&text).await?)
    }

    /// Sends bytes: raw terminal input, or an exec's standard input.
    pub async fn send_bytes(&self, data: Vec<u8>) -> Result<(), MiosaError> {
        Ok(self.inner.send_bytes(&data).await?)
    }

    /// Resizes the terminal (or the exec's pseudo-terminal) to `cols` × `rows`.
    pub async fn resize(&self, cols: Count, rows: Count) -> Result<(), MiosaError> {
        // Out of u32's range is out of the core's range too: it names both numbers.
        let narrow = |n: Count| u32::try_from(n.0).unwrap_or(0);
        Ok(self.inner.resize(narrow(cols), narrow(rows)).await?)
    }

    /// Sends a signal such as `SIGINT` or `SIGKILL` to an exec's process.
    pub async fn signal(&self, signal: String) -> Result<(), MiosaError> {
        Ok(self.inner.signal(&signal).await?)
    }

    /// Ends an exec's standard input (the process reads end of file).
    pub async fn close_stdin(&self) -> Result<(), MiosaError> {
        Ok(self.inner.close_stdin().await?)
    }

    /// The exit code an exec reported; null/nil until its `exit` frame has arrived.
    pub fn exit_code(&self) -> Option<Count> {
        self.inner.exit_code().map(Count)
    }

    /// How the socket frames its data: `terminal`, `exec` or `events`.
    pub fn frames(&self) -> String {
        self.inner.frames().as_str().to_owned()
    }

    /// Whether the socket was closed (by `close()` or because it ended).
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Closes the socket now; a pending `next()` returns null/nil.
    /// Kotlin calls it `cancel()`, because Kotlin's `close()` (AutoCloseable) frees the object.
    pub fn close(&self) {
        self.inner.close();
    }
}

/// The socket an operation opened.
pub(crate) fn from_output(output: mcore::Output) -> Result<std::sync::Arc<Socket>, MiosaError> {
    Ok(std::sync::Arc::new(Socket::new(output.into_socket()?)))
}
