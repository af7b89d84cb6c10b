//! WebSockets: terminals, interactive exec and live computer events.
//!
//! One engine for every socket operation. The URL is the call's HTTP URL with
//! `http→ws` / `https→wss` (so the base URL's rules, loopback-only plain
//! HTTP included, apply unchanged); the upgrade carries the Bearer key and
//! the client's headers; TLS is rustls with the ring provider, as for HTTP.
//! A task on the client's runtime owns the connection: it answers pings,
//! sends its own so a dead peer is noticed within the idle `timeout`, bounds
//! every frame by `max_event_bytes`, and hands what arrives through a bounded
//! channel, so the consumer may sit on any executor or block.

use std::fmt;
use std::sync::{Arc, Mutex as StdMutex};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Mutex, mpsc};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

use crate::cancel::CancelToken;
use crate::error::{Error, ErrorKind, Result};
use crate::request::Prepared;
use crate::transport::{Transport, ensure_may_block};

/// How an operation's socket frames its data (the table's `socket<...>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketFrames {
    /// A terminal: input and output are raw bytes; `resize` is a JSON text frame.
    Terminal,
    /// Interactive exec, the canonical JSON frames: `stdin`, `stdin_close`,
    /// `resize`, `signal` out; `stdout`, `stderr`, `exit` in.
    Exec,
    /// A feed of JSON event frames from the server.
    Events,
}

impl SocketFrames {
    /// The table's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Terminal => "terminal",
            Self::Exec => "exec",
            Self::Events => "events",
        }
    }
}

/// Where a received message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A text frame (terminal output sent as text, an event's JSON).
    Text,
    /// A binary frame (terminal output).
    Binary,
    /// A process's standard output (interactive exec).
    Stdout,
    /// A process's standard error (interactive exec).
    Stderr,
}

impl Channel {
    /// Lower-case name, as the bindings show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Binary => "binary",
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }
}

/// One message received on a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Where it came from.
    pub channel: Channel,
    /// Its bytes (UTF-8 for text, stdout and stderr).
    pub data: Bytes,
}

impl Message {
    /// The data as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// The data parsed as JSON (an event frame).
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.data)
            .map_err(|e| Error::decode(format!("the socket frame is not JSON: {e}")))
    }
}

/// What the caller asks the connection task to send.
enum Outgoing {
    Frame(WsMessage),
    Close,
}

/// Messages buffered between the connection task and the consumer.
const CHANNEL_MESSAGES: usize = 64;
/// Bound on the closing handshake, so a silent peer cannot hold the task.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// An open WebSocket. Receive with `next` (async, blocking or with a
/// deadline); send text or bytes, resize a terminal, signal a process.
///
/// Every method takes `&self`, so one thread may read while another writes;
/// [`Socket::close`] from any thread ends a pending `next` at once. Dropping
/// the socket closes the connection.
pub struct Socket {
    frames: SocketFrames,
    outgoing: mpsc::Sender<Outgoing>,
    rx: Mutex<mpsc::Receiver<Result<Message>>>,
    closed: CancelToken,
    cancel: Option<CancelToken>,
    exit_code: Arc<StdMutex<Option<i64>>>,
    task: AbortHandle,
    /// The client's runtime, which runs the connection task and its timers.
    rt: tokio::runtime::Handle,
    pid: u32,
    /// Keeps that runtime running while the socket is held, so a socket
    /// outlives the client that opened it.
    _runtime: Transport,
}

impl fmt::Debug for Socket {
    // The URL and headers stay out: the URL may carry a token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("frames", &self.frames)
            .field("closed", &self.is_closed())
            .field("exit_code", &self.exit_code())
            .finish_non_exhaustive()
    }
}

impl Socket {
    /// Opens the socket (a refused upgrade surfaces here as the HTTP error it
    /// was) and starts the connection task.
    pub(crate) async fn open(
        transport: Transport,
        prepared: Prepared,
        frames: SocketFrames,
        cancel: Option<CancelToken>,
    ) -> Result<Self> {
        let limit = usize::try_from(transport.config().max_event_bytes()).unwrap_or(usize::MAX);
        let ws = transport
            .with_retries(&prepared, |_attempt| connect(&transport, &prepared, limit))
            .await?;
        let (tx, rx) = mpsc::channel(CHANNEL_MESSAGES);
        let (out_tx, out_rx) = mpsc::channel(CHANNEL_MESSAGES);
        let exit_code = Arc::new(StdMutex::new(None));
        let closed = CancelToken::new();
        let connection = Connection {
            frames,
            idle: prepared.timeout,
            limit: transport.config().max_event_bytes(),
            tx,
            exit_code: Arc::clone(&exit_code),
        };
        let task = transport
            .handle()
            .spawn(connection.run(ws, out_rx, closed.clone()))
            .abort_handle();
        Ok(Self {
            frames,
            outgoing: out_tx,
            rx: Mutex::new(rx),
            closed,
            cancel,
            exit_code,
            task,
            rt: transport.handle().clone(),
            pid: std::process::id(),
            _runtime: transport,
        })
    }

    /// How this socket frames its data.
    pub fn frames(&self) -> SocketFrames {
        self.frames
    }

    fn check_process(&self) -> Result<()> {
        if self.pid == std::process::id() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Usage,
            "this socket was opened by the parent process before fork(); open a new one in the child",
        ))
    }

    /// The next message; `None` once the socket has ended (closed by either
    /// side, after an error, or after an exec's `exit`).
    pub async fn next(&self) -> Option<Result<Message>> {
        if let Err(err) = self.check_process() {
            return Some(Err(err));
        }
        if self.closed.is_cancelled() {
            return None;
        }
        tokio::select! {
            biased;
            () = self.closed.cancelled() => None,
            () = caller_cancelled(self.cancel.as_ref()) => {
                self.close();
                Some(Err(Error::cancelled()))
            }
            item = async { self.rx.lock().await.recv().await } => item,
        }
    }

    /// Blocking form of [`Socket::next`] for threads without an executor.
    pub fn next_blocking(&self) -> Option<Result<Message>> {
        if let Err(err) = ensure_may_block() {
            return Some(Err(err));
        }
        futures_executor::block_on(self.next())
    }

    /// Like [`Socket::next_blocking`], but gives up after `wait`:
    /// `Poll::Pending` when nothing arrived in time (the socket stays open).
    pub fn next_timeout(&self, wait: Duration) -> Poll<Option<Result<Message>>> {
        if let Err(err) = ensure_may_block() {
            return Poll::Ready(Some(Err(err)));
        }
        // The timer runs on the client's runtime; this thread only waits.
        let timer = self.rt.spawn(async move { tokio::time::sleep(wait).await });
        let abort = timer.abort_handle();
        let got = futures_executor::block_on(async {
            tokio::select! {
                biased;
                item = self.next() => Poll::Ready(item),
                _ = timer => Poll::Pending,
            }
        });
        abort.abort();
        got
    }

    /// Sends text: typed input for a terminal, `stdin` for an exec.
    pub async fn send_text(&self, text: &str) -> Result<()> {
        let frame = match self.frames {
            SocketFrames::Exec => exec_frame(json!({"type": "stdin", "data": text})),
            _ => WsMessage::text(text),
        };
        self.send(Outgoing::Frame(frame)).await
    }

    /// Sends bytes: raw terminal input; for an exec, `stdin` (as UTF-8 text,
    /// which the canonical frames carry).
    pub async fn send_bytes(&self, data: &[u8]) -> Result<()> {
        let frame = match self.frames {
            SocketFrames::Exec => {
                exec_frame(json!({"type": "stdin", "data": String::from_utf8_lossy(data)}))
            }
            _ => WsMessage::binary(Bytes::copy_from_slice(data)),
        };
        self.send(Outgoing::Frame(frame)).await
    }

    /// Resizes the terminal (or the exec's pseudo-terminal) to `cols` × `rows`.
    pub async fn resize(&self, cols: u32, rows: u32) -> Result<()> {
        if cols == 0 || rows == 0 || cols > 10_000 || rows > 10_000 {
            return Err(Error::invalid(format!(
                "cols and rows must be between 1 and 10000, got cols={cols}, rows={rows}"
            )));
        }
        let frame = exec_frame(json!({"type": "resize", "cols": cols, "rows": rows}));
        self.send(Outgoing::Frame(frame)).await
    }

    /// Sends a signal such as `SIGINT` or `SIGKILL` to an exec's process.
    pub async fn signal(&self, signal: &str) -> Result<()> {
        self.exec_only("signal")?;
        let name = signal.trim();
        let valid = name.len() <= 16
            && !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(Error::invalid(format!(
                "signal must be a signal name such as SIGINT, got {signal:?}"
            )));
        }
        let frame = exec_frame(json!({"type": "signal", "signal": name}));
        self.send(Outgoing::Frame(frame)).await
    }

    /// Ends an exec's standard input (the process reads end of file).
    pub async fn close_stdin(&self) -> Result<()> {
        self.exec_only("close_stdin")?;
        let frame = exec_frame(json!({"type": "stdin_close"}));
        self.send(Outgoing::Frame(frame)).await
    }

    fn exec_only(&self, what: &str) -> Result<()> {
        if self.frames == SocketFrames::Exec {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Usage,
            format!(
                "{what} applies to interactive exec sockets, not to a {} socket",
                self.frames.as_str()
            ),
        ))
    }

    async fn send(&self, item: Outgoing) -> Result<()> {
        self.check_process()?;
        if self.closed.is_cancelled() {
            return Err(Error::new(ErrorKind::Usage, "the socket is closed"));
        }
        self.outgoing.send(item).await.map_err(|_| {
            Error::new(
                ErrorKind::Connection,
                "the socket has ended; nothing more can be sent",
            )
        })
    }

    /// Blocking form of [`Socket::send_text`].
    pub fn send_text_blocking(&self, text: &str) -> Result<()> {
        ensure_may_block()?;
        futures_executor::block_on(self.send_text(text))
    }

    /// Blocking form of [`Socket::send_bytes`].
    pub fn send_bytes_blocking(&self, data: &[u8]) -> Result<()> {
        ensure_may_block()?;
        futures_executor::block_on(self.send_bytes(data))
    }

    /// Blocking form of [`Socket::resize`].
    pub fn resize_blocking(&self, cols: u32, rows: u32) -> Result<()> {
        ensure_may_block()?;
        futures_executor::block_on(self.resize(cols, rows))
    }

    /// Blocking form of [`Socket::signal`].
    pub fn signal_blocking(&self, signal: &str) -> Result<()> {
        ensure_may_block()?;
        futures_executor::block_on(self.signal(signal))
    }

    /// Blocking form of [`Socket::close_stdin`].
    pub fn close_stdin_blocking(&self) -> Result<()> {
        ensure_may_block()?;
        futures_executor::block_on(self.close_stdin())
    }

    /// The exit code an exec's `exit` frame reported, once it has arrived.
    pub fn exit_code(&self) -> Option<i64> {
        *self
            .exit_code
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes the socket (a normal close frame, then the connection ends); a
    /// pending `next` returns `None` at once. Safe from any thread.
    pub fn close(&self) {
        if self.closed.is_cancelled() {
            return;
        }
        self.closed.cancel();
        // The task sees the token too; the message only hurries it along.
        let _ = self.outgoing.try_send(Outgoing::Close);
    }

    /// Whether [`Socket::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.pid != std::process::id() {
            return;
        }
        self.close();
        // A task stuck writing to a peer that reads nothing is stopped outright.
        let task = self.task.clone();
        self.rt.spawn(async move {
            tokio::time::sleep(CLOSE_GRACE * 2).await;
            task.abort();
        });
    }
}

async fn caller_cancelled(token: Option<&CancelToken>) {
    match token {
        Some(token) => token.cancelled().await,
        None => std::future::pending().await,
    }
}

fn exec_frame(value: Value) -> WsMessage {
    WsMessage::text(value.to_string())
}

/// A byte stream the socket runs over: plain TCP or TLS.
trait Wire: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Wire for T {}

type Ws = WebSocketStream<Box<dyn Wire>>;

/// The ws:// or wss:// form of an HTTP URL (PROTOCOL §13).
pub(crate) fn socket_url(http: &reqwest::Url) -> Result<reqwest::Url> {
    let scheme = match http.scheme() {
        "http" => "ws",
        "https" => "wss",
        other => {
            return Err(Error::new(
                ErrorKind::Usage,
                format!("cannot open a WebSocket from a {other}:// base URL"),
            ));
        }
    };
    let mut url = http.clone();
    url.set_scheme(scheme)
        .map_err(|()| Error::new(ErrorKind::Usage, "cannot derive the WebSocket URL"))?;
    Ok(url)
}

/// One attempt: TCP within `connect_timeout`, then TLS and the upgrade within
/// the call's `timeout`.
async fn connect(transport: &Transport, prepared: &Prepared, limit: usize) -> Result<Ws> {
    let config = transport.config();
    let url = socket_url(&prepared.url)?;
    // An IPv6 literal comes bracketed; the resolver wants it bare.
    let host = match url.host_str() {
        Some(name) => name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        None => return Err(Error::new(ErrorKind::Usage, "the base URL has no host")),
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let tcp = tokio::time::timeout(
        config.connect_timeout(),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    .map_err(|_| {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "could not connect to {host}:{port} within {} s",
                config.connect_timeout().as_secs_f64()
            ),
        )
    })?
    .map_err(|e| {
        Error::new(
            ErrorKind::Connection,
            format!("cannot connect to {host}:{port}: {e}"),
        )
    })?;
    let _ = tcp.set_nodelay(true);

    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::new(ErrorKind::Usage, format!("bad WebSocket request: {e}")))?;
    let headers = request.headers_mut();
    let bearer = format!("Bearer {}", config.api_key.expose());
    let mut put = |name: &str, value: &str| -> Result<()> {
        let name = tungstenite::http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::invalid(format!("bad header name {name:?}")))?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid(format!("bad value for header {name}")))?;
        if name == tungstenite::http::header::AUTHORIZATION {
            value.set_sensitive(true);
        }
        headers.insert(name, value);
        Ok(())
    };
    put("authorization", &bearer)?;
    put(
        "user-agent",
        concat!("miosa-native/", env!("CARGO_PKG_VERSION")),
    )?;
    for (name, value) in config.headers().iter().chain(&prepared.headers) {
        put(name, value)?;
    }

    let mut ws_config = WebSocketConfig::default();
    ws_config.max_frame_size = Some(limit);
    ws_config.max_message_size = Some(limit);
    let upgrade = async {
        let wire: Box<dyn Wire> = if url.scheme() == "wss" {
            Box::new(tls(&host, tcp).await?)
        } else {
            Box::new(tcp)
        };
        tokio_tungstenite::client_async_with_config(request, wire, Some(ws_config))
            .await
            .map_err(handshake_error)
    };
    match tokio::time::timeout(prepared.timeout, upgrade).await {
        Ok(result) => result.map(|(ws, _response)| ws),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "the server did not answer the WebSocket upgrade within {} s",
                prepared.timeout.as_secs_f64()
            ),
        )),
    }
}

async fn tls(
    host: &str,
    tcp: tokio::net::TcpStream,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::new(ErrorKind::Usage, format!("cannot set up TLS: {e}")))?;
    let config = verified(builder)
        .map_err(|e| Error::new(ErrorKind::Usage, format!("cannot set up TLS: {e}")))?
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|_| {
        Error::new(
            ErrorKind::Usage,
            "the base URL's host is not a valid TLS name",
        )
    })?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| Error::new(ErrorKind::Connection, format!("TLS handshake failed: {e}")))
}

/// The platform's verifier, as HTTPS calls use it.
#[cfg(not(target_os = "android"))]
fn verified(
    builder: rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>,
) -> std::result::Result<
    rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>,
    rustls::Error,
> {
    use rustls_platform_verifier::BuilderVerifierExt;
    builder.with_platform_verifier()
}

/// On Android the bundled root store, as HTTPS calls use it: the platform
/// verifier would first need a JNI initialisation with an application `Context`.
#[cfg(target_os = "android")]
fn verified(
    builder: rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>,
) -> std::result::Result<
    rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert>,
    rustls::Error,
> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    Ok(builder.with_root_certificates(roots))
}

/// A refused upgrade carries the server's HTTP answer: the same error as a call.
fn handshake_error(err: tungstenite::Error) -> Error {
    match err {
        tungstenite::Error::Http(response) => {
            let request_id = response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok());
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = response.body().as_deref().unwrap_or_default();
            Error::from_response(response.status().as_u16(), request_id, retry_after, body)
        }
        other => socket_error(other),
    }
}

fn socket_error(err: tungstenite::Error) -> Error {
    match err {
        tungstenite::Error::Capacity(e) => Error::new(
            ErrorKind::LimitExceeded,
            format!("a WebSocket frame exceeds max_event_bytes ({e})"),
        ),
        tungstenite::Error::Io(e) => {
            Error::new(ErrorKind::Connection, format!("socket I/O failed: {e}"))
        }
        other => Error::new(ErrorKind::Connection, format!("WebSocket error: {other}")),
    }
}

/// The task that owns one connection.
struct Connection {
    frames: SocketFrames,
    idle: Duration,
    limit: u64,
    tx: mpsc::Sender<Result<Message>>,
    exit_code: Arc<StdMutex<Option<i64>>>,
}

enum Step {
    Continue,
    End,
}

impl Connection {
    async fn run(self, mut ws: Ws, mut outgoing: mpsc::Receiver<Outgoing>, closed: CancelToken) {
        // Pings well inside the idle limit: a live peer's pongs keep a quiet
        // terminal open; a dead one is noticed within `idle`.
        let ping_every = (self.idle / 3).max(Duration::from_millis(200));
        let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        let mut deadline = Instant::now() + self.idle;
        loop {
            tokio::select! {
                biased;
                () = closed.cancelled() => return close_politely(&mut ws).await,
                () = self.tx.closed() => return close_politely(&mut ws).await,
                item = outgoing.recv() => match item {
                    Some(Outgoing::Frame(frame)) => {
                        if let Err(e) = ws.send(frame).await {
                            let _ = self.tx.send(Err(socket_error(e))).await;
                            return;
                        }
                    }
                    Some(Outgoing::Close) | None => return close_politely(&mut ws).await,
                },
                _ = ping.tick() => {
                    if let Err(e) = ws.send(WsMessage::Ping(Bytes::new())).await {
                        let _ = self.tx.send(Err(socket_error(e))).await;
                        return;
                    }
                }
                frame = tokio::time::timeout_at(deadline, ws.next()) => {
                    let frame = match frame {
                        Err(_) => {
                            let err = Error::new(
                                ErrorKind::Timeout,
                                format!("the socket was silent for {} s (not even a pong)", self.idle.as_secs_f64()),
                            );
                            let _ = self.tx.send(Err(err)).await;
                            return close_politely(&mut ws).await;
                        }
                        Ok(None) => return,
                        Ok(Some(Err(e))) => {
                            let _ = self.tx.send(Err(socket_error(e))).await;
                            return;
                        }
                        Ok(Some(Ok(frame))) => frame,
                    };
                    deadline = Instant::now() + self.idle;
                    if let Step::End = self.receive(frame).await {
                        return close_politely(&mut ws).await;
                    }
                }
            }
        }
    }

    async fn receive(&self, frame: WsMessage) -> Step {
        let message = match frame {
            WsMessage::Text(text) => {
                let data = Bytes::from(text.as_bytes().to_vec());
                match self.frames {
                    SocketFrames::Exec => return self.exec_frame(&data).await,
                    _ => Message {
                        channel: Channel::Text,
                        data,
                    },
                }
            }
            WsMessage::Binary(data) => Message {
                channel: Channel::Binary,
                data,
            },
            WsMessage::Close(frame) => return self.closed_by_server(frame).await,
            // Pings are answered by the library; pongs only prove liveness.
            WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => return Step::Continue,
        };
        self.deliver(Ok(message)).await
    }

    async fn deliver(&self, item: Result<Message>) -> Step {
        match self.tx.send(item).await {
            Ok(()) => Step::Continue,
            Err(_) => Step::End,
        }
    }

    /// The canonical exec frames; anything else is handed over as text.
    async fn exec_frame(&self, data: &Bytes) -> Step {
        let parsed: Option<Value> = serde_json::from_slice(data).ok();
        let kind = parsed
            .as_ref()
            .and_then(|v| v.get("type"))
            .and_then(Value::as_str);
        let text = |v: &Value| {
            v.get("data")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        match (kind, parsed.as_ref()) {
            (Some("stdout"), Some(v)) => {
                self.deliver(Ok(Message {
                    channel: Channel::Stdout,
                    data: Bytes::from(text(v)),
                }))
                .await
            }
            (Some("stderr"), Some(v)) => {
                self.deliver(Ok(Message {
                    channel: Channel::Stderr,
                    data: Bytes::from(text(v)),
                }))
                .await
            }
            (Some("exit"), Some(v)) => {
                let code = v
                    .get("code")
                    .or_else(|| v.get("exit"))
                    .and_then(Value::as_i64);
                *self
                    .exit_code
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = code;
                Step::End
            }
            _ => {
                self.deliver(Ok(Message {
                    channel: Channel::Text,
                    data: data.clone(),
                }))
                .await
            }
        }
    }

    /// A normal close ends the socket quietly; any other code is an error
    /// naming it (and the server's reason, bounded).
    async fn closed_by_server(&self, frame: Option<CloseFrame>) -> Step {
        let Some(frame) = frame else {
            return Step::End;
        };
        if matches!(frame.code, CloseCode::Normal | CloseCode::Away) {
            return Step::End;
        }
        let reason: String = frame.reason.as_str().chars().take(200).collect();
        let kind = if frame.code == CloseCode::Size {
            ErrorKind::LimitExceeded
        } else {
            ErrorKind::Connection
        };
        let code = u16::from(frame.code);
        let message = if kind == ErrorKind::LimitExceeded {
            format!(
                "the server closed the socket (code {code}): a message was too big for it; {reason} (max_event_bytes is {})",
                self.limit
            )
        } else {
            format!("the server closed the socket (code {code}): {reason}")
        };
        let _ = self.tx.send(Err(Error::new(kind, message))).await;
        Step::End
    }
}

async fn close_politely(ws: &mut Ws) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        if ws.close(None).await.is_ok() {
            // Drain until the peer's close frame, so the close is clean.
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_urls_follow_the_base_url_scheme() {
        let http = reqwest::Url::parse("http://127.0.0.1:9/api/v1/x/stream?a=b%20c")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            socket_url(&http).map(|u| u.to_string()).ok().as_deref(),
            Some("ws://127.0.0.1:9/api/v1/x/stream?a=b%20c")
        );
        let https = reqwest::Url::parse("https://api.example.test/api/v1/t")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            socket_url(&https).map(|u| u.to_string()).ok().as_deref(),
            Some("wss://api.example.test/api/v1/t")
        );
    }
}
