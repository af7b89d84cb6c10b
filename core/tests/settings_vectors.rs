//! The shared settings vectors (`tests/settings/`) through the core, in every
//! dialect the bindings use: names respelled and durations rescaled the way
//! each language's runner does before it calls its constructor.

use std::path::PathBuf;

use miosa::{Config, Dialect, ErrorKind, Input, RequestOptions};
use serde_json::{Map, Value};

fn vectors(rel: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/settings")
        .join(rel);
    let text = std::fs::read_to_string(&path).expect("vector file exists");
    serde_json::from_str(&text).expect("vector file is JSON")
}

/// The case's input as `dialect` writes it: names respelled, durations in its unit.
fn localise(input: &Value, durations: &[&str], dialect: Dialect) -> Value {
    let Value::Object(map) = input else {
        return input.clone();
    };
    let out: Map<String, Value> = map
        .iter()
        .map(|(name, value)| {
            let scaled = match value {
                Value::Number(n) if dialect.millis && durations.contains(&name.as_str()) => {
                    let ms = n.as_f64().expect("a number") * 1000.0;
                    serde_json::Number::from_f64(ms).map_or(Value::Null, Value::Number)
                }
                Value::Object(tag) if dialect.millis && durations.contains(&name.as_str()) => {
                    // A tagged NaN, infinity or huge integer stays what it is in any unit.
                    Value::Object(tag.clone())
                }
                other => other.clone(),
            };
            (dialect.spell(name), scaled)
        })
        .collect();
    Value::Object(out)
}

/// `actual` holds every field of `expected` with the same value.
fn assert_subset(name: &str, expected: &Value, actual: &Value) {
    for (key, want) in expected.as_object().expect("expected is an object") {
        let got = &actual[key];
        let same = match (want, got) {
            (Value::Number(a), Value::Number(b)) => {
                (a.as_f64().expect("number") - b.as_f64().expect("number")).abs() < 1e-9
            }
            _ => want == got,
        };
        assert!(same, "{name}: `{key}` is {got}, expected {want}");
    }
}

fn assert_error(name: &str, expect: &Value, err: &miosa::Error, dialect: Dialect) {
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{name}: {err}");
    let param = dialect.spell(expect["param"].as_str().expect("param"));
    let message = err.message();
    assert!(
        message.contains(&format!("`{param}`")),
        "{name}: the message does not name `{param}`: {message}"
    );
    for text in expect["message_includes"].as_array().into_iter().flatten() {
        let text = text.as_str().expect("text");
        assert!(
            message.contains(text),
            "{name}: `{text}` missing: {message}"
        );
    }
    for text in expect["message_excludes"].as_array().into_iter().flatten() {
        let text = text.as_str().expect("text");
        assert!(!message.contains(text), "{name}: `{text}` shown: {message}");
    }
}

const DIALECTS: [Dialect; 4] = [
    Dialect::SNAKE_SECONDS,
    Dialect::CAMEL_MILLIS,
    Dialect::CAMEL_SECONDS,
    Dialect::SNAKE_MILLIS,
];

fn durations(file: &Value) -> Vec<&str> {
    file["durations"]
        .as_array()
        .expect("durations")
        .iter()
        .map(|d| d.as_str().expect("name"))
        .collect()
}

#[test]
fn client_settings_vectors_in_every_dialect() {
    let file = vectors("client.json");
    let durations = durations(&file);
    let cases = file["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let no_env = |_: &str| None;
    for dialect in DIALECTS {
        for case in cases {
            let name = format!("{} ({dialect:?})", case["name"].as_str().expect("name"));
            let input = Input::from_tagged_json(&localise(&case["input"], &durations, dialect));
            let result = Config::from_input(&input, dialect, &no_env);
            match (&case["expect"]["settings"], result) {
                (Value::Object(_), Ok(config)) => {
                    assert_subset(&name, &case["expect"]["settings"], &config.summary());
                }
                (Value::Object(_), Err(err)) => panic!("{name}: refused: {err}"),
                (_, Ok(config)) => panic!("{name}: accepted: {config:?}"),
                (_, Err(err)) => assert_error(&name, &case["expect"]["error"], &err, dialect),
            }
        }
    }
}

#[test]
fn call_option_vectors_in_every_dialect() {
    let file = vectors("call_options.json");
    let durations = durations(&file);
    for dialect in DIALECTS {
        for case in file["cases"].as_array().expect("cases") {
            let name = format!("{} ({dialect:?})", case["name"].as_str().expect("name"));
            let input = Input::from_tagged_json(&localise(&case["input"], &durations, dialect));
            match (
                &case["expect"]["options"],
                RequestOptions::from_input(&input, dialect),
            ) {
                (Value::Object(_), Ok(options)) => {
                    assert_subset(&name, &case["expect"]["options"], &options.summary());
                }
                (Value::Object(_), Err(err)) => panic!("{name}: refused: {err}"),
                (_, Ok(options)) => panic!("{name}: accepted: {options:?}"),
                (_, Err(err)) => assert_error(&name, &case["expect"]["error"], &err, dialect),
            }
        }
    }
}

#[test]
fn explicit_values_win_over_the_environment() {
    let env = |name: &str| match name {
        "MIOSA_API_KEY" => Some("msk_u_from_env".to_owned()),
        "MIOSA_BASE_URL" => Some("http://127.0.0.1:7/api/v1".to_owned()),
        _ => None,
    };
    let bare = Config::from_input(&Input::Null, Dialect::SNAKE_SECONDS, &env).expect("from env");
    assert_eq!(bare.base_url(), "http://127.0.0.1:7/api/v1");
    let given = Input::from_tagged_json(&serde_json::json!({
        "api_key": "msk_u_given", "base_url": "http://127.0.0.1:8/api/v1"
    }));
    let config = Config::from_input(&given, Dialect::SNAKE_SECONDS, &env).expect("given");
    assert_eq!(config.base_url(), "http://127.0.0.1:8/api/v1");
    assert!(format!("{config:?}").contains("msk_"));

    let bad_env = |name: &str| (name == "MIOSA_BASE_URL").then(|| "ftp://x".to_owned());
    let with_key = Input::from_tagged_json(&serde_json::json!({"api_key": "msk_u_k"}));
    let err = Config::from_input(&with_key, Dialect::SNAKE_SECONDS, &bad_env).expect_err("bad env");
    assert!(err.message().contains("MIOSA_BASE_URL"), "{err}");
}

#[test]
fn retries_are_on_by_default() {
    let config = miosa::Client::builder("msk_u_x")
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("client");
    assert_eq!(config.config().retry().max_attempts, 3);
    let off = miosa::Client::builder("msk_u_x")
        .base_url("http://127.0.0.1:9")
        .max_retries(0)
        .build()
        .expect("client");
    assert!(!off.config().retry().enabled());
}
