//! Webhook deliveries: a signed POST (`X-MIOSA-Signature: sha256=<hex>`) to
//! loopback URLs; other hosts are recorded as simulated deliveries because
//! the emulator never leaves the machine.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::util;

/// `sha256=<lowercase hex HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Host, port and path of a loopback `http://` URL.
fn loopback(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = if let Some(rest) = authority.strip_prefix("[::1]") {
        let port = match rest.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => 80,
        };
        ("[::1]", port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (authority, 80),
        }
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
        .then(|| (host.to_owned(), port, path.to_owned()))
}

/// Delivers `event_type` with `data` to the webhook and returns the delivery
/// record `{id, webhook_id, event_type, status_code, success, attempted_at,
/// duration_ms, response_body?, error?}`.
pub async fn deliver(
    webhook_id: &str,
    url: &str,
    secret: &str,
    event_type: &str,
    data: Value,
) -> Value {
    let delivery_id = util::new_id("whd");
    let attempted_at = util::now();
    let payload = json!({
        "id": util::new_id("evt"), "type": event_type, "event": event_type,
        "created_at": attempted_at, "data": data,
    });
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    let started = Instant::now();
    let (status, response_body, error) = match loopback(url) {
        Some((host, port, path)) => {
            let sig = signature(secret, &body);
            match post(&host, port, &path, &body, &sig, event_type, &delivery_id).await {
                Ok((code, text)) => (Some(code), Some(text), None),
                Err(e) => (None, None, Some(e.to_string())),
            }
        }
        None => (Some(200), None, None),
    };
    let success = status.is_some_and(|s| (200..300).contains(&s));
    let mut rec = json!({
        "id": delivery_id, "webhook_id": webhook_id, "event_type": event_type,
        "status_code": status, "success": success, "attempted_at": attempted_at,
        "duration_ms": u64::try_from(started.elapsed().as_millis()).unwrap_or(0),
        "request_body": payload,
    });
    if let Some(t) = response_body {
        rec["response_body"] = json!(t);
    }
    if let Some(e) = error {
        rec["error"] = json!(e);
    }
    if loopback(url).is_none() {
        rec["simulated"] = json!(true);
    }
    rec
}

async fn post(
    host: &str,
    port: u16,
    path: &str,
    body: &[u8],
    sig: &str,
    event_type: &str,
    delivery_id: &str,
) -> std::io::Result<(u16, String)> {
    let addr = if host == "localhost" {
        "127.0.0.1"
    } else {
        host.trim_matches(['[', ']'])
    };
    let io = async {
        let mut stream = TcpStream::connect((addr, port)).await?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nUser-Agent: miosa-emulator\r\nX-MIOSA-Signature: {sig}\r\n\
             X-MIOSA-Event: {event_type}\r\nX-MIOSA-Delivery: {delivery_id}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut resp = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 || resp.len() > 64 * 1024 {
                break;
            }
            resp.extend_from_slice(&buf[..n]);
            if let Some(done) = complete(&resp) {
                resp.truncate(done);
                break;
            }
        }
        let text = String::from_utf8_lossy(&resp).into_owned();
        let code = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| std::io::Error::other("malformed HTTP response"))?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((code, body))
    };
    tokio::time::timeout(Duration::from_secs(5), io)
        .await
        .map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::TimedOut, "webhook delivery timed out")
        })?
}

/// Length of a complete response with Content-Length, if one was read.
fn complete(resp: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(resp).ok()?;
    let (head, _) = text.split_once("\r\n\r\n")?;
    let len = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())?
    })?;
    let total = head.len() + 4 + len;
    (resp.len() >= total).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_shared_vectors() {
        let body = r#"{"event":"sandbox.created","data":{"id":"sbx_123"}}"#;
        assert_eq!(
            signature("whsec_test_secret", body.as_bytes()),
            "sha256=41558de98a9db926f97f8ac2ea66f61235bf94c6268e0d475f01bae2db38b16d"
        );
    }

    #[test]
    fn only_loopback_urls_are_contacted() {
        assert_eq!(
            loopback("http://127.0.0.1:8080/hook"),
            Some(("127.0.0.1".into(), 8080, "/hook".into()))
        );
        assert_eq!(
            loopback("http://localhost/x"),
            Some(("localhost".into(), 80, "/x".into()))
        );
        assert_eq!(loopback("https://example.com/x"), None);
        assert_eq!(loopback("http://10.0.0.1/x"), None);
    }
}
