//! The shared vectors under `tests/` run through the core: SSE parsing,
//! error-body extraction and webhook signatures. Every binding runs the same files.

use std::path::PathBuf;
use std::time::Duration;

use miosa::sse::{Event, parse_chunks};
use miosa::webhooks::{VerifyOptions, WebhookError, unwrap, verify_at, verify_with};
use serde_json::Value;

fn vectors(rel: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests")
        .join(rel);
    let text = std::fs::read_to_string(&path).expect("vector file exists");
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn expected_events(v: &Value) -> Vec<Event> {
    serde_json::from_value(v["expected"].clone()).expect("expected events decode")
}

#[test]
fn sse_vectors_whole_bytewise_and_split_everywhere() {
    let file = vectors("sse/vectors.json");
    let all = file["vectors"].as_array().expect("vectors");
    assert!(all.len() >= 20);
    for v in all {
        let name = v["name"].as_str().expect("name");
        let input = v["input"].as_str().expect("input").as_bytes();
        let expected = expected_events(v);
        assert_eq!(parse_chunks([input]), expected, "{name}: whole");
        let bytewise: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(
            parse_chunks(bytewise),
            expected,
            "{name}: one byte per chunk"
        );
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            assert_eq!(parse_chunks([a, b]), expected, "{name}: split at {cut}");
        }
    }
}

#[test]
fn error_vectors() {
    let file = vectors("errors/cases.json");
    for case in file["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let body = match case.get("body_file").and_then(Value::as_str) {
            Some(f) => std::fs::read(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../tests/errors")
                    .join(f),
            )
            .expect("body file"),
            None => case["body"].as_str().expect("body").as_bytes().to_vec(),
        };
        let header = |h: &str| case["headers"].get(h).and_then(Value::as_str);
        let retry_after =
            header("Retry-After").map(|s| Duration::from_secs(s.parse().expect("seconds")));
        let status = u16::try_from(case["status"].as_u64().expect("status")).expect("u16");
        let err = miosa::Error::from_response(status, header("X-Request-ID"), retry_after, &body);
        let exp = &case["expect"];
        assert_eq!(err.kind().as_str(), exp["kind"], "{name}: kind");
        assert_eq!(err.status(), Some(status), "{name}: status");
        assert_eq!(err.message(), exp["message"], "{name}: message");
        if let Some(code) = exp.get("code") {
            assert_eq!(
                err.code().map(str::to_owned),
                code.as_str().map(str::to_owned),
                "{name}: code"
            );
        }
        if let Some(id) = exp.get("request_id") {
            assert_eq!(err.request_id(), id.as_str(), "{name}: request id");
        }
        if let Some(ms) = exp.get("retry_after_ms").and_then(Value::as_u64) {
            assert_eq!(
                err.retry_after(),
                Some(Duration::from_millis(ms)),
                "{name}: retry after"
            );
        }
        assert!(err.body().is_some() || body.is_empty(), "{name}: body kept");
    }
}

#[test]
fn webhook_signature_vectors() {
    let v = vectors("webhooks/signature_vectors.json");
    let secret = v["secret"].as_str().expect("secret");
    let body = v["body"].as_str().expect("body").as_bytes();
    let tolerance = Duration::from_secs(300);
    let current = v["current_scheme"]["header"].as_str().expect("header");
    assert_eq!(verify_at(body, current, secret, 0, tolerance), Ok(()));
    assert_eq!(miosa::webhooks::sign(body, secret), current);
    assert_eq!(
        verify_at(body, current, "wrong", 0, tolerance),
        Err(WebhookError::InvalidSignature)
    );
    let mut tampered = body.to_vec();
    tampered[0] ^= 1;
    assert_eq!(
        verify_at(&tampered, current, secret, 0, tolerance),
        Err(WebhookError::InvalidSignature)
    );
    let legacy = &v["legacy_scheme"];
    let header = legacy["header"].as_str().expect("legacy header");
    let ok_now = legacy["valid_when_now_is"].as_i64().expect("now");
    let old_now = legacy["too_old_when_now_is"].as_i64().expect("now");
    assert_eq!(verify_at(body, header, secret, ok_now, tolerance), Ok(()));
    assert_eq!(
        verify_at(body, header, secret, old_now, tolerance),
        Err(WebhookError::TimestampTooOld)
    );
    let wrong = v["wrong_secret_header"].as_str().expect("wrong");
    assert_eq!(
        verify_at(body, wrong, secret, 0, tolerance),
        Err(WebhookError::InvalidSignature)
    );
    for malformed in v["malformed_headers"].as_array().expect("list") {
        let h = malformed.as_str().expect("str");
        assert_eq!(
            verify_at(body, h, secret, ok_now, tolerance),
            Err(WebhookError::MalformedHeader),
            "{h}"
        );
    }
}

/// `now`/`tolerance` of a bad-input case: a number, or a string naming a
/// non-finite value.
fn seconds(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.parse().expect("NaN, Infinity or -Infinity")),
        n => Some(n.as_f64().expect("a number")),
    }
}

fn refusal(expect: &Value) -> (bool, &str) {
    let argument = expect["error"] == "invalid_argument";
    let detail = if argument {
        expect["parameter"].as_str()
    } else {
        expect["code"].as_str()
    };
    (argument, detail.expect("parameter or code"))
}

fn assert_refused(name: &str, got: Result<impl std::fmt::Debug, WebhookError>, expect: &Value) {
    let err = got.expect_err(name);
    let (argument, detail) = refusal(expect);
    match err {
        WebhookError::InvalidArgument { parameter, .. } => {
            assert!(argument, "{name}: an argument error, expected {detail}");
            assert_eq!(parameter, detail, "{name}");
            assert!(err.to_string().contains(detail), "{name}: {err}");
        }
        other => {
            assert!(!argument, "{name}: {other:?} instead of an argument error");
            assert!(other.is_verification_failure());
            assert_eq!(other.code(), detail, "{name}");
        }
    }
}

#[test]
fn webhook_bad_input_vectors() {
    let v = vectors("webhooks/signature_vectors.json");
    let body = v["body"].as_str().expect("body").as_bytes();
    let cases = v["bad_input"].as_array().expect("bad_input");
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let got = VerifyOptions::from_seconds(seconds(&case["tolerance"]), seconds(&case["now"]))
            .and_then(|options| {
                verify_with(
                    body,
                    case["signature"].as_str(),
                    case["secret"].as_str(),
                    options,
                )
            });
        assert_refused(name, got, &case["expect"]);
    }
}

#[test]
fn webhook_unwrap_vectors() {
    let v = vectors("webhooks/signature_vectors.json");
    let secret = v["secret"].as_str();
    let body = v["body"].as_str().expect("body").as_bytes();
    let u = &v["unwrap"];
    let pairs = |headers: &Value| -> Vec<(String, String)> {
        headers
            .as_object()
            .expect("headers")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("value").to_owned()))
            .collect()
    };
    for headers in u["valid_headers"].as_array().expect("valid_headers") {
        let headers = pairs(headers);
        let event = unwrap(
            body,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            secret,
            VerifyOptions::default(),
        );
        assert_eq!(event.as_ref(), Ok(&u["event"]), "{headers:?}");
    }
    for case in u["refused"].as_array().expect("refused") {
        let name = case["name"].as_str().expect("name");
        let headers = pairs(&case["headers"]);
        let got = unwrap(
            case["body"].as_str().expect("body").as_bytes(),
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            secret,
            VerifyOptions::default(),
        );
        assert_refused(name, got, &case["expect"]);
    }
    // Two signature headers: a proxy that duplicated one is not trusted.
    let current = v["current_scheme"]["header"].as_str().expect("header");
    let twice = [
        ("X-MIOSA-Signature", current),
        ("x-miosa-signature", current),
    ];
    assert_eq!(
        unwrap(body, twice, secret, VerifyOptions::default()),
        Err(WebhookError::MalformedHeader)
    );
}
