//! `NativeSocket`: an open WebSocket. `next()` pulls one message, `send`,
//! `resize`, `signal` and `closeStdin` write; `close()` from anywhere ends a
//! pending `next()`. The JS layer (lib/socket.js) adds the async iterator
//! and `Symbol.asyncDispose`.

use std::sync::Arc;

use miosa::Socket;
use napi::Env;
use napi::bindgen_prelude::{Buffer, Either, Object};
use napi_derive::napi;

use crate::reply::Reply;

/// One message received on a socket.
#[napi(object)]
pub struct SocketMessage {
    /// `text`, `binary`, `stdout` or `stderr`.
    pub channel: String,
    /// The message's bytes.
    pub data: Buffer,
}

impl std::fmt::Debug for SocketMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketMessage")
            .field("channel", &self.channel)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl From<miosa::Message> for SocketMessage {
    fn from(m: miosa::Message) -> Self {
        Self {
            channel: m.channel.as_str().to_owned(),
            data: Buffer::from(Vec::<u8>::from(m.data)),
        }
    }
}

/// A live WebSocket. Dropping it (garbage collection) also closes it.
#[napi]
#[derive(Debug)]
pub struct NativeSocket {
    socket: Arc<Socket>,
    rt: tokio::runtime::Handle,
}

impl NativeSocket {
    pub(crate) fn new(socket: Socket, rt: tokio::runtime::Handle) -> Self {
        Self {
            socket: Arc::new(socket),
            rt,
        }
    }

    /// Runs one write on the client's runtime and settles a promise with it.
    fn write<'env, F, Fut>(&self, env: &'env Env, action: F) -> napi::Result<Object<'env>>
    where
        F: FnOnce(Arc<Socket>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = miosa::Result<()>> + Send,
    {
        let (reply, promise) = Reply::<()>::new(env)?;
        let socket = Arc::clone(&self.socket);
        self.rt.spawn(async move {
            let outcome = action(socket).await;
            reply.settle(outcome, |_env, ()| Ok(()));
        });
        Ok(promise)
    }
}

#[napi]
impl NativeSocket {
    /// The next message, or `null` once the socket has ended or was closed.
    #[napi(catch_unwind, ts_return_type = "Promise<SocketMessage | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        let (reply, promise) = Reply::<Option<SocketMessage>>::new(env)?;
        let socket = Arc::clone(&self.socket);
        self.rt.spawn(async move {
            let item = socket.next().await;
            if !matches!(item, Some(Ok(_))) {
                // Ended, failed or closed: free the connection.
                socket.close();
            }
            reply.settle(item.transpose(), |_env, m| Ok(m.map(SocketMessage::from)));
        });
        Ok(promise)
    }

    /// Sends text or bytes: terminal input, or an exec's stdin.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn send<'env>(
        &self,
        env: &'env Env,
        data: Either<String, Buffer>,
    ) -> napi::Result<Object<'env>> {
        match data {
            Either::A(text) => self.write(env, move |s| async move { s.send_text(&text).await }),
            Either::B(buf) => {
                let bytes = buf.to_vec();
                self.write(env, move |s| async move { s.send_bytes(&bytes).await })
            }
        }
    }

    /// Resizes the terminal to `cols` × `rows`.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn resize<'env>(&self, env: &'env Env, cols: u32, rows: u32) -> napi::Result<Object<'env>> {
        self.write(env, move |s| async move { s.resize(cols, rows).await })
    }

    /// Sends a signal such as `SIGINT` to an exec's process.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn signal<'env>(&self, env: &'env Env, signal: String) -> napi::Result<Object<'env>> {
        self.write(env, move |s| async move { s.signal(&signal).await })
    }

    /// Ends an exec's standard input.
    #[napi(catch_unwind, ts_return_type = "Promise<void>")]
    pub fn close_stdin<'env>(&self, env: &'env Env) -> napi::Result<Object<'env>> {
        self.write(env, |s| async move { s.close_stdin().await })
    }

    /// The exit code an exec reported, once it has.
    #[napi(getter)]
    pub fn exit_code(&self) -> Option<i64> {
        self.socket.exit_code()
    }

    /// `terminal`, `exec` or `events`.
    #[napi(getter)]
    pub fn frames(&self) -> String {
        self.socket.frames().as_str().to_owned()
    }

    /// Whether the socket was closed (or has ended).
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.socket.is_closed()
    }

    /// Closes the socket now; a pending `next()` resolves with `null`.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.socket.close();
    }
}
