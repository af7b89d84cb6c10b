//! `NativeClient`: one core `Client` plus the generic entry points the JS
//! layer's generated namespaces call (`call`, `openStream`, `pager`).

use bytes::Bytes;
use miosa::{Arg, Client, Dialect, Input, OpSpec, Output, RequestOptions};
use napi::Env;
use napi::bindgen_prelude::{Buffer, Either, Object};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::cancel::{CancelToken, run_cancellable};
use crate::errors::{invalid, to_napi};
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

    /// Calls any non-streaming operation. Resolves with JSON text (objects,
    /// lists, pages as `{items, next_cursor}`, booleans) or a `Buffer` (bytes).
    #[napi(catch_unwind, ts_return_type = "Promise<string | Buffer>")]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        op: String,
        args: Vec<Either<Buffer, String>>,
        params: Option<String>,
        options: Option<String>,
        cancel: Option<&CancelToken>,
    ) -> napi::Result<Object<'env>> {
        let (reply, promise) = Reply::<Either<String, Buffer>>::new(env)?;
        let prepared = match self.prepare(&op, args, params, options) {
            Ok(prepared) => prepared,
            Err(err) => {
                reply.reject(&err);
                return Ok(promise);
            }
        };
        let cancel = cancel.map(CancelToken::token);
        self.rt.spawn(async move {
            let Prepared {
                client,
                op,
                args,
                params,
            } = prepared;
            let outcome = run_cancellable(client.invoke(op, args, params), cancel)
                .await
                .and_then(encode_output);
            reply.settle(outcome, |_env, out| {
                Ok(match out {
                    Encoded::Text(text) => Either::A(text),
                    Encoded::Bytes(bytes) => Either::B(Buffer::from(Vec::<u8>::from(bytes))),
                })
            });
        });
        Ok(promise)
    }

    /// Runs a wait of the table like `call`, calling `on_state` on the JS thread
    /// with each new lifecycle state seen; resolves with the same JSON boolean.
    #[napi(catch_unwind, ts_return_type = "Promise<string | Buffer>")]
    #[allow(clippy::too_many_arguments)]
    pub fn call_watching<'env>(
        &self,
        env: &'env Env,
        op: String,
        args: Vec<Either<Buffer, String>>,
        params: Option<String>,
        options: Option<String>,
        cancel: Option<&CancelToken>,
        #[napi(ts_arg_type = "(state: string) => void")] on_state: ThreadsafeFunction<
            String,
            (),
            String,
            napi::Status,
            false,
        >,
    ) -> napi::Result<Object<'env>> {
        let (reply, promise) = Reply::<Either<String, Buffer>>::new(env)?;
        let prepared = match self.prepare(&op, args, params, options) {
            Ok(prepared) => prepared,
            Err(err) => {
                reply.reject(&err);
                return Ok(promise);
            }
        };
        let cancel = cancel.map(CancelToken::token);
        let on_state: miosa::OnState = std::sync::Arc::new(move |state: &str| {
            on_state.call(state.to_owned(), ThreadsafeFunctionCallMode::NonBlocking);
        });
        self.rt.spawn(async move {
            let Prepared {
                client,
                op,
                args,
                params,
            } = prepared;
            let outcome =
                run_cancellable(client.invoke_watching(op, args, params, on_state), cancel)
                    .await
                    .map(Output::Bool)
                    .and_then(encode_output);
            reply.settle(outcome, |_env, out| {
                Ok(match out {
                    Encoded::Text(text) => Either::A(text),
                    Encoded::Bytes(bytes) => Either::B(Buffer::from(Vec::<u8>::from(bytes))),
                })
            });
        });
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
        self.rt.spawn(async move {
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
        });
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
        self.rt.spawn(async move {
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
        });
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
        Ok(NativePager::new(pager, self.rt.clone()))
    }
}

impl NativeClient {
    fn from_client(client: miosa::Result<Client>) -> napi::Result<Self> {
        let client = client.map_err(|e| to_napi(&e))?;
        let rt = runtime_of(&client).map_err(|e| to_napi(&e))?;
        Ok(Self { client, rt })
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
                Either::B(json) => parse_input("argument", &json)
                    .and_then(|input| input.to_json("argument"))
                    .map(Arg::Json),
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
        let client = match options {
            None => self.client.clone(),
            Some(text) => {
                let input = parse_input("call options", &text)?;
                self.client
                    .with_options(RequestOptions::from_input(&input, Dialect::CAMEL_MILLIS)?)?
            }
        };
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
        other => Ok(Encoded::Text(other.into_json()?.to_string())),
    }
}
