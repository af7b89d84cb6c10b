//! Retry decisions: which failures may be retried, how long to wait, and a
//! per-client token bucket that stops retry storms when the server is down.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use rand::Rng;

use crate::config::RetryPolicy;
use crate::error::{Error, ErrorKind};
use crate::ops::HttpMethod;

/// Token bucket shared by all calls of one client (the AWS "standard" retry mode):
/// a retry costs tokens, a success refunds one, an empty bucket means no retry.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    tokens: Mutex<u32>,
}

const BUDGET_CAPACITY: u32 = 500;
const RETRY_COST: u32 = 5;
const TIMEOUT_RETRY_COST: u32 = 10;

impl Default for RetryBudget {
    fn default() -> Self {
        Self {
            tokens: Mutex::new(BUDGET_CAPACITY),
        }
    }
}

impl RetryBudget {
    fn lock(&self) -> std::sync::MutexGuard<'_, u32> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the cost of retrying after `err`; false when the budget is spent.
    pub(crate) fn try_acquire(&self, err: &Error) -> bool {
        let cost = if err.kind() == ErrorKind::Timeout {
            TIMEOUT_RETRY_COST
        } else {
            RETRY_COST
        };
        let mut tokens = self.lock();
        if *tokens < cost {
            return false;
        }
        *tokens -= cost;
        true
    }

    /// A success puts one token back.
    pub(crate) fn refund(&self) {
        let mut tokens = self.lock();
        *tokens = (*tokens + 1).min(BUDGET_CAPACITY);
    }

    #[cfg(test)]
    fn available(&self) -> u32 {
        *self.lock()
    }
}

/// Whether `err` may be retried at all, whatever the policy and budget say.
pub(crate) fn is_retryable(err: &Error) -> bool {
    if !err.is_transient() {
        return false;
    }
    // Quota and capacity refusals do not clear by waiting a second.
    let code = err.code().unwrap_or_default().to_ascii_uppercase();
    !(code.contains("QUOTA") || code.contains("LIMIT_REACHED") || code == "NO_READY_MACHINE")
}

/// Whether a failed attempt of a request may be sent again, before policy and
/// budget: a transient failure when resending cannot repeat work (a read, or a
/// mutation under an idempotency key), or a refusal that says no work was done.
pub(crate) fn may_resend(err: &Error, method: HttpMethod, has_idempotency_key: bool) -> bool {
    if refused_before_work(err) {
        return true;
    }
    let repeatable = match method {
        HttpMethod::Get | HttpMethod::Put | HttpMethod::Delete => true,
        HttpMethod::Post | HttpMethod::Patch => has_idempotency_key,
    };
    repeatable && is_retryable(err)
}

/// A 409 whose body says `retryable: true` (`SANDBOX_STARTING`,
/// `SANDBOX_NOT_COMMAND_READY`): the machine was not ready, the server turned
/// the call away untouched, so sending it again cannot run anything twice.
fn refused_before_work(err: &Error) -> bool {
    let Some(body) = err.body().filter(|_| err.status() == Some(409)) else {
        return false;
    };
    [Some(body), body.get("error")]
        .into_iter()
        .flatten()
        .any(|scope| scope.get("retryable") == Some(&serde_json::Value::Bool(true)))
}

/// The wait before attempt `attempt + 1`: the server's request when it made one
/// (capped), otherwise full jitter in `[0, base * 2^(attempt-1)]`, capped.
pub(crate) fn backoff(
    policy: &RetryPolicy,
    attempt: u32,
    server_hint: Option<Duration>,
) -> Duration {
    if let Some(hint) = server_hint {
        return hint.min(policy.max_delay);
    }
    let exp = attempt.saturating_sub(1).min(20);
    let ceiling = policy
        .base_delay
        .saturating_mul(1u32 << exp)
        .min(policy.max_delay);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

/// Parses `Retry-After` (delta seconds or an HTTP date) and `retry-after-ms`.
pub(crate) fn parse_retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return crate::error::positive_duration(ms / 1000.0);
    }
    let value = text("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return crate::error::positive_duration(seconds);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn full_jitter_stays_under_the_ceiling() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
        };
        for attempt in 1..6 {
            let ceiling = Duration::from_millis(100 * (1 << (attempt - 1))).min(policy.max_delay);
            for _ in 0..50 {
                assert!(backoff(&policy, attempt, None) <= ceiling);
            }
        }
        assert_eq!(
            backoff(&policy, 1, Some(Duration::from_secs(9))),
            policy.max_delay
        );
    }

    #[test]
    fn retry_after_forms() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(
            parse_retry_after(&headers),
            Some(Duration::from_millis(150))
        );
        let mut dated = HeaderMap::new();
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        dated.insert(
            "retry-after",
            HeaderValue::from_str(&future).expect("ascii date"),
        );
        let wait = parse_retry_after(&dated).expect("parsed");
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
    }

    #[test]
    fn budget_runs_out_and_refills() {
        let budget = RetryBudget::default();
        let err = Error::from_response(503, None, None, b"");
        let mut granted = 0;
        while budget.try_acquire(&err) {
            granted += 1;
        }
        assert_eq!(granted, BUDGET_CAPACITY / RETRY_COST);
        for _ in 0..RETRY_COST {
            budget.refund();
        }
        assert_eq!(budget.available(), RETRY_COST);
        assert!(budget.try_acquire(&err));
    }

    #[test]
    fn shared_vectors() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/retry/vectors.json")).expect("json");
        let vectors = file["vectors"].as_array().expect("vectors");
        assert!(vectors.len() >= 10);
        for v in vectors {
            let status = u16::try_from(v["status"].as_u64().expect("status")).expect("u16");
            let body = serde_json::to_vec(&v["body"]).expect("body");
            let err = Error::from_response(status, None, None, &body);
            let method = match v["method"].as_str().expect("method") {
                "GET" => HttpMethod::Get,
                "POST" => HttpMethod::Post,
                "PUT" => HttpMethod::Put,
                "PATCH" => HttpMethod::Patch,
                "DELETE" => HttpMethod::Delete,
                other => panic!("unknown method {other}"),
            };
            let keyed = v["idempotency_key"].as_bool().expect("idempotency_key");
            assert_eq!(
                may_resend(&err, method, keyed),
                v["retried"].as_bool().expect("retried"),
                "{}",
                v["name"]
            );
        }
    }

    #[test]
    fn never_retried() {
        assert!(!is_retryable(&Error::from_response(402, None, None, b"")));
        assert!(!is_retryable(&Error::from_response(
            429,
            None,
            None,
            br#"{"error":"quota","code":"QUOTA_EXCEEDED"}"#
        )));
        assert!(!is_retryable(&Error::from_response(404, None, None, b"")));
        assert!(is_retryable(&Error::from_response(503, None, None, b"")));
        assert!(is_retryable(&Error::from_response(408, None, None, b"")));
    }
}
