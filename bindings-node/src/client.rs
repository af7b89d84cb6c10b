//! `NativeClient`: one core `Client` plus the generic entry points the JS
//! layer's generated namespaces call (`call`, `openStream`, `pager`).

use std::time::Duration;

use bytes::Bytes;
use miosa::{Arg, Client, OpSpec, Output, RequestOptions, RetryPolicy};
use napi::Env;
use napi::bindgen_prelude::{Buffer, Either, Object};
use napi_derive::napi;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::cancel::{CancelToken, run_cancellable};
use crate::errors::{invalid, to_napi};
use crate::pager::NativePager;
use crate::reply::Reply;
use crate::stream::NativeStream;

/// Settings of `new Client(apiKey, settings)`, sent as JSON by the JS layer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    base_url: Option<String>,
    /// Connect timeout in ms (the seed's `timeout`).
    timeout: Option<f64>,
    /// Response and stream-idle timeout in ms (the seed's `receive_timeout`).
    receive_timeout: Option<f64>,
    /// Limit on a whole call, retries included, in ms.
    operation_timeout: Option<f64>,
    retry: Option<RetrySetting>,
    #[serde(default)]
    headers: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RetrySetting {
    On(bool),
    Policy(RetryFields),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RetryFields {
    max_attempts: Option<u32>,
    base_delay: Option<f64>,
    max_delay: Option<f64>,
}

/// Per-call options (`extraHeaders`, `extraQuery`, `extraBody`, `timeout`), sent as JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CallOptions {
    #[serde(default)]
    extra_headers: Map<String, Value>,
    #[serde(default)]
    extra_query: Map<String, Value>,
    #[serde(default)]
    extra_body: Map<String, Value>,
    /// Per-attempt timeout in ms.
    timeout: Option<f64>,
}

fn millis(name: &str, ms: f64) -> miosa::Result<Duration> {
    if ms.is_finite() && ms >= 0.0 {
        Ok(Duration::from_secs_f64(ms / 1000.0))
    } else {
        Err(invalid(format!(
            "`{name}` must be a non-negative number of milliseconds"
        )))
    }
}

fn header_pairs(name: &str, map: Map<String, Value>) -> miosa::Result<Vec<(String, String)>> {
    map.into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k, s)),
            Value::Number(n) => Ok((k, n.to_string())),
            _ => Err(invalid(format!("`{name}.{k}` must be a string"))),
        })
        .collect()
}

fn parse_json<T: for<'de> Deserialize<'de>>(what: &str, text: &str) -> miosa::Result<T> {
    serde_json::from_str(text).map_err(|e| invalid(format!("invalid {what}: {e}")))
}

fn build_client(api_key: String, settings: Option<String>) -> miosa::Result<Client> {
    let settings: Settings = match settings {
        Some(text) => parse_json("client settings", &text)?,
        None => Settings::default(),
    };
    let mut builder = Client::builder(api_key);
    if let Some(url) = settings.base_url {
        builder = builder.base_url(url);
    }
    if let Some(ms) = settings.timeout {
        builder = builder.timeout(millis("timeout", ms)?);
    }
    if let Some(ms) = settings.receive_timeout {
        builder = builder.receive_timeout(millis("receiveTimeout", ms)?);
    }
    if let Some(ms) = settings.operation_timeout {
        builder = builder.operation_timeout(millis("operationTimeout", ms)?);
    }
    match settings.retry {
        None => {}
        Some(RetrySetting::On(on)) => builder = builder.retry(on),
        Some(RetrySetting::Policy(fields)) => {
            let mut policy = RetryPolicy::default();
            if let Some(n) = fields.max_attempts {
                policy.max_attempts = n;
            }
            if let Some(ms) = fields.base_delay {
                policy.base_delay = millis("retry.baseDelay", ms)?;
            }
            if let Some(ms) = fields.max_delay {
                policy.max_delay = millis("retry.maxDelay", ms)?;
            }
            builder = builder.retry_policy(policy);
        }
    }
    for (name, value) in header_pairs("headers", settings.headers)? {
        builder = builder.header(name, value);
    }
    builder.build()
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
    /// `settings` is the JSON of `{ baseUrl, timeout, receiveTimeout, operationTimeout, retry, headers }`.
    #[napi(constructor, catch_unwind)]
    pub fn new(api_key: String, settings: Option<String>) -> napi::Result<Self> {
        Self::from_client(build_client(api_key, settings))
    }

    /// A client from `MIOSA_API_KEY` and, when set, `MIOSA_BASE_URL`.
    #[napi(factory, catch_unwind)]
    pub fn from_env() -> napi::Result<Self> {
        Self::from_client(Client::from_env())
    }

    /// The API root requests go to.
    #[napi(getter, catch_unwind)]
    pub fn base_url(&self) -> String {
        self.client.config().base_url().to_owned()
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
                Either::B(json) => parse_json::<Value>("argument", &json).map(Arg::Json),
            })
            .collect::<miosa::Result<Vec<_>>>()?;
        let params = match params {
            None => Map::new(),
            Some(text) => match parse_json::<Value>("parameters", &text)? {
                Value::Object(map) => map,
                Value::Null => Map::new(),
                _ => return Err(invalid(format!("{op}: parameters must be an object"))),
            },
        };
        let client = match options {
            None => self.client.clone(),
            Some(text) => {
                let options: CallOptions = parse_json("call options", &text)?;
                let timeout = options
                    .timeout
                    .map(|ms| millis("timeout", ms))
                    .transpose()?;
                self.client.with_options(RequestOptions {
                    headers: header_pairs("extraHeaders", options.extra_headers)?,
                    query: options.extra_query,
                    body: options.extra_body,
                    timeout,
                    ..RequestOptions::default()
                })?
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
        other => Ok(Encoded::Text(other.into_json()?.to_string())),
    }
}
