//! `miosa-emulator --port 0 [--api-key K] [--admin-key K]`
//!
//! Binds 127.0.0.1 only and prints, as its first stdout line:
//! `miosa-emulator listening base_url=http://127.0.0.1:PORT/api/v1 api_key=KEY admin_key=KEY`
//! then serves until killed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use miosa_emulator::{Config, Emulator};

const USAGE: &str = "usage: miosa-emulator [--port N] [--api-key KEY] [--admin-key KEY] \
[--exec-timeout SECS] [--boot-delay-ms MS] [--sandbox-root DIR]";

fn parse(args: &[String]) -> Result<Config, String> {
    let mut config = Config::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (flag.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name {
            "--port" => config.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--api-key" => config.api_key = value()?,
            "--admin-key" => config.admin_key = value()?,
            "--exec-timeout" => {
                let secs: f64 = value()?
                    .parse()
                    .map_err(|e| format!("--exec-timeout: {e}"))?;
                config.exec_timeout = Duration::try_from_secs_f64(secs)
                    .map_err(|e| format!("--exec-timeout: {e}"))?;
            }
            "--boot-delay-ms" => {
                let ms: u64 = value()?
                    .parse()
                    .map_err(|e| format!("--boot-delay-ms: {e}"))?;
                config.boot_delay = Duration::from_millis(ms);
            }
            "--sandbox-root" => config.sandbox_root = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if config.api_key.is_empty() || config.admin_key.is_empty() {
        return Err("keys must not be empty".into());
    }
    Ok(config)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(c) => c,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("miosa-emulator: {msg}");
            }
            eprintln!("{USAGE}");
            return if msg.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("miosa-emulator: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let emu = match Emulator::start(config).await {
            Ok(emu) => emu,
            Err(e) => {
                eprintln!("miosa-emulator: cannot start: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "miosa-emulator listening base_url={} api_key={} admin_key={}",
            emu.base_url(),
            emu.api_key(),
            emu.admin_key()
        );
        let _ = out.flush();
        drop(out);
        wait_for_signal().await;
        // Clean up child processes and the temporary sandbox directories.
        emu.shutdown().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
