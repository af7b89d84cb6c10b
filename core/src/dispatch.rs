//! Runs an operation: custom ones through their function in the table, the
//! rest as one prepared request sent by the transport and decoded by what it
//! returns.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::decode::{ModelBody, Output, list_from, parse_json, sole_data, unwrap_envelope};
use crate::error::{Error, Result};
use crate::ops::{HttpMethod, OpSpec, Returns};
use crate::pagination::Page;
use crate::request::{
    Accept, Arg, Body, BodyLimit, Prepared, new_idempotency_key, prepare, take_idempotency_header,
};
use crate::stream::EventStream;

pub(crate) async fn invoke(
    client: &Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> Result<Output> {
    if let Some(custom) = op.custom {
        let output = custom(client.clone(), op, args, params).await?;
        return match output {
            Output::Json(value) => shape(op.returns, value).map(Output::Json),
            other => Ok(other),
        };
    }
    // A page remembers its call, so it can fetch the page after it.
    let call = matches!(op.returns, Returns::Page { .. }).then(|| (args.clone(), params.clone()));
    let prepared = prepare(client.config(), client.options(), op, &args, params, None)?;
    match (execute(client, op.returns, prepared).await?, call) {
        (Output::Page(page), Some((args, params))) => {
            Ok(Output::Page(page.fetched_by(client, op, args, params)))
        }
        (output, _) => Ok(output),
    }
}

/// Sends a prepared request and decodes it as `returns` says.
pub(crate) async fn execute(
    client: &Client,
    returns: Returns,
    prepared: Prepared,
) -> Result<Output> {
    let transport = client.transport()?;
    if returns == Returns::Events {
        return EventStream::open(transport, prepared, client.cancel_token().cloned())
            .await
            .map(Output::Events);
    }
    if let Returns::Socket(frames) = returns {
        return crate::ws::Socket::open(
            transport,
            prepared,
            frames,
            client.cancel_token().cloned(),
        )
        .await
        .map(Output::Socket);
    }
    let body = transport.send(&prepared).await?;
    match returns {
        Returns::Bytes => Ok(Output::Bytes(body)),
        Returns::Page { item, .. } => {
            let mut page = Page::from_body(&parse_json(&body)?)?;
            for value in &mut page.items {
                crate::models::conform(item, value)?;
            }
            Ok(Output::Page(page))
        }
        // Most model answers are the model's JSON as is: one decode from the
        // bytes checks them, with no JSON tree in between.
        Returns::Model(model) => {
            let text = sole_data(&body);
            match crate::models::decode_body(model, &text) {
                Some(decoded) => Ok(Output::Model(ModelBody::new(text, decoded))),
                None => shape(returns, parse_json(&body)?).map(Output::Json),
            }
        }
        Returns::List(_) | Returns::Json | Returns::Bool | Returns::Events | Returns::Socket(_) => {
            shape(returns, parse_json(&body)?).map(Output::Json)
        }
    }
}

/// Turns a JSON answer into what the table promises: the envelope unwrapped, a list
/// out of its wrapper object, and each model checked against the model table.
pub(crate) fn shape(returns: Returns, body: Value) -> Result<Value> {
    let mut value = unwrap_envelope(body);
    match returns {
        Returns::List(item) => {
            value = list_from(value);
            if let Value::Array(items) = &mut value {
                for v in items {
                    crate::models::conform(item, v)?;
                }
            }
        }
        Returns::Model(model) => crate::models::conform(model, &mut value)?,
        _ => {}
    }
    Ok(value)
}

/// A GET/POST/... on any path, JSON in and out.
pub(crate) async fn raw_json(
    client: &Client,
    method: HttpMethod,
    path: &str,
    body: Option<Value>,
) -> Result<Value> {
    let body = match body {
        Some(v) => Body::Json(Bytes::from(
            serde_json::to_vec(&v).map_err(|e| Error::invalid(e.to_string()))?,
        )),
        None => Body::None,
    };
    let mut prepared = Prepared::plain(
        client.config(),
        client.options(),
        method,
        path,
        Map::new(),
        body,
        Accept::Json,
    )?;
    // As for table operations: with retries on, a mutation carries a key
    // (generated once, sent on every attempt) so that it may be retried.
    prepared.idempotency_key = take_idempotency_header(&mut prepared.headers).or_else(|| {
        (client.config().retry().enabled() && method != HttpMethod::Get).then(new_idempotency_key)
    });
    let bytes = client.transport()?.send(&prepared).await?;
    Ok(unwrap_envelope(parse_json(&bytes)?))
}

/// A download from any path, within `max_download_bytes`.
pub(crate) async fn raw_bytes(client: &Client, path: &str) -> Result<Bytes> {
    let mut prepared = Prepared::plain(
        client.config(),
        client.options(),
        HttpMethod::Get,
        path,
        Map::new(),
        Body::None,
        Accept::Json,
    )?;
    prepared.body_limit = BodyLimit::for_returns(client.config(), client.options(), Returns::Bytes);
    client.transport()?.send(&prepared).await
}

pub(crate) fn stream_sse_op() -> &'static OpSpec {
    crate::ops::find("stream_sse").unwrap_or_else(|| unreachable!("stream_sse is in the table"))
}
