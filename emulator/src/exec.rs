//! Running commands for real: `sh -c` (or `python3 -c` / `node -e`) in the
//! machine's directory, in its own process group so a timeout or a stop
//! kills every child.
//!
//! Where the machine allows user namespaces, each command runs in its own
//! user and mount namespace in which every mount is read-only except the
//! machine's directory (see `isolation`). This keeps a test's commands from
//! writing anywhere else; it is not a security boundary (the host's files
//! stay readable, the network is shared).

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::state::{Proc, ProcOut, lock};
use crate::util;

/// Output kept per stream.
const OUTPUT_CAP: usize = 16 * 1024 * 1024;
/// How long to keep reading after the main process exited (children that
/// hold the pipes are killed after this).
const DRAIN: Duration = Duration::from_millis(500);

/// What to run.
#[derive(Debug, Clone, Copy)]
pub enum Lang {
    Shell,
    Python,
    Node,
}

/// Result of one command.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    pub duration_ms: u64,
    pub timed_out: bool,
}

/// Replaces the API's `/workspace` and `/home/user` prefixes in a command
/// with the machine's real directory, so `cat /workspace/x` reads the file
/// written through the files API.
pub fn rewrite_paths(text: &str, dir: &Path) -> String {
    let real = dir.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let hit = ["/workspace", "/home/user"].iter().find(|p| {
            text[i..].starts_with(**p) && {
                let before = i.checked_sub(1).map(|j| bytes[j]);
                let after = bytes.get(i + p.len()).copied();
                let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-';
                !before.is_some_and(|b| word(b) || b == b'/') && !after.is_some_and(word)
            }
        });
        if let Some(p) = hit {
            out.push_str(&real);
            i += p.len();
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

pub(crate) fn command(lang: Lang, code: &str, dir: &Path, env: &[(String, String)]) -> Command {
    let code = rewrite_paths(code, dir);
    let mut cmd = match lang {
        Lang::Shell => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(code);
            c
        }
        Lang::Python => {
            let mut c = Command::new("python3");
            c.arg("-c").arg(code);
            c
        }
        Lang::Node => {
            let mut c = Command::new("node");
            c.arg("-e").arg(code);
            c
        }
    };
    // A clean environment: host variables must not leak into tests.
    cmd.current_dir(dir)
        .env_clear()
        .env(
            "PATH",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
        )
        .env("HOME", dir)
        .env("PWD", dir)
        .env("LANG", "C.UTF-8")
        .env("TERM", "dumb")
        .env("PYTHONUNBUFFERED", "1")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(confine) = isolation::for_dir(dir) {
        // The only writable place is the machine's directory.
        cmd.env("TMPDIR", dir);
        // SAFETY: the hook only makes system calls on data prepared before
        // the fork (no allocation, no locks), as `pre_exec` requires.
        unsafe {
            cmd.pre_exec(move || confine.apply());
        }
    }
    cmd
}

async fn kill_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

fn pump<R: AsyncRead + Unpin + Send + 'static>(
    mut reader: R,
    sinks: Vec<Arc<Mutex<Vec<u8>>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 8192];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    for s in &sinks {
                        let mut s = lock(s);
                        if s.len() < OUTPUT_CAP {
                            s.extend_from_slice(&buf[..n]);
                        }
                    }
                }
            }
        }
    })
}

/// Runs a command to completion (or until `timeout`, then kills it and
/// reports exit code 124).
pub async fn run(
    lang: Lang,
    code: &str,
    dir: &Path,
    env: &[(String, String)],
    timeout: Duration,
) -> std::io::Result<Outcome> {
    let started = Instant::now();
    let mut child = command(lang, code, dir, env).stdin(Stdio::null()).spawn()?;
    let pgid = child.id();
    let out = Arc::new(Mutex::new(Vec::new()));
    let err = Arc::new(Mutex::new(Vec::new()));
    let mut pumps = Vec::new();
    if let Some(s) = child.stdout.take() {
        pumps.push(pump(s, vec![out.clone()]));
    }
    if let Some(s) = child.stderr.take() {
        pumps.push(pump(s, vec![err.clone()]));
    }
    let (exit_code, timed_out) = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => (status?.code().unwrap_or(-1), false),
        Err(_) => {
            if let Some(pgid) = pgid {
                kill_group(pgid, "-KILL").await;
            }
            let _ = child.kill().await;
            (124, true)
        }
    };
    // Children left in the background may hold the pipes open.
    let drained = tokio::time::timeout(DRAIN, futures_util::future::join_all(&mut pumps)).await;
    if drained.is_err() {
        if let Some(pgid) = pgid {
            kill_group(pgid, "-KILL").await;
        }
        for p in &pumps {
            p.abort();
        }
    }
    let mut stderr = String::from_utf8_lossy(&lock(&err)).into_owned();
    if timed_out {
        stderr.push_str(&format!(
            "command timed out after {:.1}s\n",
            timeout.as_secs_f64()
        ));
    }
    let stdout = String::from_utf8_lossy(&lock(&out)).into_owned();
    Ok(Outcome {
        stdout,
        stderr,
        exit_code,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        timed_out,
    })
}

/// Starts a background process; its watcher task fills the output buffers
/// and records the exit. Its stdin stays open so that `cat`-like commands
/// end when the emulator does.
pub fn spawn(
    pid: Option<String>,
    code: &str,
    dir: &Path,
    env: &[(String, String)],
    rec: Map<String, Value>,
    timeout: Option<Duration>,
) -> std::io::Result<Proc> {
    let mut child = command(Lang::Shell, code, dir, env)
        .stdin(Stdio::piped())
        .spawn()?;
    let pgid = child.id();
    let pid = pid.unwrap_or_else(|| pgid.map_or_else(|| util::new_id("proc"), |p| p.to_string()));
    let out = Arc::new(Mutex::new(ProcOut::default()));
    let so = Arc::new(Mutex::new(Vec::new()));
    let se = Arc::new(Mutex::new(Vec::new()));
    let both = Arc::new(Mutex::new(Vec::new()));
    let mut pumps = Vec::new();
    if let Some(s) = child.stdout.take() {
        pumps.push(pump(s, vec![so.clone(), both.clone()]));
    }
    if let Some(s) = child.stderr.take() {
        pumps.push(pump(s, vec![se.clone(), both.clone()]));
    }
    let stdin = child.stdin.take();
    let shared = out.clone();
    tokio::spawn(async move {
        // Copies what the pumps gathered so far into the shared record.
        let sync = |o: &Arc<Mutex<ProcOut>>| {
            let mut o = lock(o);
            o.stdout = lock(&so).clone();
            o.stderr = lock(&se).clone();
            o.combined = lock(&both).clone();
        };
        let waited = async {
            loop {
                tokio::select! {
                    status = child.wait() => return status.ok().and_then(|s| s.code()),
                    () = tokio::time::sleep(Duration::from_millis(50)) => sync(&shared),
                }
            }
        };
        let code = match timeout {
            Some(t) => match tokio::time::timeout(t, waited).await {
                Ok(c) => c,
                Err(_) => {
                    if let Some(pgid) = pgid {
                        kill_group(pgid, "-KILL").await;
                    }
                    Some(124)
                }
            },
            None => waited.await,
        };
        drop(stdin);
        let _ = tokio::time::timeout(DRAIN, futures_util::future::join_all(pumps)).await;
        sync(&shared);
        let mut o = lock(&shared);
        o.exit_code = code.or(o.killed.then_some(137));
        o.ended_at = Some(util::now());
    });
    Ok(Proc {
        pid,
        rec,
        out,
        pgid,
    })
}

/// Stops a background process: SIGTERM to its group, SIGKILL a second later.
pub async fn stop(proc: &Proc) {
    lock(&proc.out).killed = true;
    let Some(pgid) = proc.pgid else { return };
    kill_group(pgid, "-TERM").await;
    for _ in 0..20 {
        if !proc.running() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kill_group(pgid, "-KILL").await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_whole_prefixes() {
        let d = Path::new("/tmp/x");
        assert_eq!(rewrite_paths("cat /workspace/a", d), "cat /tmp/x/a");
        assert_eq!(rewrite_paths("ls /workspace", d), "ls /tmp/x");
        assert_eq!(rewrite_paths("'/workspace'", d), "'/tmp/x'");
        assert_eq!(rewrite_paths("/a/workspace", d), "/a/workspace");
        assert_eq!(rewrite_paths("/workspaces", d), "/workspaces");
        assert_eq!(rewrite_paths("cd /home/user && ünï", d), "cd /tmp/x && ünï");
    }
}

/// Commands confined to their machine directory for writing, by a user and
/// mount namespace per command (no privilege needed where unprivileged user
/// namespaces are allowed; probed once, and left out where they are not).
pub(crate) mod isolation {
    use std::ffi::{CStr, CString};
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use std::sync::OnceLock;

    /// `struct mount_attr` of mount_setattr(2).
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }

    const MOUNT_ATTR_RDONLY: u64 = 0x1;

    /// What the child does between fork and exec, prepared in the parent.
    #[derive(Debug)]
    pub struct Confine {
        dir: CString,
    }

    fn cvt(ret: i64) -> io::Result<()> {
        if ret < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    fn setattr(path: &CStr, flags: u32, set: u64, clear: u64) -> io::Result<()> {
        let attr = MountAttr {
            attr_set: set,
            attr_clr: clear,
            propagation: 0,
            userns_fd: 0,
        };
        // SAFETY: valid path and a correctly sized `mount_attr`.
        cvt(unsafe {
            libc::syscall(
                libc::SYS_mount_setattr,
                libc::AT_FDCWD,
                path.as_ptr(),
                flags,
                &raw const attr,
                std::mem::size_of::<MountAttr>(),
            )
        })
    }

    impl Confine {
        /// Runs in the child: a new user and mount namespace (the command's
        /// uid is unmapped there, so it gains no capability when it execs
        /// and cannot undo this), every mount read-only, the machine's
        /// directory bound onto itself and left writable.
        pub fn apply(&self) -> io::Result<()> {
            let root = c"/";
            // SAFETY: plain system calls on NUL-terminated strings that
            // outlive them.
            unsafe {
                cvt(libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS).into())?;
                cvt(libc::mount(
                    std::ptr::null(),
                    root.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                )
                .into())?;
                cvt(libc::mount(
                    self.dir.as_ptr(),
                    self.dir.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                )
                .into())?;
            }
            setattr(
                root,
                libc::AT_RECURSIVE.cast_unsigned(),
                MOUNT_ATTR_RDONLY,
                0,
            )?;
            setattr(&self.dir, 0, 0, MOUNT_ATTR_RDONLY)?;
            // The working directory was entered before the bind mount.
            // SAFETY: NUL-terminated path.
            cvt(unsafe { libc::chdir(self.dir.as_ptr()) }.into())
        }
    }

    /// Whether confinement works here, found once by running `true` under it.
    fn available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            let Ok(dir) = CString::new("/tmp") else {
                return false;
            };
            let probe = Confine { dir };
            let mut cmd = std::process::Command::new("true");
            // SAFETY: as for commands (system calls only).
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || probe.apply());
            }
            cmd.status().is_ok_and(|s| s.success())
        })
    }

    /// The confinement for commands in `dir`, when the machine allows it.
    pub fn for_dir(dir: &Path) -> Option<Confine> {
        let dir = CString::new(dir.as_os_str().as_bytes()).ok()?;
        available().then_some(Confine { dir })
    }
}
