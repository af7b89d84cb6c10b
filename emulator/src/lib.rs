//! `miosa-emulator`: a local, protocol-faithful MIOSA API server.
//!
//! It keeps state in memory, answers with the real envelopes and error
//! bodies, paginates, streams SSE, honours idempotency keys, runs sandbox
//! commands for real in a private directory per sandbox, and can be told to
//! inject faults. It binds 127.0.0.1 only and requires its API key.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emu = miosa_emulator::Emulator::start(miosa_emulator::Config::default()).await?;
//! println!("{} {}", emu.base_url(), emu.api_key());
//! emu.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod config;
mod errors;
mod exec;
mod fsutil;
mod json;
mod pipeline;
mod png;
mod pty;
mod routes;
mod seed;
mod sse;
mod state;
mod strict;
mod util;
mod verbose;
mod webhook;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

pub use config::{Config, DEFAULT_ADMIN_KEY, DEFAULT_API_KEY, DEFAULT_WARM_POOL, STRICT_ENV};

use state::{App, AppState};

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Emulator {
    app: App,
    base_url: String,
    runner: Runner,
}

#[derive(Debug)]
enum Runner {
    /// Served by a task on the caller's runtime.
    Task(Option<tokio::task::JoinHandle<()>>),
    /// Served on a thread with its own runtime (`Emulator::spawn`).
    Thread(Option<std::thread::JoinHandle<()>>),
}

/// Prepares the directory tree and binds the listener.
async fn bind(config: Config) -> std::io::Result<(App, tokio::net::TcpListener)> {
    let (root, owns_root) = match &config.sandbox_root {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!(
                "miosa-emulator-{}-{}",
                std::process::id(),
                util::random_hex(6)
            )),
            true,
        ),
    };
    std::fs::create_dir_all(&root)?;
    let root: PathBuf = std::fs::canonicalize(&root)?;
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port))).await?;
    let port = listener.local_addr()?.port();
    let base_url = format!("http://127.0.0.1:{port}/api/v1");
    let app = Arc::new(AppState::new(config, root, owns_root, base_url));
    seed::reset(&app).await?;
    Ok((app, listener))
}

async fn serve(app: App, listener: tokio::net::TcpListener) {
    let router = routes::router(app.clone());
    let mut rx = app.shutdown_rx();
    drop(app);
    let mut rx2 = rx.clone();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        let _ = rx.wait_for(|v| *v).await;
    });
    // Graceful shutdown waits for open connections; give them a moment only.
    tokio::select! {
        _ = server => {}
        () = async {
            let _ = rx2.wait_for(|v| *v).await;
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        } => {}
    }
}

impl Emulator {
    /// Starts an emulator on the current tokio runtime.
    pub async fn start(config: Config) -> std::io::Result<Self> {
        let (app, listener) = bind(config).await?;
        let base_url = app.base_url.clone();
        let task = tokio::spawn(serve(app.clone(), listener));
        Ok(Self {
            app,
            base_url,
            runner: Runner::Task(Some(task)),
        })
    }

    /// Starts an emulator on its own thread and runtime, for synchronous
    /// tests and examples.
    pub fn try_spawn(config: Config) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("miosa-emulator".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    match bind(config).await {
                        Ok((app, listener)) => {
                            let _ = tx.send(Ok(app.clone()));
                            serve(app, listener).await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        let app = rx
            .recv()
            .map_err(|_| std::io::Error::other("emulator thread ended before starting"))??;
        Ok(Self {
            base_url: app.base_url.clone(),
            app,
            runner: Runner::Thread(Some(thread)),
        })
    }

    /// Like [`Emulator::try_spawn`].
    ///
    /// # Panics
    /// When the emulator cannot start (no free port, unwritable temp dir).
    pub fn spawn(config: Config) -> Self {
        Self::try_spawn(config).unwrap_or_else(|e| panic!("miosa-emulator failed to start: {e}"))
    }

    /// `http://127.0.0.1:PORT/api/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn api_key(&self) -> &str {
        &self.app.config.api_key
    }

    pub fn admin_key(&self) -> &str {
        &self.app.config.admin_key
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.base_url
            .trim_start_matches("http://127.0.0.1:")
            .split('/')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        self.app.signal_shutdown();
        match &mut self.runner {
            Runner::Task(task) => {
                if let Some(t) = task.take() {
                    let _ = t.await;
                }
            }
            Runner::Thread(thread) => {
                if let Some(t) = thread.take() {
                    let _ = tokio::task::spawn_blocking(move || t.join()).await;
                }
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.app.signal_shutdown();
        self.app.kill_all_processes();
        if let Runner::Thread(thread) = &mut self.runner
            && let Some(t) = thread.take()
        {
            let _ = t.join();
        }
    }
}
