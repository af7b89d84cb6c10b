//! `miosa-hostile CASE`: runs one hostile-server case against the core with
//! the default limits and prints the client process's resident memory at the
//! start and at its peak (Linux `VmRSS`/`VmHWM`), with the typed error the
//! case ended with. One case per process, so each peak is its own;
//! `scripts/bench-hostile.sh` runs them all. Prints numbers; asserts nothing.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use miosa::Client;
use miosa::api::{CompletionsStreamParams, WebhooksListParams};

/// Upper bound on what a hostile server writes, whatever the client does.
const MAX_SERVED: usize = 2 << 30;
const SSE_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";

const CASES: &[&str] = &[
    "endless-body",
    "absurd-content-length",
    "endless-sse-line",
    "huge-event",
    "clean-close-with-ids",
    "post-stream-cut",
    "cursor-cycle",
];

type Res<T> = Result<T, String>;

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    if !CASES.contains(&case.as_str()) {
        eprintln!("usage: miosa-hostile CASE  (one of: {})", CASES.join(", "));
        std::process::exit(2);
    }
    if let Err(e) = run(&case) {
        eprintln!("miosa-hostile {case}: {e}");
        std::process::exit(1);
    }
}

fn run(case: &str) -> Res<()> {
    let base_url = serve(case)?;
    let client = Client::builder("msk_bench_hostile")
        .base_url(base_url)
        .build()
        .map_err(|e| e.to_string())?;
    let start = memory_kib("VmRSS:")?;
    let started = Instant::now();
    let outcome = futures_executor::block_on(exercise(case, &client));
    let took = started.elapsed();
    let peak = memory_kib("VmHWM:")?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "{case:<24} start {:>7.1} MiB  peak {:>7.1} MiB  over start {:>7.1} MiB  {:>6.2} s  {outcome}",
        mib(start),
        mib(peak),
        mib(peak.saturating_sub(start)),
        took.as_secs_f64()
    );
    Ok(())
}

/// Runs the case; the text says how it ended (an error kind, or what arrived).
async fn exercise(case: &str, client: &Client) -> String {
    let ended = |err: miosa::Error| format!("{:?}: {}", err.kind(), err.message());
    match case {
        "endless-body" | "absurd-content-length" => match client.sandboxes().get("sbx_1").await {
            Ok(_) => "answered (unexpected)".to_owned(),
            Err(err) => ended(err),
        },
        "cursor-cycle" => {
            let pager = match client.webhooks().iter(WebhooksListParams::default()) {
                Ok(pager) => pager,
                Err(err) => return ended(err),
            };
            let mut items = 0;
            while let Some(item) = pager.next().await {
                match item {
                    Ok(_) => items += 1,
                    Err(err) => return format!("{items} items, then {}", ended(err)),
                }
            }
            format!("{items} items, no error (unexpected)")
        }
        _ => {
            let stream = if case == "post-stream-cut" {
                client
                    .completions()
                    .stream(CompletionsStreamParams::default().model("m"))
                    .await
            } else {
                client.stream_sse("/stream", Default::default()).await
            };
            let stream = match stream {
                Ok(stream) => stream,
                Err(err) => return ended(err),
            };
            let mut events = 0;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(_) => events += 1,
                    Err(err) => return format!("{events} events, then {}", ended(err)),
                }
            }
            format!("{events} events, clean end")
        }
    }
}

/// A line such as `VmHWM:  1234 kB` of `/proc/self/status`, in KiB.
fn memory_kib(field: &str) -> Res<u64> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/self/status"))
}

/// Starts the case's server on loopback and returns the API root.
fn serve(case: &str) -> Res<String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let case = case.to_owned();
    std::thread::spawn(move || {
        for (index, conn) in listener.incoming().enumerate() {
            let Ok(conn) = conn else { return };
            let case = case.clone();
            std::thread::spawn(move || answer(&case, index, conn));
        }
    });
    Ok(format!("http://127.0.0.1:{port}/api/v1"))
}

fn answer(case: &str, index: usize, mut conn: TcpStream) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(head) = read_head(&conn) else { return };
    let resumed_from = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("last-event-id: ")
                .or_else(|| l.strip_prefix("Last-Event-ID: "))
        })
        .and_then(|v| v.trim().parse::<u32>().ok());
    let events = |range: std::ops::RangeInclusive<u32>| -> String {
        range.map(|n| format!("id: {n}\ndata: {n}\n\n")).collect()
    };
    let _ = match case {
        "endless-body" => conn
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[",
            )
            .map(|()| endlessly(&mut conn, &b"1,".repeat(32 * 1024))),
        "absurd-content-length" => {
            let written = conn.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000000000\r\n\r\n{",
            );
            std::thread::sleep(Duration::from_secs(3));
            written
        }
        "endless-sse-line" => conn
            .write_all(SSE_HEAD)
            .and_then(|()| conn.write_all(b"data: "))
            .map(|()| endlessly(&mut conn, &[b'x'; 64 * 1024])),
        "huge-event" => conn.write_all(SSE_HEAD).map(|()| {
            endlessly(
                &mut conn,
                format!("data: {}\n", "y".repeat(16 * 1024)).as_bytes(),
            )
        }),
        "clean-close-with-ids" => match (index, resumed_from) {
            (0, _) => {
                conn.write_all(&[SSE_HEAD, b"retry: 10\n\n", events(1..=7).as_bytes()].concat())
            }
            (_, Some(7)) => {
                conn.write_all(&[SSE_HEAD, events(8..=30).as_bytes(), b"data: [DONE]\n\n"].concat())
            }
            _ => Ok(()),
        },
        "post-stream-cut" => {
            conn.write_all(&[SSE_HEAD, b"retry: 10\n\n", events(1..=3).as_bytes()].concat())
        }
        "cursor-cycle" => {
            let body = if head.contains("cursor=B") {
                r#"{"data":[{"id":"w2"}],"next_cursor":"A"}"#
            } else {
                r#"{"data":[{"id":"w1"}],"next_cursor":"B"}"#
            };
            conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            )
        }
        _ => Ok(()),
    };
}

fn endlessly(conn: &mut TcpStream, chunk: &[u8]) {
    let mut served = 0;
    while served < MAX_SERVED && conn.write_all(chunk).is_ok() {
        served += chunk.len();
    }
}

fn read_head(conn: &TcpStream) -> Option<String> {
    let mut reader = BufReader::new(conn.try_clone().ok()?);
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length];
    std::io::Read::read_exact(&mut reader, &mut body).ok()?;
    Some(head)
}
