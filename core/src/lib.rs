//! MIOSA API client: sandboxes, computers, exec, files, desktops and the
//! platform around them, in one Rust core shared by every language binding.
//!
//! ```no_run
//! # async fn demo() -> miosa::Result<()> {
//! let client = miosa::Client::new("msk_live_...")?;
//! let sandbox = client.sandboxes().create(Default::default()).await?;
//! let id = sandbox.id;
//! client.computer().start(&id, Default::default()).await?;
//! let out = client.exec().run(&id, miosa::api::ExecRunParams::default().command("echo hi")).await?;
//! println!("{}", out.text());
//! # Ok(()) }
//! ```

mod client;
mod config;
mod custom;
mod dispatch;
mod error;
mod generated;
pub mod models;
pub mod ops;
mod pagination;
mod retry;
pub mod sse;
mod stream;
pub mod webhooks;

pub use client::{Client, RequestOptions, Task};
pub use config::{
    ApiKey, ClientBuilder, Config, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RECEIVE_TIMEOUT, RetryPolicy,
};
pub use dispatch::{Arg, Output, unwrap_envelope};
pub use error::{Error, ErrorKind, Result};
pub use generated::api;
pub use ops::{HttpMethod, OpSpec};
pub use pagination::{Page, Pager};
pub use sse::Event;
pub use stream::{Control, EventStream};
