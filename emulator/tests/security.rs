//! The emulator's own security: it listens on loopback only, every route of
//! the table refuses requests without the key, and (in `behaviour.rs`) file
//! routes refuse paths that leave the sandbox.

mod common;

use std::net::{IpAddr, TcpStream, UdpSocket};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Routes the API serves without a key: invitation previews and acceptance pages.
fn is_public(method: &str, path: &str) -> bool {
    method == "GET"
        && (path.starts_with("/api/v1/invites/") || path.starts_with("/api/v1/workspace-invites/"))
}

#[tokio::test]
async fn every_route_of_the_table_requires_the_key() {
    let h = common::start().await;
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/calls.json"))
        .expect("calls.json");
    let calls: Vec<Value> = serde_json::from_str(&text).expect("JSON");
    let origin = h.emu.base_url().trim_end_matches("/api/v1").to_owned();
    let mut checked = 0;
    for call in &calls {
        let (Some(method), Some(path)) = (
            call["expect"]["method"].as_str(),
            call["expect"]["path"].as_str(),
        ) else {
            continue;
        };
        if is_public(method, path) {
            continue;
        }
        let method: Method = method.parse().expect("method");
        for key in [None, Some("msk_not_the_emulator_key")] {
            let mut req = h.http.request(method.clone(), format!("{origin}{path}"));
            if let Some(key) = key {
                req = req.bearer_auth(key);
            }
            let resp = req.send().await.expect("answered");
            assert_eq!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{} {path} with key {key:?}",
                call["op"]
            );
        }
        checked += 1;
    }
    assert!(checked >= 160, "only {checked} routes checked");
}

/// The address this machine would use for outside traffic (UDP connect sends nothing).
fn outward_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn listens_on_loopback_only() {
    let h = common::start().await;
    assert!(
        h.emu.base_url().starts_with("http://127.0.0.1:"),
        "{}",
        h.emu.base_url()
    );
    let port = h.emu.port();
    assert!(
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).is_ok()
    );
    match outward_address() {
        Some(ip) => assert!(
            TcpStream::connect_timeout(&(ip, port).into(), Duration::from_secs(2)).is_err(),
            "the emulator answered on {ip}"
        ),
        None => eprintln!("no non-loopback interface: only the bind address was checked"),
    }
}
