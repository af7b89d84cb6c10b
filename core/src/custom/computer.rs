//! Computer calls that the client answers itself: waiting for a lifecycle
//! state by polling with bounded backoff, and the preview URL of a port.

use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::watch::StateWatch;
use super::{check_arity, id_arg, segment};
use crate::client::Client;
use crate::decode::Output;
use crate::dispatch;
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{HttpMethod, OpSpec};
use crate::request::Arg;

/// The official SDKs wait five minutes for a computer.
const DEFAULT_WAIT: f64 = 300.0;
const FIRST_POLL: Duration = Duration::from_millis(100);
const MAX_POLL: Duration = Duration::from_secs(2);
/// Statuses `computer.wait_until_running` waits for.
pub(super) const RUNNING: &[&str] = &["running", "ready", "active"];
/// Statuses `computer.wait_until_stopped` waits for.
pub(super) const STOPPED: &[&str] = &["stopped"];
/// Preview domain of the platform when the tenant has none of its own.
const DEFAULT_PREVIEW_DOMAIN: &str = "miosa.app";

/// `computer.wait_until_running`.
pub(crate) fn computer_wait_until_running(
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> BoxFuture<'static, Result<Output>> {
    Box::pin(async move {
        check_arity(&client, op, &args)?;
        let id = id_arg(op, &args[0])?;
        wait_for_status(
            &client,
            op,
            &id,
            &params,
            RUNNING,
            &mut StateWatch::default(),
        )
        .await
        .map(Output::Bool)
    })
}

/// `computer.wait_until_stopped`.
pub(crate) fn computer_wait_until_stopped(
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> BoxFuture<'static, Result<Output>> {
    Box::pin(async move {
        check_arity(&client, op, &args)?;
        let id = id_arg(op, &args[0])?;
        wait_for_status(
            &client,
            op,
            &id,
            &params,
            STOPPED,
            &mut StateWatch::default(),
        )
        .await
        .map(Output::Bool)
    })
}

/// Polls `GET /computers/{id}` until its status is one of `wanted` (true),
/// the deadline passes (false), or the computer fails or is gone (an error).
pub(super) async fn wait_for_status(
    client: &Client,
    op: &OpSpec,
    id: &str,
    params: &Map<String, Value>,
    wanted: &[&str],
    watch: &mut StateWatch,
) -> Result<bool> {
    let timeout = match params.get("timeout") {
        None | Some(Value::Null) => DEFAULT_WAIT,
        Some(v) => v
            .as_f64()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{}: `timeout` must be a number of seconds",
                    op.name
                ))
            })?,
    };
    let deadline = Instant::now() + Duration::from_secs_f64(timeout.min(86_400.0));
    let path = format!("/computers/{}", segment(id));
    let mut wait = FIRST_POLL;
    loop {
        let computer = dispatch::raw_json(client, HttpMethod::Get, &path, None).await?;
        let status = computer
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default();
        watch.see(Some(status).filter(|s| !s.is_empty()));
        if wanted.contains(&status) {
            return Ok(true);
        }
        if matches!(status, "error" | "destroyed" | "destroying") {
            return Err(
                Error::new(ErrorKind::Api, format!("computer {id} is {status}"))
                    .with_code("COMPUTER_ERROR"),
            );
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(wait.min(deadline - now)).await;
        wait = (wait * 3 / 2).min(MAX_POLL);
    }
}

/// `computer.preview_url`: `https://{port}-{slug}.sandbox.{domain}{path}`,
/// with no request.
pub(crate) fn computer_preview_url(
    client: Client,
    op: &'static OpSpec,
    args: Vec<Arg>,
    params: Map<String, Value>,
) -> BoxFuture<'static, Result<Output>> {
    Box::pin(async move {
        check_arity(&client, op, &args)?;
        let id = id_arg(op, &args[0])?;
        preview_url(op, &id, &args[1], &params).map(Output::Json)
    })
}

fn preview_url(op: &OpSpec, id: &str, port: &Arg, params: &Map<String, Value>) -> Result<Value> {
    let port = match port {
        Arg::Json(v) => v.as_u64().filter(|p| (1..=65_535).contains(p)),
        Arg::Bytes(_) | Arg::Input(_) => None,
    }
    .ok_or_else(|| {
        Error::invalid(format!(
            "{}: `port` must be a port number (1-65535)",
            op.name
        ))
    })?;
    let text = |name: &str| -> Result<Option<String>> {
        match params.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::invalid(format!(
                "{}: `{name}` must be a string",
                op.name
            ))),
        }
    };
    let slug = text("slug")?.unwrap_or_else(|| id.to_owned());
    let domain = text("preview_domain")?.unwrap_or_else(|| DEFAULT_PREVIEW_DOMAIN.to_owned());
    // Host labels: anything else would make a different host, not a different URL.
    let label_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if !label_ok(&slug) {
        return Err(Error::invalid(format!(
            "{}: `slug` must be letters, digits, `-`, `_` or `.`",
            op.name
        )));
    }
    if !label_ok(&domain) {
        return Err(Error::invalid(format!(
            "{}: `preview_domain` must be a domain name",
            op.name
        )));
    }
    let path = match text("path")? {
        None => String::new(),
        Some(p) if p.is_empty() || p.starts_with('/') => p,
        Some(p) => format!("/{p}"),
    };
    let slug = slug.to_ascii_lowercase();
    Ok(json!({
        "url": format!("https://{port}-{slug}.sandbox.{domain}{path}"),
        "public_url": format!("https://{slug}.sandbox.{domain}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> &'static OpSpec {
        crate::ops::find("computer.preview_url").expect("in the table")
    }

    #[test]
    fn preview_url_from_id_slug_and_domain() {
        let params = Map::new();
        let v = preview_url(op(), "cmp_1", &Arg::from(3000_i64), &params).expect("url");
        assert_eq!(v["url"], "https://3000-cmp_1.sandbox.miosa.app");
        assert_eq!(v["public_url"], "https://cmp_1.sandbox.miosa.app");
        let mut params = Map::new();
        params.insert("slug".into(), json!("Demo"));
        params.insert("preview_domain".into(), json!("apps.example.com"));
        params.insert("path".into(), json!("health"));
        let v = preview_url(op(), "cmp_1", &Arg::from(8080_i64), &params).expect("url");
        assert_eq!(
            v["url"],
            "https://8080-demo.sandbox.apps.example.com/health"
        );
    }

    #[test]
    fn preview_url_refuses_bad_ports_and_hosts() {
        let params = Map::new();
        let err = preview_url(op(), "cmp_1", &Arg::from(0_i64), &params).expect_err("port 0");
        assert!(err.message().contains("`port`"), "{}", err.message());
        let mut params = Map::new();
        params.insert("slug".into(), json!("a/b"));
        let err =
            preview_url(op(), "cmp_1", &Arg::from(80_i64), &params).expect_err("slug with a slash");
        assert!(err.message().contains("`slug`"), "{}", err.message());
    }
}
