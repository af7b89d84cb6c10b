//! Operations of the table that are more than one plain request.

use std::time::Duration;

use futures_util::future::BoxFuture;
use percent_encoding::utf8_percent_encode;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::client::Client;
use crate::decode::{Output, unwrap_envelope};
use crate::dispatch;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{HttpMethod, OpSpec, Returns};
use crate::request::{self, Accept, Arg, Body, Prepared};
use crate::stream::EventStream;

mod computer;
mod watch;
pub(crate) use computer::{
    computer_preview_url, computer_wait_until_running, computer_wait_until_stopped,
};
pub use watch::OnState;
use watch::StateWatch;

/// Refuses a call with the wrong number of positional arguments, with the
/// table-driven message.
fn check_arity(client: &Client, op: &'static OpSpec, args: &[Arg]) -> Result<()> {
    if args.len() != op.arity() {
        request::prepare(
            client.config(),
            client.options(),
            op,
            args,
            Map::new(),
            None,
        )?;
    }
    Ok(())
}

/// `stream_sse`: GET on any path of the API, as an event stream.
pub(crate) fn stream_sse(
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> BoxFuture<'static, Result<Output>> {
    Box::pin(async move {
        check_arity(&client, op, &args)?;
        open_sse(&client, &args[0], params).await
    })
}

/// `sandboxes.wait_until_ready`.
pub(crate) fn sandboxes_wait_until_ready(
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> BoxFuture<'static, Result<Output>> {
    Box::pin(async move {
        check_arity(&client, op, &args)?;
        let id = id_arg(op, &args[0])?;
        wait_until_ready(&client, &id, &params, &mut StateWatch::default())
            .await
            .map(Output::Bool)
    })
}

/// `sandbox.env.set`.
pub(crate) fn sandbox_env_set(
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> BoxFuture<'static, Result<Output>> {
    Box::pin(async move {
        check_arity(&client, op, &args)?;
        let id = id_arg(op, &args[0])?;
        env_set(&client, &id, &args[1..], params).await
    })
}

/// `sandbox.tags.list`.
pub(crate) fn sandbox_tags_list(
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    _params: Map<String, Value>,
) -> BoxFuture<'static, Result<Output>> {
    Box::pin(async move {
        check_arity(&client, op, &args)?;
        let id = id_arg(op, &args[0])?;
        Ok(Output::Json(Value::Array(
            sandbox_tags(&client, &id).await?,
        )))
    })
}

/// `sandbox.tags.add`.
pub(crate) fn sandbox_tags_add(
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    _params: Map<String, Value>,
) -> BoxFuture<'static, Result<Output>> {
    Box::pin(async move { change_tags(&client, op, &args, true).await })
}

/// `sandbox.tags.remove`.
pub(crate) fn sandbox_tags_remove(
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    _params: Map<String, Value>,
) -> BoxFuture<'static, Result<Output>> {
    Box::pin(async move { change_tags(&client, op, &args, false).await })
}

/// Reads the sandbox's tags and writes back the union (`add`) or the rest.
async fn change_tags(
    client: &Client,
    op: &'static OpSpec,
    args: &[Arg],
    add: bool,
) -> Result<Output> {
    check_arity(client, op, args)?;
    let id = id_arg(op, &args[0])?;
    let Arg::Json(Value::Array(given)) = &args[1] else {
        return Err(Error::invalid(format!(
            "{}: `tags` must be a list",
            op.name
        )));
    };
    let mut tags = sandbox_tags(client, &id).await?;
    if add {
        for tag in given {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
    } else {
        tags.retain(|t| !given.contains(t));
    }
    let path = format!("/sandboxes/{}/tags", segment(&id));
    let value = dispatch::raw_json(
        client,
        HttpMethod::Patch,
        &path,
        Some(json!({ "tags": tags })),
    )
    .await?;
    // The tags as the server stored them, or as sent when it does not echo them.
    let stored = match unwrap_envelope(value) {
        Value::Object(mut map) => map.remove("tags").filter(Value::is_array),
        _ => None,
    };
    Ok(Output::Json(stored.unwrap_or(Value::Array(tags))))
}

fn id_arg(op: &OpSpec, arg: &Arg) -> Result<String> {
    match arg {
        Arg::Json(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(Error::invalid(format!(
            "{}: `{}` must be a non-empty string",
            op.name,
            op.path_params.first().copied().unwrap_or("id")
        ))),
    }
}

fn segment(text: &str) -> String {
    utf8_percent_encode(text, request::SEGMENT).to_string()
}

/// GET on any path of the API, as an event stream; keyword params become the query.
async fn open_sse(client: &Client, path: &Arg, params: Map<String, Value>) -> Result<Output> {
    let Arg::Json(Value::String(path)) = path else {
        return Err(Error::invalid("stream_sse: `path` must be a string"));
    };
    let prepared = Prepared::plain(
        client.config(),
        client.options(),
        HttpMethod::Get,
        path,
        params,
        Body::None,
        Accept::EventStream,
    )?;
    dispatch::execute(client, Returns::Events, prepared).await
}

/// `{"vars": [{"key", "value", "encrypted"?}]}`: the seed's (key, value) pair on the wire.
async fn env_set(
    client: &Client,
    id: &str,
    args: &[Arg],
    mut params: Map<String, Value>,
) -> Result<Output> {
    let [Arg::Json(Value::String(key)), Arg::Json(value)] = args else {
        return Err(Error::invalid(
            "sandbox.env.set: `key` must be a string and `value` JSON",
        ));
    };
    if key.is_empty() {
        return Err(Error::invalid("sandbox.env.set: `key` must not be empty"));
    }
    let value = match value {
        Value::String(s) => Value::String(s.clone()),
        Value::Number(_) | Value::Bool(_) => Value::String(value.to_string()),
        _ => return Err(Error::invalid("sandbox.env.set: `value` must be text")),
    };
    let mut var = Map::new();
    var.insert("key".into(), Value::String(key.clone()));
    var.insert("value".into(), value);
    if let Some(encrypted) = params.remove("encrypted") {
        var.insert("encrypted".into(), encrypted);
    }
    let mut body = Map::new();
    body.insert("vars".into(), Value::Array(vec![Value::Object(var)]));
    body.extend(params);
    let path = format!("/sandboxes/{}/env", segment(id));
    dispatch::raw_json(client, HttpMethod::Put, &path, Some(Value::Object(body)))
        .await
        .map(Output::Json)
}

async fn sandbox_tags(client: &Client, id: &str) -> Result<Vec<Value>> {
    let path = format!("/sandboxes/{}", segment(id));
    let sandbox = dispatch::raw_json(client, HttpMethod::Get, &path, None).await?;
    Ok(sandbox
        .get("tags")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

const DEFAULT_READY_TIMEOUT: f64 = 30.0;
const FIRST_POLL: Duration = Duration::from_millis(100);
const MAX_POLL: Duration = Duration::from_secs(2);

/// PROTOCOL §10: the readiness stream first, then polling with backoff, all bounded by `timeout`.
/// A watched wait polls only: the stream says `ready` but not the states on the way.
async fn wait_until_ready(
    client: &Client,
    id: &str,
    params: &Map<String, Value>,
    watch: &mut StateWatch,
) -> Result<bool> {
    let timeout = match params.get("timeout") {
        None | Some(Value::Null) => DEFAULT_READY_TIMEOUT,
        Some(v) => v
            .as_f64()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| {
                Error::invalid("wait_until_ready: `timeout` must be a number of seconds")
            })?,
    };
    let use_stream = params
        .get("stream")
        .and_then(Value::as_bool)
        .unwrap_or(true)
        && !watch.is_watched();
    let deadline = Instant::now() + Duration::from_secs_f64(timeout.min(86_400.0));
    if use_stream && let Some(answer) = readiness_stream(client, id, deadline).await? {
        return Ok(answer);
    }
    poll_readiness(client, id, deadline, watch).await
}

/// `Some(answer)` when the stream decided; `None` when polling must take over.
async fn readiness_stream(client: &Client, id: &str, deadline: Instant) -> Result<Option<bool>> {
    let path = format!("/sandboxes/{}/readiness/stream", segment(id));
    let remaining = deadline.saturating_duration_since(Instant::now());
    let mut prepared = Prepared::plain(
        client.config(),
        client.options(),
        HttpMethod::Get,
        &path,
        Map::new(),
        Body::None,
        Accept::EventStream,
    )?;
    // The stream must outlive the caller's whole wait, not one idle timeout.
    prepared.timeout = request::attempt_timeout(prepared.timeout, Some(remaining.as_secs_f64()));
    prepared.stream_end = &["ready", "timeout", "error"];
    let stream = match EventStream::open(
        client.transport()?,
        prepared,
        client.cancel_token().cloned(),
    )
    .await
    {
        Ok(stream) => stream,
        // 404: a server without the stream; transport trouble: polling may still work.
        Err(e) if e.status() == Some(404) || e.status().is_none() => return Ok(None),
        Err(e) => return Err(e),
    };
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return Ok(Some(false)),
            Ok(None | Some(Err(_))) => return Ok(None),
            Ok(Some(Ok(event))) => match event.event.as_str() {
                "ready" => return Ok(Some(true)),
                "timeout" => return Ok(Some(false)),
                _ => {}
            },
        }
    }
}

fn is_ready(payload: &Value) -> bool {
    payload.get("ready").and_then(Value::as_bool) == Some(true)
        || payload.get("status").and_then(Value::as_str) == Some("ready")
}

/// The lifecycle state a readiness answer or a sandbox names.
fn state_of(payload: &Value) -> Option<&str> {
    ["state", "status"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(Value::as_str))
}

async fn poll_readiness(
    client: &Client,
    id: &str,
    deadline: Instant,
    watch: &mut StateWatch,
) -> Result<bool> {
    let path = format!("/sandboxes/{}/readiness", segment(id));
    let mut wait = FIRST_POLL;
    loop {
        match dispatch::raw_json(client, HttpMethod::Get, &path, None).await {
            Ok(payload) => {
                watch.see(state_of(&payload));
                if is_ready(&payload) {
                    return Ok(true);
                }
            }
            Err(e) if e.status() == Some(404) => {
                // No readiness route: the sandbox's own state answers (and a missing sandbox is an error).
                let sandbox = dispatch::raw_json(
                    client,
                    HttpMethod::Get,
                    &format!("/sandboxes/{}", segment(id)),
                    None,
                )
                .await?;
                watch.see(state_of(&sandbox));
                if is_ready(&sandbox)
                    || sandbox.get("state").and_then(Value::as_str) == Some("running")
                {
                    return Ok(true);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Authentication | ErrorKind::PermissionDenied
                ) =>
            {
                return Err(e);
            }
            Err(_) => {}
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(wait.min(deadline - now)).await;
        wait = (wait * 3 / 2).min(MAX_POLL);
    }
}
