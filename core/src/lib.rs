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

mod cancel;
mod client;
mod config;
mod custom;
mod decode;
mod dispatch;
mod error;
mod generated;
pub mod models;
pub mod ops;
mod pagination;
pub mod redact;
mod request;
mod retry;
pub mod settings;
pub mod sse;
mod stream;
mod transport;
pub mod webhooks;
mod ws;

pub use cancel::CancelToken;
pub use client::{Client, RequestOptions, Task};
pub use config::{
    ApiKey, ClientBuilder, Config, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT, RetryPolicy,
};
pub use decode::{Output, unwrap_envelope};
pub use error::{Error, ErrorKind, Result};
pub use generated::api;
pub use ops::{CustomOp, HttpMethod, OpSpec};
pub use pagination::{Page, Pager};
pub use request::Arg;
pub use settings::{Dialect, Input};
pub use sse::Event;
pub use stream::{Control, EventStream};
pub use ws::{Channel, Message, Socket, SocketFrames};
