//! A real pseudo-terminal: a shell on the slave side, the master read on a
//! thread and written and resized from the socket handler.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use tokio::sync::mpsc;

/// A shell running on a pseudo-terminal.
#[derive(Debug)]
pub struct Pty {
    master: File,
    child: Child,
}

fn winsize(cols: u16, rows: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Pty {
    /// Starts `shell` in `dir` on a new terminal of `cols` × `rows`.
    pub fn spawn(
        shell: &str,
        dir: &Path,
        env: &[(String, String)],
        cols: u16,
        rows: u16,
    ) -> io::Result<Self> {
        let mut master_fd: libc::c_int = -1;
        let mut slave_fd: libc::c_int = -1;
        let size = winsize(cols, rows);
        // SAFETY: openpty writes two descriptors into the given ints; the
        // name and termios pointers may be null.
        let rc = unsafe {
            libc::openpty(
                &raw mut master_fd,
                &raw mut slave_fd,
                std::ptr::null_mut(),
                std::ptr::null(),
                &raw const size,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just opened and are owned here alone.
        let (master, slave) = unsafe {
            (
                OwnedFd::from_raw_fd(master_fd),
                OwnedFd::from_raw_fd(slave_fd),
            )
        };
        let mut cmd = Command::new(shell);
        cmd.current_dir(dir)
            .env_clear()
            .env(
                "PATH",
                std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into()),
            )
            .env("HOME", dir)
            .env("PWD", dir)
            .env("LANG", "C.UTF-8")
            .env("TERM", "xterm")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        let confine = crate::exec::isolation::for_dir(dir);
        if confine.is_some() {
            cmd.env("TMPDIR", dir);
        }
        // SAFETY: the hook only makes system calls (setsid, ioctl, and the
        // confinement's, prepared before the fork), as `pre_exec` requires.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setsid() < 0 {
                    return Err(io::Error::last_os_error());
                }
                // The terminal on stdin becomes the session's controlling one.
                if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(io::Error::last_os_error());
                }
                match &confine {
                    Some(c) => c.apply(),
                    None => Ok(()),
                }
            });
        }
        let child = cmd.spawn()?;
        Ok(Self {
            master: File::from(master),
            child,
        })
    }

    /// Output as it comes, chunk by chunk, until the shell and its children
    /// have closed the terminal.
    pub fn output(&self) -> io::Result<mpsc::Receiver<Vec<u8>>> {
        let mut reader = self.master.try_clone()?;
        let (tx, rx) = mpsc::channel(64);
        std::thread::Builder::new()
            .name("emulator-pty".into())
            .spawn(move || {
                let mut buf = vec![0u8; 8192];
                loop {
                    match reader.read(&mut buf) {
                        // EIO: every holder of the slave side has gone.
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if tx.blocking_send(buf[..n].to_vec()).is_err() {
                                return;
                            }
                        }
                    }
                }
            })?;
        Ok(rx)
    }

    /// Types `bytes` into the terminal.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.master.write_all(bytes)
    }

    /// Changes the terminal size; the kernel tells the shell (SIGWINCH).
    pub fn resize(&self, cols: u16, rows: u16) -> io::Result<()> {
        let size = winsize(cols, rows);
        // SAFETY: TIOCSWINSZ reads one winsize from the pointer.
        let rc = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &raw const size) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        // Hang up the whole session the shell leads, then reap it.
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: plain kill(2) on the session's process group.
            unsafe {
                libc::kill(-pid, libc::SIGHUP);
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
