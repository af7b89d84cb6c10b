//! Confinement of sandbox files and commands, tried as an attacker would:
//! symlinks swapped in while requests run, hard links to outside files,
//! commands writing outside their directory; and the pipeline's order (a
//! keyless request never consumes an injected fault) and its redacted log.

mod common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use miosa_emulator::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

use common::{Harness, b64, enc};

const SECRET: &str = "OUTSIDE-THE-SANDBOX";
/// The race's budget: this many requests, or this long, whichever is first.
const TRIES: usize = 10_000;
const RACE_LIMIT: Duration = Duration::from_secs(120);

/// An emulator whose directory tree is known, with a secret file and
/// directory beside (not below) the sandboxes.
struct Setup {
    h: Harness,
    base: PathBuf,
    sandbox: PathBuf,
    outside_file: PathBuf,
    outside_dir: PathBuf,
}

async fn setup() -> Setup {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir().join(format!(
        "miosa-confinement-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let base = {
        std::fs::create_dir_all(&base).expect("temp dir");
        std::fs::canonicalize(&base).expect("canonical")
    };
    let root = base.join("emulator");
    let outside_file = base.join("secret.txt");
    std::fs::write(&outside_file, SECRET).expect("secret");
    let outside_dir = base.join("secret-dir");
    std::fs::create_dir_all(&outside_dir).expect("secret dir");
    std::fs::write(outside_dir.join("x"), SECRET).expect("secret in dir");
    let h = common::start_with(Config {
        sandbox_root: Some(root.clone()),
        ..Config::default()
    })
    .await;
    let sandbox = root.join("sandboxes").join("sbx_fixture");
    assert!(sandbox.is_dir(), "the fixture sandbox lives at {sandbox:?}");
    Setup {
        h,
        base,
        sandbox,
        outside_file,
        outside_dir,
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

async fn download(h: &Harness, path: &str) -> (StatusCode, Vec<u8>) {
    let resp = h
        .req(
            Method::GET,
            &format!("/sandboxes/sbx_fixture/fs/download?path={}", enc(path)),
        )
        .send()
        .await
        .expect("answered");
    let status = resp.status();
    (status, resp.bytes().await.expect("body").to_vec())
}

async fn write(h: &Harness, path: &str, content: &[u8]) -> StatusCode {
    h.post(
        "/sandboxes/sbx_fixture/fs/write",
        json!({"path": path, "content_base64": b64(content)}),
    )
    .await
    .0
}

/// Makes `name` in `dir` (a real entry made by `real`) and flips it with a
/// symlink to `target` by atomic exchange, as fast as it can, until `stop`.
fn swapper(
    dir: &Path,
    name: &str,
    target: &Path,
    real: fn(&Path),
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    let at = dir.join(name);
    let link = dir.join(format!(".{name}.link"));
    real(&at);
    std::os::unix::fs::symlink(target, &link).expect("symlink");
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).expect("path");
    let (at, link) = (c(&at), c(&link));
    std::thread::spawn(move || {
        let mut swaps = 0u64;
        while !stop.load(Ordering::Relaxed) {
            // SAFETY: NUL-terminated paths that outlive the call.
            let ret = unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    link.as_ptr(),
                    libc::AT_FDCWD,
                    at.as_ptr(),
                    libc::RENAME_EXCHANGE,
                )
            };
            assert_eq!(ret, 0, "exchange: {}", std::io::Error::last_os_error());
            swaps += 1;
        }
        swaps
    })
}

fn real_file(p: &Path) {
    std::fs::write(p, b"inside").expect("file");
}

fn real_dir(p: &Path) {
    std::fs::create_dir(p).expect("dir");
    std::fs::write(p.join("x"), b"inside").expect("file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swapping_symlinks_never_lets_a_request_out() {
    let s = setup().await;
    let stop = Arc::new(AtomicBool::new(false));
    let file_swapper = swapper(
        &s.sandbox,
        "victim",
        &s.outside_file,
        real_file,
        Arc::clone(&stop),
    );
    let dir_swapper = swapper(&s.sandbox, "d", &s.outside_dir, real_dir, Arc::clone(&stop));

    let started = Instant::now();
    let (mut tries, mut escapes, mut served, mut refused) = (0usize, 0usize, 0usize, 0usize);
    while tries < TRIES && started.elapsed() < RACE_LIMIT {
        // Reads of a swapped file and of a file below a swapped directory,
        // and writes below the swapped directory.
        let batch = futures_util::future::join_all((0..16).map(|i| {
            let h = &s.h;
            async move {
                match i % 4 {
                    0 => download(h, "/workspace/victim").await,
                    1 | 2 => download(h, "/workspace/d/x").await,
                    _ => (
                        write(h, "/workspace/d/planted", b"planted").await,
                        Vec::new(),
                    ),
                }
            }
        }))
        .await;
        for (status, body) in batch {
            tries += 1;
            if body.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()) {
                escapes += 1;
            }
            if status == StatusCode::OK {
                served += 1;
            } else if status == StatusCode::FORBIDDEN {
                refused += 1;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = file_swapper.join().expect("swapper") + dir_swapper.join().expect("swapper");
    let planted = s.outside_dir.join("planted").exists();
    println!(
        "symlink race: {tries} requests in {:?}, {swaps} swaps, {served} served, {refused} refused, {escapes} escapes, write escaped: {planted}",
        started.elapsed()
    );
    assert_eq!(escapes, 0, "a request read a file outside the sandbox");
    assert!(!planted, "a write landed outside the sandbox");
    assert!(
        served > 0 && refused > 0,
        "the race was exercised (both sides seen)"
    );
    assert!(tries >= 1_000, "too few tries ran: {tries}");
}

#[tokio::test]
async fn hard_links_to_outside_files_are_refused() {
    let s = setup().await;
    std::fs::hard_link(&s.outside_file, s.sandbox.join("linked")).expect("hard link");
    let (status, body) = download(&s.h, "/workspace/linked").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!String::from_utf8_lossy(&body).contains(SECRET));
    assert!(String::from_utf8_lossy(&body).contains("PATH_OUTSIDE_WORKSPACE"));
    // Writing through it would change the outside file: refused, untouched.
    assert_eq!(
        write(&s.h, "/workspace/linked", b"overwritten").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        std::fs::read_to_string(&s.outside_file).expect("secret"),
        SECRET
    );

    // Two links that are both inside are an ordinary file.
    std::fs::write(s.sandbox.join("a"), b"shared").expect("file");
    std::fs::create_dir_all(s.sandbox.join("sub")).expect("dir");
    std::fs::hard_link(s.sandbox.join("a"), s.sandbox.join("sub/b")).expect("link");
    let (status, body) = download(&s.h, "/workspace/sub/b").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"shared");

    // A link made by a command is refused too (or cannot be made at all).
    let cmd = format!("ln {} /workspace/via-exec", s.outside_file.display());
    let (status, v) =
        s.h.post("/sandboxes/sbx_fixture/exec", json!({"command": cmd}))
            .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, body) = download(&s.h, "/workspace/via-exec").await;
    assert_ne!(status, StatusCode::OK);
    assert!(!String::from_utf8_lossy(&body).contains(SECRET));
}

#[tokio::test]
async fn a_symlink_inside_the_sandbox_still_works() {
    let s = setup().await;
    std::fs::create_dir_all(s.sandbox.join("real")).expect("dir");
    std::fs::write(s.sandbox.join("real/f"), b"through a link").expect("file");
    std::os::unix::fs::symlink("real", s.sandbox.join("alias")).expect("symlink");
    let (status, body) = download(&s.h, "/workspace/alias/f").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"through a link");
    std::os::unix::fs::symlink("../../../secret.txt", s.sandbox.join("up")).expect("symlink");
    let (status, _) = download(&s.h, "/workspace/up").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Whether this machine lets an unprivileged process make a user and mount
/// namespace (the emulator confines commands only then).
fn user_namespaces() -> bool {
    std::process::Command::new("unshare")
        .args(["-U", "-m", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test]
async fn commands_write_only_inside_their_directory() {
    let s = setup().await;
    if !user_namespaces() {
        println!("skipped: no user namespaces here, commands are not confined");
        return;
    }
    let escape = s.base.join("escaped-by-exec");
    let cmd = format!(
        "echo kept > /workspace/kept; echo out > {} ; echo \"$?\"; echo tmp > \"$TMPDIR/t\" && echo tmp-ok",
        escape.display()
    );
    let (status, v) =
        s.h.post("/sandboxes/sbx_fixture/exec", json!({"command": cmd}))
            .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let stdout = v["data"]["stdout"].as_str().expect("stdout");
    assert!(!escape.exists(), "a command wrote outside: {v}");
    assert!(
        stdout.starts_with("1\n") || stdout.starts_with("2\n"),
        "{v}"
    );
    assert!(stdout.contains("tmp-ok"), "TMPDIR is writable: {v}");
    let (status, body) = download(&s.h, "/workspace/kept").await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, &b"kept\n"[..]));
}

#[tokio::test]
async fn a_keyless_request_gets_401_and_leaves_the_fault() {
    let h = common::start().await;
    let (status, body) = h
        .post(
            "/_emulator/faults",
            json!({"path": "/sandboxes/sbx_fixture", "status": 503}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keyless = h
        .http
        .get(h.url("/sandboxes/sbx_fixture"))
        .send()
        .await
        .expect("answered");
    assert_eq!(keyless.status(), StatusCode::UNAUTHORIZED);
    let wrong_key = h
        .http
        .get(h.url("/sandboxes/sbx_fixture"))
        .bearer_auth("msk_not_the_key")
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong_key.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = h.get("/sandboxes/sbx_fixture").await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the fault is still there"
    );
    let (status, _) = h.get("/sandboxes/sbx_fixture").await;
    assert_eq!(status, StatusCode::OK, "and was used once");
}

#[tokio::test]
async fn the_request_log_never_keeps_a_key() {
    let h = common::start().await;
    let (status, _) = h.get("/sandboxes/sbx_fixture").await;
    assert_eq!(status, StatusCode::OK);
    let _ = h
        .http
        .get(h.url("/sandboxes/sbx_fixture"))
        .header("authorization", "Token not-a-bearer-secret")
        .send()
        .await
        .expect("answered");
    let (status, log) = h.get("/_emulator/requests").await;
    assert_eq!(status, StatusCode::OK);
    let text = log.to_string();
    assert!(!text.contains(h.emu.api_key()), "{text}");
    assert!(!text.contains("not-a-bearer-secret"), "{text}");
    let entries = log.as_array().expect("entries");
    let shown: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["headers"]["authorization"].as_str())
        .collect();
    assert_eq!(
        shown,
        ["Bearer msk_…(redacted)", "Token …(redacted)"],
        "{text}"
    );
}
