//! `--verbose`: one line per request on stderr, with no secret in it.

use std::time::Duration;

use axum::http::{Method, StatusCode};

/// `METHOD /path STATUS ms request_id`; the query is left out (share and
/// preview tokens travel there) and invite tokens in the path are masked.
pub fn line(
    method: &Method,
    path: &str,
    status: StatusCode,
    took: Duration,
    request_id: &str,
) -> String {
    let mut masked = Vec::new();
    let mut after_invites = false;
    for seg in path.split('/') {
        masked.push(if after_invites { "[token]" } else { seg });
        after_invites = seg == "invites" || seg == "workspace-invites";
    }
    format!(
        "miosa-emulator: {method} {} {} {:.1}ms {request_id}",
        masked.join("/"),
        status.as_u16(),
        took.as_secs_f64() * 1000.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_tokens_and_queries_stay_out_of_the_line() {
        let l = line(
            &Method::GET,
            "/api/v1/workspace-invites/wtok_secret/accept",
            StatusCode::OK,
            Duration::from_millis(3),
            "req_1",
        );
        assert_eq!(
            l,
            "miosa-emulator: GET /api/v1/workspace-invites/[token]/accept 200 3.0ms req_1"
        );
        assert!(!l.contains("wtok_secret"));
    }
}
