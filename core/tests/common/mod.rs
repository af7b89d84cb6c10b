//! Test helpers: an in-process emulator and clients pointed at it.
#![allow(dead_code)]

use miosa::Client;
use miosa_emulator::{Config, Emulator};

/// A fresh emulator on its own thread, plus a user client and an admin client.
pub struct Env {
    pub emulator: Emulator,
    pub client: Client,
    pub admin: Client,
}

pub fn env() -> Env {
    let emulator = Emulator::try_spawn(Config::default()).expect("emulator starts");
    let client = client_for(&emulator, emulator.api_key());
    let admin = client_for(&emulator, emulator.admin_key());
    Env {
        emulator,
        client,
        admin,
    }
}

pub fn client_for(emulator: &Emulator, key: &str) -> Client {
    Client::builder(key)
        .base_url(emulator.base_url())
        .build()
        .expect("client builds")
}

/// The requests the emulator recorded, newest last.
pub fn recorded(env: &Env, limit: usize) -> Vec<serde_json::Value> {
    let client = env.client.clone();
    let path = format!("/_emulator/requests?limit={limit}");
    let value = futures_lite_block(async move {
        client
            .request_json(miosa::HttpMethod::Get, &path, None)
            .await
    })
    .expect("request log");
    match value {
        serde_json::Value::Array(items) => items,
        other => other
            .get("requests")
            .and_then(|r| r.as_array())
            .cloned()
            .unwrap_or_default(),
    }
}

fn futures_lite_block<T>(fut: impl std::future::Future<Output = T>) -> T {
    futures_executor::block_on(fut)
}
