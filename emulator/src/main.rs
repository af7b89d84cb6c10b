//! `miosa-emulator [OPTIONS]`: a local MIOSA API server (see `--help`).
//!
//! Binds 127.0.0.1 only and prints, as its first stdout line:
//! `miosa-emulator listening base_url=http://127.0.0.1:PORT/api/v1 api_key=KEY admin_key=KEY`
//! then serves until killed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use miosa_emulator::{Config, DEFAULT_ADMIN_KEY, DEFAULT_API_KEY, DEFAULT_WARM_POOL, Emulator};

fn usage() -> String {
    format!(
        "\
miosa-emulator: a local, stateful MIOSA API server on 127.0.0.1

usage: miosa-emulator [OPTIONS]

options:
  --port N              port on 127.0.0.1; 0 picks a free one (default 0)
  --api-key KEY         key accepted as `Authorization: Bearer KEY`
                        (default {DEFAULT_API_KEY})
  --admin-key KEY       key that also opens /admin/* and /audit-log
                        (default {DEFAULT_ADMIN_KEY})
  --boot-delay-ms MS    time a new or resumed machine spends booting before it
                        runs; exec and files answer 409 SANDBOX_STARTING
                        meanwhile (default 200; 0 boots at once)
  --warm-pool N         machines a `fail_fast` create can take; when none is
                        left it answers 503 no_ready_machine (default {DEFAULT_WARM_POOL})
  --strict              answer 422 naming the key for unknown body or query
                        keys, non-canonical spellings, loosely typed values and
                        missing required fields (default: on when the
                        environment has MIOSA_EMULATOR_STRICT=1)
  --no-strict           tolerant like MIOSA, whatever the environment says
  --exec-timeout SECS   limit of one command when the call names none
                        (default 30)
  --sandbox-root DIR    where machine directories live (default: a fresh
                        temporary directory, removed at exit)
  --verbose, -v         one line per request on stderr
  --help, -h            this text

The first stdout line is
  miosa-emulator listening base_url=http://127.0.0.1:PORT/api/v1 api_key=KEY admin_key=KEY
Control routes live under /api/v1/_emulator/ (reset, requests, faults, stats,
credits); see emulator/README.md.
"
    )
}

fn parse(args: &[String]) -> Result<Config, String> {
    let mut config = Config::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "-v" | "--verbose" => {
                config.verbose = true;
                continue;
            }
            "--strict" => {
                config.strict = true;
                continue;
            }
            "--no-strict" => {
                config.strict = false;
                continue;
            }
            _ => {}
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
            "--warm-pool" => {
                config.warm_pool = value()?.parse().map_err(|e| format!("--warm-pool: {e}"))?;
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
            if msg.is_empty() {
                print!("{}", usage());
                return ExitCode::SUCCESS;
            }
            eprintln!("miosa-emulator: {msg}\n(see miosa-emulator --help)");
            return ExitCode::from(2);
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
