//! MIOSA API client: sandboxes, computers, exec, files, desktops and the
//! platform around them, in one Rust core shared by every language binding.
//!
//! ```no_run
//! # async fn demo() -> miosa::Result<()> {
//! use miosa::api::{SandboxExecRunParams, SandboxesCreateParams};
//! let client = miosa::Client::new("msk_live_...")?;
//! // A handle: every `sandbox.*` operation with this sandbox's id bound.
//! let sandbox = client.sandboxes().create_handle(SandboxesCreateParams::default()).await?;
//! let out = sandbox.exec().run(SandboxExecRunParams::default().command("echo hi")).await?;
//! println!("{}", out.text());
//! sandbox.destroy().await?;
//! # Ok(()) }
//! ```
//!
//! `client.sandbox()` holds the sandbox operations; the top-level
//! `client.exec()` runs commands on a *computer* (`/computers/{id}/exec`).

mod cancel;
mod client;
mod config;
mod custom;
mod decode;
mod dispatch;
mod error;
mod generated;
mod handle;
mod keywords;
pub mod log;
pub mod models;
mod multipart;
pub mod ops;
mod pagination;
mod raw;
pub mod redact;
mod request;
mod retry;
pub mod settings;
pub mod sse;
mod stream;
mod transfer;
mod transport;
mod user_agent;
pub mod webhooks;
mod ws;

pub use cancel::CancelToken;
pub use client::{Client, RequestOptions, Task};
pub use config::{
    ApiKey, ClientBuilder, Config, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_EVENT_BYTES, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT, RetryPolicy,
};
pub use custom::OnState;
pub use decode::{ModelBody, Output, unwrap_envelope};
pub use error::{Error, ErrorKind, Result};
pub use generated::api;
pub use generated::handles::{ComputerHandle, SandboxHandle};
pub use log::{LogLevel, LogRecord, LogSink, clear_log_sink, set_log_sink, with_log_sink};
pub use ops::{CustomOp, HttpMethod, OpSpec};
pub use pagination::{CURSOR, Page, Pager, next_page_params, params_at_cursor};
pub use raw::ResponseMeta;
pub use request::{Arg, FileWrite};
pub use settings::{Dialect, Input};
pub use sse::Event;
pub use stream::{Control, EventStream};
pub use transfer::Progress;
pub use user_agent::{set_runtime, user_agent};
pub use ws::{Channel, Message, Socket, SocketFrames};
