//! WebSockets against the emulator (a real terminal, interactive exec, file
//! events) and against small misbehaving servers on loopback.

mod common;

use std::time::{Duration, Instant};

use common::{client_with, env};
use miosa::api::{EventsSubscribeParams, ExecRunParams, SandboxTerminalStreamParams};
use miosa::{Channel, ErrorKind, Socket};

const FIXTURE: &str = "sbx_fixture";

/// Reads until `want` has shown up `times` times in the collected text, within `limit`.
fn read_until(socket: &Socket, want: &str, times: usize, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let mut seen = String::new();
    while Instant::now() < deadline {
        match socket.next_timeout(Duration::from_millis(200)) {
            std::task::Poll::Ready(Some(Ok(message))) => seen.push_str(&message.text()),
            std::task::Poll::Ready(Some(Err(e))) => panic!("socket failed: {e}; so far: {seen:?}"),
            std::task::Poll::Ready(None) => break,
            std::task::Poll::Pending => {}
        }
        if seen.matches(want).count() >= times {
            return seen;
        }
    }
    panic!("{want:?} never arrived; got {seen:?}");
}

#[test]
fn terminal_round_trip_resize_and_close() {
    let env = env();
    let api = env.client.blocking();
    let term = api
        .sandbox()
        .terminal()
        .stream(
            FIXTURE,
            SandboxTerminalStreamParams::default().cols(80).rows(24),
        )
        .expect("terminal opens");
    term.send_text_blocking("echo hi-term\n").expect("typed");
    // Once in the echoed input line, once as the command's output line.
    let seen = read_until(&term, "hi-term\r\n", 2, Duration::from_secs(10));
    assert!(seen.contains("echo hi-term"), "{seen:?}");

    term.resize_blocking(100, 40).expect("resized");
    term.send_text_blocking("stty size\n").expect("typed");
    read_until(&term, "40 100", 1, Duration::from_secs(10));

    term.close();
    assert!(
        term.next_blocking().is_none(),
        "a closed socket yields nothing more"
    );
    assert!(
        term.send_text_blocking("ls\n").is_err(),
        "a closed socket refuses input"
    );
}

#[test]
fn close_from_another_thread_ends_a_pending_receive() {
    let env = env();
    let term = std::sync::Arc::new(
        env.client
            .blocking()
            .sandbox()
            .terminal()
            .stream(FIXTURE, SandboxTerminalStreamParams::default())
            .expect("terminal opens"),
    );
    // Let the shell's prompt arrive, so the next read really waits.
    std::thread::sleep(Duration::from_millis(300));
    while let std::task::Poll::Ready(Some(_)) = term.next_timeout(Duration::from_millis(100)) {}
    let closer = std::sync::Arc::clone(&term);
    let started = Instant::now();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        closer.close();
    });
    assert!(term.next_blocking().is_none());
    let waited = started.elapsed();
    thread.join().expect("closer thread");
    assert!(
        waited >= Duration::from_millis(150),
        "the read did wait ({waited:?})"
    );
    assert!(
        waited < Duration::from_secs(5),
        "close woke the read ({waited:?})"
    );
}

#[test]
fn interactive_exec_streams_and_returns_the_exit_code() {
    let env = env();
    let api = env.client.blocking();
    let exec = api
        .exec()
        .spawn(
            FIXTURE,
            "read line; echo got-$line; echo oops >&2; exit 3",
            Default::default(),
        )
        .expect("exec opens");
    exec.send_text_blocking("ping\n").expect("stdin");
    let mut stdout = String::new();
    let mut stderr = String::new();
    while let Some(message) = exec.next_blocking() {
        let message = message.expect("frame");
        match message.channel {
            Channel::Stdout => stdout.push_str(&message.text()),
            Channel::Stderr => stderr.push_str(&message.text()),
            other => panic!("unexpected {other:?} frame"),
        }
    }
    assert_eq!(stdout, "got-ping\n");
    assert_eq!(stderr, "oops\n");
    assert_eq!(exec.exit_code(), Some(3));
}

#[test]
fn interactive_exec_signal_and_stdin_close() {
    let env = env();
    let api = env.client.blocking();
    let cat = api
        .exec()
        .spawn(FIXTURE, "cat", Default::default())
        .expect("exec opens");
    cat.send_text_blocking("abc").expect("stdin");
    cat.close_stdin_blocking().expect("eof");
    let mut out = String::new();
    while let Some(message) = cat.next_blocking() {
        out.push_str(&message.expect("frame").text());
    }
    assert_eq!((out.as_str(), cat.exit_code()), ("abc", Some(0)));

    let sleeper = api
        .exec()
        .spawn(FIXTURE, "sleep 30", Default::default())
        .expect("exec opens");
    sleeper.signal_blocking("SIGKILL").expect("signal");
    while sleeper.next_blocking().is_some() {}
    assert_eq!(sleeper.exit_code(), Some(128 + 9));
    let err = sleeper
        .signal_blocking("not a signal")
        .expect_err("bad name");
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn events_subscribe_reports_file_changes() {
    let env = env();
    let api = env.client.blocking();
    let events = api
        .events()
        .subscribe(FIXTURE, EventsSubscribeParams::default().subscribe("file"))
        .expect("events open");
    std::thread::sleep(Duration::from_millis(300));
    api.exec()
        .run(
            FIXTURE,
            ExecRunParams::default().command("echo x > /home/user/ws-event.txt"),
        )
        .expect("exec");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no file.created event");
        let std::task::Poll::Ready(Some(item)) = events.next_timeout(Duration::from_millis(500))
        else {
            continue;
        };
        let event = item.expect("event").json().expect("JSON frame");
        if event["type"] == "file.created" && event["payload"]["path"] == "/home/user/ws-event.txt"
        {
            break;
        }
    }
}

/// Event frames' `type` and `payload` until every one of `wanted` has arrived
/// or the socket has ended (bounded by ten seconds).
fn events_until(events: &Socket, wanted: &[&str]) -> Vec<(String, serde_json::Value)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen: Vec<(String, serde_json::Value)> = Vec::new();
    while !wanted.iter().all(|w| seen.iter().any(|(t, _)| t == w)) {
        assert!(
            Instant::now() < deadline,
            "expected {wanted:?}, got {seen:?}"
        );
        match events.next_timeout(Duration::from_millis(500)) {
            std::task::Poll::Pending => continue,
            std::task::Poll::Ready(None) => break,
            std::task::Poll::Ready(Some(item)) => {
                let event = item.expect("event").json().expect("JSON frame");
                let kind = event["type"].as_str().unwrap_or_default().to_owned();
                seen.push((kind, event["payload"].clone()));
            }
        }
    }
    assert!(
        wanted.iter().all(|w| seen.iter().any(|(t, _)| t == w)),
        "expected {wanted:?}, got {seen:?}"
    );
    seen
}

#[test]
fn events_subscribe_reports_processes_windows_and_the_machine_stopping() {
    // A computer: it has a desktop, so window events happen too.
    const COMPUTER: &str = "cmp_fixture";
    let env = env();
    let api = env.client.blocking();
    let events = api
        .events()
        .subscribe(
            COMPUTER,
            EventsSubscribeParams::default().subscribe("process,window,clipboard"),
        )
        .expect("events open");
    api.exec()
        .run(COMPUTER, ExecRunParams::default().command("exit 4"))
        .expect("exec");
    let seen = events_until(&events, &["process.started", "process.stopped"]);
    let stopped = seen
        .iter()
        .find(|(t, _)| t == "process.stopped")
        .map(|(_, p)| p.clone())
        .unwrap_or_default();
    assert_eq!(
        (stopped["command"].as_str(), stopped["exit_code"].as_i64()),
        (Some("exit 4"), Some(4)),
        "{seen:?}"
    );
    // Not subscribed to: no file events even though files change.
    assert!(
        seen.iter().all(|(t, _)| !t.starts_with("file.")),
        "{seen:?}"
    );

    api.desktop().launch(COMPUTER, "xterm").expect("launch");
    events_until(&events, &["window.opened"]);

    // The interactive exec of another socket is a process too.
    let spawned = api
        .exec()
        .spawn(COMPUTER, "exit 0", Default::default())
        .expect("spawn");
    while let Some(item) = spawned.next_blocking() {
        item.expect("exec frame");
    }
    let seen = events_until(&events, &["process.started", "process.stopped"]);
    assert!(
        seen.iter()
            .any(|(t, p)| t == "process.stopped" && p["exit_code"] == 0),
        "{seen:?}"
    );

    api.computer().stop(COMPUTER).expect("stop");
    let seen = events_until(&events, &["producer.unavailable"]);
    assert_eq!(
        seen.last().map(|(_, p)| p["reason"].clone()),
        Some("stopped".into())
    );
    // The machine is gone: the feed ends (a going-away close is a clean end).
    assert!(
        matches!(
            events.next_timeout(Duration::from_secs(5)),
            std::task::Poll::Ready(None)
        ),
        "the events socket stayed open after its machine stopped"
    );
}

#[test]
fn a_refused_upgrade_is_the_usual_typed_error() {
    let env = env();
    let err = env
        .client
        .blocking()
        .sandbox()
        .terminal()
        .stream("sbx_missing", Default::default())
        .expect_err("no such sandbox");
    assert_eq!((err.kind(), err.status()), (ErrorKind::NotFound, Some(404)));
    let bad_key = common::client_for(&env.emulator, "msk_live_wrong_key_0000000000");
    let err = bad_key
        .blocking()
        .exec()
        .spawn(FIXTURE, "true", Default::default())
        .expect_err("wrong key");
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(
        !format!("{err} {err:?}").contains("wrong_key"),
        "the key stays out of errors"
    );
}

/// A WebSocket server on loopback that accepts one connection and runs `serve` on it.
fn ws_server<F, Fut>(serve: F) -> String
where
    F: FnOnce(tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            listener.set_nonblocking(true).expect("nonblocking");
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let accepted = tokio::time::timeout(Duration::from_secs(10), listener.accept()).await;
            let Ok(Ok((tcp, _))) = accepted else { return };
            if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                let _ = tokio::time::timeout(Duration::from_secs(10), serve(ws)).await;
            }
        });
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn an_oversize_frame_is_limit_exceeded() {
    use futures_util::SinkExt;
    let base = ws_server(|mut ws| async move {
        let big = vec![b'x'; 1 << 20];
        let _ = ws
            .send(tokio_tungstenite::tungstenite::Message::binary(big))
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    let emulator =
        miosa_emulator::Emulator::try_spawn(miosa_emulator::Config::default()).expect("emulator");
    let client = client_with(&emulator, |b| b.base_url(&base).max_event_bytes(64 * 1024));
    let term = client
        .blocking()
        .sandbox()
        .terminal()
        .stream(FIXTURE, Default::default())
        .expect("opens");
    let err = term.next_blocking().expect("an item").expect_err("too big");
    assert_eq!(err.kind(), ErrorKind::LimitExceeded);
    assert!(err.message().contains("max_event_bytes"), "{err}");
}

#[test]
fn a_server_that_never_answers_the_upgrade_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let holder = std::thread::spawn(move || {
        // Accept, read nothing, answer nothing, for a bounded while.
        let conn = listener.accept();
        std::thread::sleep(Duration::from_secs(3));
        drop(conn);
    });
    let emulator =
        miosa_emulator::Emulator::try_spawn(miosa_emulator::Config::default()).expect("emulator");
    let client = client_with(&emulator, |b| {
        b.base_url(format!("http://127.0.0.1:{port}"))
            .timeout(Duration::from_millis(500))
    });
    let started = Instant::now();
    let err = client
        .blocking()
        .exec()
        .spawn(FIXTURE, "true", Default::default())
        .expect_err("no upgrade");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    holder.join().expect("holder");
}

#[test]
fn sockets_keep_secrets_out_of_debug() {
    let env = env();
    let term = env
        .client
        .blocking()
        .sandbox()
        .terminal()
        .stream(FIXTURE, Default::default())
        .expect("opens");
    let shown = format!("{term:?}");
    assert!(
        shown.contains("Terminal") && !shown.contains(env.emulator.api_key()),
        "{shown}"
    );
}
