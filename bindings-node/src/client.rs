//! `NativeClient`: one core `Client` plus the generic entry points the JS
//! layer's generated namespaces call (`call`, `openStream`, `pager`).

use bytes::Bytes;
use miosa::{Arg, Client, Dialect, Input, OpSpec, Output, RequestOptions};
use napi::Env;
use napi::bindgen_prelude::{Buffer, Either, Function, Object};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::cancel::{CancelToken, run_cancellable};
use crate::errors::{invalid, to_napi};
use crate::observe::{CallReply, Logger, ProgressFunction};
use crate::pager::NativePager;
use crate::reply::Reply;
use crate::stream::NativeStream;

/// Parses JSON text from the JS layer.
fn parse_json<T: for<'de> Deserialize<'de>>(what: &str, text: &str) -> miosa::Result<T> {
    serde_json::from_str(text).map_err(|e| invalid(format!("invalid {what}: {e}")))
}

/// Tagged JSON from the JS layer's `toTaggedJson` (NaN, infinities, BigInt and
/// functions stay recognisable) as the core's plain input.
fn parse_input(what: &str, text: &str) -> miosa::Result<Input> {
    parse_json::<Value>(what, text).map(|v| Input::from_tagged_json(&v))
}

fn build_client(api_key: &str, settings: &str) -> miosa::Result<Client> {
    let settings = match parse_input("client settings", settings)? {
        Input::Map(mut entries) => {
            entries.insert(0, ("apiKey".to_owned(), parse_input("API key", api_key)?));
            Input::Map(entries)
        }
        other => other,
    };
    Client::from_input(&settings, Dialect::CAMEL_MILLIS)
}

/// The runtime handle of a client, taken from inside its runtime so tasks can
/// be spawned detached: their only owner is the Promise they settle.
fn runtime_of(client: &Client) -> miosa::Result<tokio::runtime::Handle> {
    client.block_on(async { Ok(tokio::runtime::Handle::current()) })
}

/// One MIOSA client (its own runtime and connection pool). Cheap to share.
#[napi]
#[derive(Debug)]
pub struct NativeClient {
    client: Client,
    rt: tokio::runtime::Handle,
    logger: Option<Logger>,
}

/// A prepared call: the operation, its converted arguments, and the handle to run it with.
pub(crate) struct Prepared {
    pub(crate) client: Client,
    pub(crate) op: &'static OpSpec,
    pub(crate) args: Vec<Arg>,
    pub(crate) params: Map<String, Value>,
}

#[napi]
impl NativeClient {
    /// `api_key` and `settings` are tagged JSON (see `toTaggedJson` in `lib/core.js`);
    /// the settings object uses the camelCase names of `ClientOptions`.
    #[napi(constructor, catch_unwind)]
    pub fn new(api_key: String, settings: String) -> napi::Result<Self> {
        Self::from_client(build_client(&api_key, &settings))
    }

    /// The API root requests go to.
    #[napi(getter, catch_unwind)]
    pub fn base_url(&self) -> String {
        miosa::redact::url(self.client.config().base_url())
    }

    /// The settings in effect as JSON (snake_case names, seconds), secrets redacted.
    #[napi(getter, catch_unwind)]
    pub fn settings(&self) -> String {
        self.client.config().summary().to_string()
    }

    /// The per-call options `options` (tagged JSON) stand for, as JSON (snake_case, seconds).
    #[napi(catch_unwind)]
    pub fn call_options(&self, options: String) -> napi::Result<String> {
        parse_input("call options", &options)
            .and_then(|input| RequestOptions::from_input(&input, Dialect::CAMEL_MILLIS))
            .map(|options| options.summary().to_string())
            .map_err(|e| to_napi(&e))
    }

    /// Calls any non-streaming operation. Resolves with its value, JSON text
    /// (objects, lists, pages as `{items, next_cursor}`, booleans) or a
    /// `Buffer` (bytes), and the request id; with `raw`, also the status and headers.
    /// A wait given `on_state` reports each new lifecycle state through it on the
    /// JS thread (the core refuses the callback for any other operation).
    #[napi(catch_unwind, ts_return_type = "Promise<CallReply>")]
    #[allow(clippy::too_many_arguments)]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        op: String,
        args: Vec<Either<Buffer, String>>,
        params: Option<String>,
        options: Option<String>,
        cancel: Option<&CancelToken>,
        raw: Option<bool>,
        #[napi(ts_arg_type = "((state: string) => void) | undefined | null")] on_state: Option<
            ThreadsafeFunction<String, (), String, napi::Status, false>,
        >,
    ) -> napi::Result<Object<'env>> {
        let (reply, promise) = Reply::<CallReply>::new(env)?;
        let prepared = match self.prepare(&op, args, params, options) {
            Ok(prepared) => prepared,
            Err(err) => {
                reply.reject(&err);
                return Ok(promise);
            }
        };
        let cancel = cancel.map(CancelToken::token);
        let raw = raw == Some(true);
        let on_state = on_state.map(|f| -> miosa::OnState {
            std::sync::Arc::new(move |state: &str| {
                f.call(state.to_owned(), ThreadsafeFunctionCallMode::NonBlocking);
            })
        });
        self.rt
            .spawn(Logger::scope(self.logger.clone(), async move {
                let Prepared {
                    client,
                    op,
                    args,
                    params,
                } = prepared;
                let outcome = match on_state {
                    None => {
                        run_cancellable(
                            client.with_response(client.invoke(op, args, params)),
                            cancel,
                        )
                        .await
                    }
                    Some(on_state) => {
                        let wait = client.invoke_watching(op, args, params, on_state);
                        run_cancellable(client.with_response(wait), cancel)
                            .await
                            .map(|(ready, response)| (Output::Bool(ready), response))
                    }
                };
                let outcome =
                    outcome.and_then(|(out, response)| Ok((encode_output(out)?, response)));
                reply.settle(outcome, move |_env, (out, response)| {
                    let value = match out {
                        Encoded::Text(text) => Either::A(text),
                        Encoded::Bytes(bytes) => Either::B(Buffer::from(Vec::<u8>::from(bytes))),
                    };
                    Ok(CallReply::new(value, response, raw))
                });
            }));
        Ok(promise)
    }

    /// Opens an SSE operation's stream; resolves once the server answered
    /// (errors such as 401 or 404 reject here).
    #[napi(catch_unwind, ts_return_type = "Promise<NativeStream>")]
    pub fn open_stream<'env>(
        &self,
        env: &'env Env,
        op: String,
        args: Vec<Either<Buffer, String>>,
        params: Option<String>,
        options: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'env>> {
        let (reply, promise) = Reply::<NativeStream>::new(env)?;
        let prepared = match self.prepare(&op, args, params, options) {
            Ok(prepared) => prepared,
            Err(err) => {
                reply.reject(&err);
                return Ok(promise);
            }
        };
        let cancel = cancel.map(CancelToken::token);
        let rt = self.rt.clone();
        self.rt
            .spawn(Logger::scope(self.logger.clone(), async move {
                let Prepared {
                    client,
                    op,
                    args,
                    params,
                } = prepared;
                let outcome = run_cancellable(client.invoke(op, args, params), cancel)
                    .await
                    .and_then(Output::into_events);
                reply.settle(outcome, move |_env, events| {
                    Ok(NativeStream::new(events, rt))
                });
            }));
        Ok(promise)
    }

    /// Opens a WebSocket operation's socket; resolves once the upgrade is done
    /// (a refusal such as 401 or 404 rejects here).
    #[napi(catch_unwind, ts_return_type = "Promise<NativeSocket>")]
    pub fn open_socket<'env>(
        &self,
        env: &'env Env,
        op: String,
        args: Vec<Either<Buffer, String>>,
        params: Option<String>,
        options: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'env>> {
        let (reply, promise) = Reply::<crate::socket::NativeSocket>::new(env)?;
        let prepared = match self.prepare(&op, args, params, options) {
            Ok(prepared) => prepared,
            Err(err) => {
                reply.reject(&err);
                return Ok(promise);
            }
        };
        let cancel = cancel.map(CancelToken::token);
        let rt = self.rt.clone();
        self.rt
            .spawn(Logger::scope(self.logger.clone(), async move {
                let Prepared {
                    client,
                    op,
                    args,
                    params,
                } = prepared;
                let outcome = run_cancellable(client.invoke(op, args, params), cancel)
                    .await
                    .and_then(Output::into_socket);
                reply.settle(outcome, move |_env, socket| {
                    Ok(crate::socket::NativeSocket::new(socket, rt))
                });
            }));
        Ok(promise)
    }

    /// A lazy walker over every page of a paginated operation.
    #[napi(catch_unwind)]
    pub fn pager(
        &self,
        op: String,
        args: Vec<Either<Buffer, String>>,
        params: Option<String>,
        options: Option<String>,
    ) -> napi::Result<NativePager> {
        let prepared = self
            .prepare(&op, args, params, options)
            .map_err(|e| to_napi(&e))?;
        let pager = prepared
            .client
            .pager(prepared.op, prepared.args, prepared.params)
            .map_err(|e| to_napi(&e))?;
        Ok(NativePager::new(
            pager,
            self.rt.clone(),
            self.logger.clone(),
        ))
    }

    /// Sends this client's log records at or above `level` (`debug`, `info`,
    /// `warn`; `off` stops) to `handler` as JSON text, instead of `MIOSA_LOG`'s stderr.
    #[napi(catch_unwind)]
    pub fn set_logger(
        &mut self,
        level: String,
        handler: Function<'_, String, ()>,
    ) -> napi::Result<()> {
        self.logger = Logger::new(&level, &handler)?;
        Ok(())
    }

    /// Streams the sandbox file `remote_path` into the local file `local_path`;
    /// resolves with the number of bytes written. `on_progress(done, total)` follows it.
    #[napi(catch_unwind, ts_return_type = "Promise<number>")]
    #[allow(clippy::too_many_arguments)]
    pub fn download_to_path<'env>(
        &self,
        env: &'env Env,
        sandbox_id: String,
        remote_path: String,
        local_path: String,
        #[napi(ts_arg_type = "((done: number, total?: number | null) => void) | undefined | null")]
        on_progress: Option<ProgressFunction<'_>>,
        options: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'env>> {
        let progress = crate::observe::progress(on_progress.as_ref())?;
        let (reply, promise) = Reply::<f64>::new(env)?;
        let client = match self.with_options(options) {
            Ok(client) => client,
            Err(err) => {
                reply.reject(&err);
                return Ok(promise);
            }
        };
        let cancel = cancel.map(CancelToken::token);
        self.rt
            .spawn(Logger::scope(self.logger.clone(), async move {
                let call = client.download_to_path(&sandbox_id, &remote_path, local_path, progress);
                let outcome = run_cancellable(call, cancel).await;
                // Byte counts stay exact in a double up to 2^53.
                #[allow(clippy::cast_precision_loss)]
                reply.settle(outcome, |_env, written| Ok(written as f64));
            }));
        Ok(promise)
    }

    /// Streams the local file `local_path` to the sandbox path `remote_path`;
    /// resolves with the server's answer as JSON text (a `FileWritten`) and its request id.
    #[napi(catch_unwind, ts_return_type = "Promise<CallReply>")]
    #[allow(clippy::too_many_arguments)]
    pub fn upload_from_path<'env>(
        &self,
        env: &'env Env,
        sandbox_id: String,
        remote_path: String,
        local_path: String,
        #[napi(ts_arg_type = "((done: number, total?: number | null) => void) | undefined | null")]
        on_progress: Option<ProgressFunction<'_>>,
        options: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'env>> {
        let progress = crate::observe::progress(on_progress.as_ref())?;
        let (reply, promise) = Reply::<CallReply>::new(env)?;
        let client = match self.with_options(options) {
            Ok(client) => client,
            Err(err) => {
                reply.reject(&err);
                return Ok(promise);
            }
        };
        let cancel = cancel.map(CancelToken::token);
        self.rt
            .spawn(Logger::scope(self.logger.clone(), async move {
                let call = client.with_response(client.upload_from_path(
                    &sandbox_id,
                    &remote_path,
                    local_path,
                    progress,
                ));
                let outcome = run_cancellable(call, cancel).await;
                reply.settle(outcome, |_env, (answer, response)| {
                    Ok(CallReply::new(
                        Either::A(answer.to_string()),
                        response,
                        false,
                    ))
                });
            }));
        Ok(promise)
    }
}

impl NativeClient {
    fn from_client(client: miosa::Result<Client>) -> napi::Result<Self> {
        let client = client.map_err(|e| to_napi(&e))?;
        let rt = runtime_of(&client).map_err(|e| to_napi(&e))?;
        Ok(Self {
            client,
            rt,
            logger: None,
        })
    }

    /// The client, with the per-call options `options` (tagged JSON) when given.
    fn with_options(&self, options: Option<String>) -> miosa::Result<Client> {
        match options {
            None => Ok(self.client.clone()),
            Some(text) => {
                let input = parse_input("call options", &text)?;
                self.client
                    .with_options(RequestOptions::from_input(&input, Dialect::CAMEL_MILLIS)?)
            }
        }
    }

    fn prepare(
        &self,
        op: &str,
        args: Vec<Either<Buffer, String>>,
        params: Option<String>,
        options: Option<String>,
    ) -> miosa::Result<Prepared> {
        let spec =
            miosa::ops::find(op).ok_or_else(|| invalid(format!("unknown operation `{op}`")))?;
        let args = args
            .into_iter()
            .map(|arg| match arg {
                Either::A(buf) => Ok(Arg::Bytes(Bytes::copy_from_slice(&buf))),
                Either::B(json) => parse_input("argument", &json).and_then(|input| {
                    // Bytes inside a list or object (`writeMany` items) reach the core as
                    // bytes; the table says how each part is sent.
                    if input.holds_bytes() {
                        Ok(Arg::Input(input))
                    } else {
                        input.to_json("argument").map(Arg::Json)
                    }
                }),
            })
            .collect::<miosa::Result<Vec<_>>>()?;
        let params = match params {
            None => Map::new(),
            Some(text) => match parse_input("parameters", &text)?.to_json("params")? {
                Value::Object(map) => map,
                Value::Null => Map::new(),
                _ => return Err(invalid(format!("{op}: parameters must be an object"))),
            },
        };
        let client = self.with_options(options)?;
        Ok(Prepared {
            client,
            op: spec,
            args,
            params,
        })
    }
}

/// A call's result, ready to cross to the JS thread.
enum Encoded {
    Text(String),
    Bytes(Bytes),
}

fn encode_output(out: Output) -> miosa::Result<Encoded> {
    match out {
        Output::Bytes(bytes) => Ok(Encoded::Bytes(bytes)),
        Output::Events(_) => Err(invalid(
            "this operation returns an event stream; call it through its stream method",
        )),
        Output::Socket(_) => Err(invalid(
            "this operation opens a WebSocket; call it through its socket method",
        )),
        other => Ok(Encoded::Text(other.into_json_text()?)),
    }
}
