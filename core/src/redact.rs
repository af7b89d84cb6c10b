//! The one list of secret names and the one rule for URLs: every error
//! message, `Debug` and binding `repr` goes through here.

use serde_json::{Map, Value};

/// What a hidden value is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Field and header names whose values are credentials.
pub const SECRET_NAMES: &[&str] = &[
    "token",
    "secret",
    "key",
    "api_key",
    "password",
    "plaintext",
    "credentials",
    "connection_string",
    "url_with_token",
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Whether a field or header called `name` holds a credential: a listed name,
/// or one ending in a credential word after `_` or `-` (`access_token`,
/// `x-tenant-secret`, `x-api-key`, `x-signature`, `db_password`…).
pub fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let ends_with_word = |word: &str| {
        name.strip_suffix(word)
            .is_some_and(|head| head.is_empty() || head.ends_with(['_', '-']))
    };
    SECRET_NAMES.contains(&name.as_str())
        || name.ends_with("password")
        || [
            "token",
            "secret",
            "signature",
            "auth",
            "api_key",
            "api-key",
            "private_key",
            "access_key",
            "secret_key",
        ]
        .into_iter()
        .any(ends_with_word)
}

/// Whether a field called `name` holds a URL (share links and previews carry
/// their token in the query).
pub fn is_url_name(name: &str) -> bool {
    name == "url" || name.ends_with("_url")
}

/// `url` without its query and user:password: `https://<redacted>@host/p?<redacted>`.
pub fn url(url: &str) -> String {
    let (before_fragment, _) = url.split_once('#').unwrap_or((url, ""));
    let (base, query) = match before_fragment.split_once('?') {
        Some((base, _)) => (base, true),
        None => (before_fragment, false),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://{REDACTED}@{host}{path}"),
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if query {
        out.push('?');
        out.push_str(REDACTED);
    }
    out
}

/// `text` with every `http://` or `https://` URL in it redacted by [`url`].
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_url(rest) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | '`'))
            .unwrap_or(tail.len());
        out.push_str(&url(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn find_url(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    match (lower.find("http://"), lower.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Headers as a JSON object with credential values hidden.
pub fn headers(headers: &[(String, String)]) -> Map<String, Value> {
    headers
        .iter()
        .map(|(name, value)| {
            let shown = if is_secret_name(name) {
                REDACTED
            } else {
                value
            };
            (name.clone(), Value::String(shown.to_owned()))
        })
        .collect()
}

/// A JSON value with secret fields hidden and URL fields stripped, at any depth.
pub fn json(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let shown = match v {
                        _ if is_secret_name(k) => Value::String(REDACTED.to_owned()),
                        Value::String(s) if is_url_name(k) => Value::String(url(s)),
                        other => json(other),
                    };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(json).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_query_and_userinfo() {
        assert_eq!(
            url("https://user:pw@h.example/a/b?token=t1#frag"),
            "https://<redacted>@h.example/a/b?<redacted>"
        );
        assert_eq!(
            url("http://127.0.0.1:9/api/v1"),
            "http://127.0.0.1:9/api/v1"
        );
        assert_eq!(
            text("error sending request for url (https://h/x?sig=abc): reset"),
            "error sending request for url (https://h/x?<redacted>): reset"
        );
    }

    #[test]
    fn secret_names() {
        for name in [
            "token",
            "api_key",
            "x-api-key",
            "Authorization",
            "access_token",
            "x-tenant-secret",
            "db_password",
            "x-signature",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "x-tenant-id",
            "keyboard",
            "idempotency_key",
            "name",
            "authority",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
