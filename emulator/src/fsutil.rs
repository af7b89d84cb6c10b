//! Sandbox paths: every API path is mapped into the machine's directory and
//! never allowed out of it (`..`, absolute paths elsewhere, symlinks that
//! resolve outside are all refused).
//!
//! `resolve` only maps and pre-checks a path; the confinement itself happens
//! when a file is opened: every open goes through openat2(2) from a handle on
//! the machine's directory with `RESOLVE_BENEATH`, so the kernel refuses, in
//! the same step as the lookup, any symlink (or `..`) that would lead out,
//! even one swapped in after the pre-check. Operations on a name (create,
//! delete, rename) act on its parent directory opened that way. A regular
//! file with more than one hard link is served only when all its links are
//! inside the directory.

use std::collections::BTreeMap;
use std::ffi::{CString, c_int};
use std::fs::File;
use std::io::{ErrorKind, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::errors::{ApiError, ApiResult};
use crate::util;

/// Prefixes that name the machine's directory.
const ROOTS: [&str; 2] = ["/workspace", "/home/user"];

fn outside(raw: &str) -> ApiError {
    ApiError::forbidden(
        "PATH_OUTSIDE_WORKSPACE",
        format!("path {raw:?} is outside the sandbox workspace"),
    )
}

/// Maps an API path (`/workspace/a`, `/home/user/a` or relative `a`) into
/// `root`, refusing anything that would leave it.
pub fn resolve(root: &Path, raw: &str) -> ApiResult<PathBuf> {
    if raw.contains('\0') {
        return Err(ApiError::validation("path", "must not contain NUL bytes"));
    }
    let rel = ROOTS
        .iter()
        .find_map(|r| {
            if raw == *r {
                Some("")
            } else {
                raw.strip_prefix(r).and_then(|rest| rest.strip_prefix('/'))
            }
        })
        .map_or_else(
            || {
                if raw.starts_with('/') {
                    Err(outside(raw))
                } else {
                    Ok(raw)
                }
            },
            Ok,
        )?;
    let mut out = root.to_path_buf();
    for comp in rel.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                return Err(ApiError::forbidden(
                    "PATH_TRAVERSAL",
                    format!("path {raw:?} contains a '..' component"),
                ));
            }
            c => out.push(c),
        }
    }
    check_symlinks(root, &out, raw)?;
    Ok(out)
}

/// Walks `path` below `root`; every existing symlink on the way must resolve
/// inside `root` (dangling ones are refused: writing through them could
/// create a file anywhere).
fn check_symlinks(root: &Path, path: &Path, raw: &str) -> ApiResult<()> {
    let Ok(rest) = path.strip_prefix(root) else {
        return Err(outside(raw));
    };
    let mut cur = root.to_path_buf();
    for comp in rest.components() {
        let Component::Normal(c) = comp else {
            return Err(outside(raw));
        };
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Err(_) => return Ok(()),
            Ok(meta) if meta.file_type().is_symlink() => match std::fs::canonicalize(&cur) {
                Ok(target) if target.starts_with(root) => {}
                _ => return Err(outside(raw)),
            },
            Ok(_) => {}
        }
    }
    Ok(())
}

/// `struct open_how` of openat2(2).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// No step of a lookup may leave the directory it starts from, and no
/// `/proc` magic link may be followed.
const BENEATH: u64 = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
/// Walks that must not follow any symlink at all (link counting).
const BENEATH_NO_SYMLINKS: u64 = BENEATH | libc::RESOLVE_NO_SYMLINKS;
/// Most entries the hard-link check looks at before refusing.
const LINK_SCAN_LIMIT: usize = 100_000;

fn c_path(path: &Path) -> std::io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| ErrorKind::InvalidInput.into())
}

fn cvt(ret: c_int) -> std::io::Result<()> {
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A machine directory held open; every path below it is opened relative to
/// this handle with openat2, never by its host path.
struct Beneath<'a> {
    root: &'a Path,
    fd: OwnedFd,
}

impl<'a> Beneath<'a> {
    fn open(root: &'a Path) -> ApiResult<Self> {
        let c = c_path(root)?;
        // SAFETY: `c` is a valid NUL-terminated path.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self { root, fd })
    }

    /// `path` relative to the root (`.` for the root itself).
    fn rel<'p>(&self, path: &'p Path) -> ApiResult<&'p Path> {
        let rel = path
            .strip_prefix(self.root)
            .map_err(|_| outside(&path.to_string_lossy()))?;
        Ok(if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        })
    }

    /// The kernel's refusal to leave the root, as the API's 403.
    fn refusal(&self, path: &Path, err: std::io::Error) -> ApiError {
        match err.raw_os_error() {
            Some(libc::EXDEV | libc::ELOOP) => outside(&display(self.root, path)),
            Some(libc::EISDIR) => ApiError::validation("path", "is a directory"),
            Some(libc::ENOTDIR) => {
                ApiError::validation("path", "has a file where a directory is expected")
            }
            _ => err.into(),
        }
    }

    fn open_with(&self, path: &Path, flags: c_int, mode: u32, resolve: u64) -> ApiResult<OwnedFd> {
        let c = c_path(self.rel(path)?)?;
        let how = OpenHow {
            flags: u64::from((flags | libc::O_CLOEXEC).cast_unsigned()),
            mode: u64::from(mode),
            resolve,
        };
        // A concurrent rename anywhere makes RESOLVE_BENEATH answer EAGAIN:
        // the kernel asks for a retry rather than risk a wrong answer.
        for _ in 0..16 {
            // SAFETY: valid descriptor, NUL-terminated path and a correctly
            // sized `open_how`.
            let fd = unsafe {
                libc::syscall(
                    libc::SYS_openat2,
                    self.fd.as_raw_fd(),
                    c.as_ptr(),
                    &raw const how,
                    std::mem::size_of::<OpenHow>(),
                )
            };
            if let Ok(fd) = c_int::try_from(fd)
                && fd >= 0
            {
                // SAFETY: a fresh descriptor nobody else owns.
                return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EAGAIN) {
                return Err(self.refusal(path, err));
            }
        }
        Err(ApiError::conflict(
            "PATH_BUSY",
            "the path kept changing while it was opened; try again",
        ))
    }

    fn open_at(&self, path: &Path, flags: c_int, mode: u32) -> ApiResult<OwnedFd> {
        self.open_with(path, flags, mode, BENEATH)
    }

    /// The parent directory of `path` (opened beneath the root) and the
    /// final name, for calls that act on a name without following it.
    fn parent(&self, path: &Path) -> ApiResult<(OwnedFd, CString)> {
        let rel = self.rel(path)?;
        let (Some(parent), Some(name)) = (path.parent(), rel.file_name()) else {
            return Err(outside(&display(self.root, path)));
        };
        let dir = self.open_at(parent, libc::O_PATH | libc::O_DIRECTORY, 0)?;
        Ok((dir, c_path(Path::new(name))?))
    }

    fn mkdir(&self, path: &Path) -> ApiResult<()> {
        let (dir, name) = self.parent(path)?;
        // SAFETY: valid descriptor and NUL-terminated name.
        cvt(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o755) })
            .map_err(|e| self.refusal(path, e))
    }

    fn mkdir_all(&self, path: &Path) -> ApiResult<()> {
        let rel = self.rel(path)?.to_path_buf();
        let mut cur = self.root.to_path_buf();
        for comp in rel.components() {
            let Component::Normal(c) = comp else {
                continue;
            };
            cur.push(c);
            match self.mkdir(&cur) {
                Ok(()) => {}
                Err(e) if e.status() == axum::http::StatusCode::CONFLICT => {
                    // It exists: it must be a directory (or lead to one inside).
                    self.open_at(&cur, libc::O_PATH | libc::O_DIRECTORY, 0)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Refuses a regular file some of whose hard links lie outside the root.
    fn check_links(&self, path: &Path, meta: &std::fs::Metadata) -> ApiResult<()> {
        if !meta.is_file() || meta.nlink() <= 1 {
            return Ok(());
        }
        let mut found = 0u64;
        let mut seen = 0usize;
        let mut dirs = vec![self.root.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            let fd = self.open_with(
                &dir,
                libc::O_RDONLY | libc::O_DIRECTORY,
                0,
                BENEATH_NO_SYMLINKS,
            )?;
            for (child, m) in children_of(&fd, &dir)? {
                seen += 1;
                if seen > LINK_SCAN_LIMIT {
                    return Err(hard_link_outside(self.root, path));
                }
                if m.is_dir() {
                    dirs.push(child);
                } else if m.dev() == meta.dev() && m.ino() == meta.ino() {
                    found += 1;
                }
            }
        }
        if found < meta.nlink() {
            return Err(hard_link_outside(self.root, path));
        }
        Ok(())
    }
}

fn hard_link_outside(root: &Path, path: &Path) -> ApiError {
    ApiError::forbidden(
        "PATH_OUTSIDE_WORKSPACE",
        format!(
            "path {:?} is a hard link to a file outside the sandbox workspace",
            display(root, path)
        ),
    )
}

/// `/proc/self/fd/N`: the directory `fd` is open on, whatever happens to its
/// path meanwhile.
fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// The entries of the directory open as `fd` (listed as `dir/name`), with
/// their own metadata (symlinks not followed).
fn children_of(fd: &OwnedFd, dir: &Path) -> ApiResult<Vec<(PathBuf, std::fs::Metadata)>> {
    let base = fd_path(fd);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&base)? {
        let e = e?;
        let meta = std::fs::symlink_metadata(base.join(e.file_name()))?;
        out.push((dir.join(e.file_name()), meta));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Opens a regular file below `root` for reading (answers stream from it).
pub fn open_file(root: &Path, path: &Path) -> ApiResult<File> {
    let b = Beneath::open(root)?;
    // O_NONBLOCK: a FIFO made by a command must not hang the request.
    let file = File::from(b.open_at(path, libc::O_RDONLY | libc::O_NONBLOCK, 0)?);
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(ApiError::validation("path", "is a directory"));
    }
    if !meta.is_file() {
        return Err(ApiError::validation("path", "is not a regular file"));
    }
    b.check_links(path, &meta)?;
    Ok(file)
}

/// Writes (creates or replaces the content of) a regular file below `root`,
/// creating its parent directories.
pub fn write_file(root: &Path, path: &Path, bytes: &[u8]) -> ApiResult<()> {
    let b = Beneath::open(root)?;
    if let Some(parent) = path.parent() {
        b.mkdir_all(parent)?;
    }
    let fd = b.open_at(
        path,
        libc::O_WRONLY | libc::O_CREAT | libc::O_NONBLOCK,
        0o644,
    )?;
    let mut file = File::from(fd);
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ApiError::validation("path", "is not a regular file"));
    }
    // Checked before truncating: a link to an outside file stays untouched.
    b.check_links(path, &meta)?;
    file.set_len(0)?;
    file.write_all(bytes)?;
    Ok(())
}

/// Creates a directory below `root` (and its parents when `recursive`).
pub fn create_dir(root: &Path, path: &Path, recursive: bool) -> ApiResult<()> {
    let b = Beneath::open(root)?;
    if recursive {
        b.mkdir_all(path)
    } else {
        b.mkdir(path)
    }
}

/// Metadata of a path below `root` (a symlink inside is followed, as `stat`).
pub fn metadata(root: &Path, path: &Path) -> ApiResult<std::fs::Metadata> {
    let b = Beneath::open(root)?;
    Ok(File::from(b.open_at(path, libc::O_PATH, 0)?).metadata()?)
}

/// Deletes a file, symlink or (empty, or any when `recursive`) directory
/// below `root`. A symlink is removed itself, never what it points at.
pub fn remove(root: &Path, path: &Path, recursive: bool) -> ApiResult<()> {
    let b = Beneath::open(root)?;
    let (dir, name) = b.parent(path)?;
    let entry = fd_path(&dir).join(std::ffi::OsStr::from_bytes(name.as_bytes()));
    let meta = std::fs::symlink_metadata(&entry)?;
    if !meta.is_dir() {
        // SAFETY: valid descriptor and NUL-terminated name.
        return cvt(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) })
            .map_err(|e| b.refusal(path, e));
    }
    if recursive {
        // Through the parent's descriptor; std removes the tree without
        // following symlinks inside it.
        return Ok(std::fs::remove_dir_all(&entry)?);
    }
    // SAFETY: valid descriptor and NUL-terminated name.
    cvt(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), libc::AT_REMOVEDIR) }).map_err(
        |e| {
            if e.raw_os_error() == Some(libc::ENOTEMPTY) {
                ApiError::conflict(
                    "DIRECTORY_NOT_EMPTY",
                    "directory is not empty; pass recursive: true",
                )
            } else {
                b.refusal(path, e)
            }
        },
    )
}

/// Moves `from` to `to`, both below `root`, creating `to`'s parents.
pub fn rename(root: &Path, from: &Path, to: &Path) -> ApiResult<()> {
    let b = Beneath::open(root)?;
    let (src_dir, src_name) = b.parent(from)?;
    std::fs::symlink_metadata(
        fd_path(&src_dir).join(std::ffi::OsStr::from_bytes(src_name.as_bytes())),
    )?;
    if let Some(parent) = to.parent() {
        b.mkdir_all(parent)?;
    }
    let (dst_dir, dst_name) = b.parent(to)?;
    // SAFETY: valid descriptors and NUL-terminated names.
    cvt(unsafe {
        libc::renameat(
            src_dir.as_raw_fd(),
            src_name.as_ptr(),
            dst_dir.as_raw_fd(),
            dst_name.as_ptr(),
        )
    })
    .map_err(|e| b.refusal(to, e))
}

/// The API path of a host path inside `root`, e.g. `/workspace/a/b`.
pub fn display(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let rel = rel.to_string_lossy();
    if rel.is_empty() {
        "/workspace".to_owned()
    } else {
        format!("/workspace/{rel}")
    }
}

fn modified(meta: &std::fs::Metadata) -> Option<String> {
    meta.modified().ok().map(util::rfc3339)
}

fn entry(root: &Path, path: &Path, meta: &std::fs::Metadata) -> Map<String, Value> {
    let mut m = Map::new();
    let name = if path == root {
        "workspace".to_owned()
    } else {
        path.file_name().map_or_else(
            || "workspace".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    m.insert("path".into(), json!(display(root, path)));
    m.insert("name".into(), json!(name));
    let is_dir = meta.is_dir();
    m.insert("type".into(), json!(if is_dir { "dir" } else { "file" }));
    m.insert("is_dir".into(), json!(is_dir));
    if !is_dir {
        m.insert("size".into(), json!(meta.len()));
    }
    m.insert("modified_at".into(), json!(modified(meta)));
    m
}

/// `{path, name, type, size?, modified_at?, children?}` down to `depth`
/// levels (symlinks are listed, never followed).
pub fn tree(root: &Path, path: &Path, depth: u32) -> ApiResult<Value> {
    let meta = metadata(root, path)?;
    let mut node = entry(root, path, &meta);
    node.remove("is_dir");
    if meta.is_dir() {
        let mut children = Vec::new();
        if depth > 0 {
            for (p, m) in sorted_children(root, path)? {
                if m.is_dir() {
                    children.push(tree(root, &p, depth - 1)?);
                } else {
                    let mut e = entry(root, &p, &m);
                    e.remove("is_dir");
                    children.push(Value::Object(e));
                }
            }
        }
        node.insert("children".into(), Value::Array(children));
    }
    Ok(Value::Object(node))
}

fn sorted_children(root: &Path, dir: &Path) -> ApiResult<Vec<(PathBuf, std::fs::Metadata)>> {
    let b = Beneath::open(root)?;
    let fd = b.open_at(dir, libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    children_of(&fd, dir)
}

/// Flat listing of a directory, recursing `depth` levels (1 = direct children).
pub fn list(root: &Path, dir: &Path, depth: u32) -> ApiResult<Vec<Value>> {
    let meta = metadata(root, dir)?;
    if !meta.is_dir() {
        return Ok(vec![Value::Object(entry(root, dir, &meta))]);
    }
    let mut out = Vec::new();
    for (p, m) in sorted_children(root, dir)? {
        out.push(Value::Object(entry(root, &p, &m)));
        if m.is_dir() && depth > 1 {
            out.extend(list(root, &p, depth - 1)?);
        }
    }
    Ok(out)
}

/// One scanned entry: (is_dir, size, mtime in ns).
pub type Scan = BTreeMap<PathBuf, (bool, u64, u128)>;

/// Everything below `dir` (up to `limit` entries) for change detection.
pub fn scan(dir: &Path, recursive: bool, limit: usize) -> Scan {
    let mut out = Scan::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            let is_dir = meta.is_dir();
            out.insert(e.path(), (is_dir, meta.len(), mtime));
            if is_dir && recursive {
                stack.push(e.path());
            }
            if out.len() >= limit {
                return out;
            }
        }
    }
    out
}

/// Copies a directory tree (snapshots, forks); symlinks are copied as
/// links. The source is read the confined way, never following a symlink, so
/// a link swapped in mid-copy cannot pull an outside file into the copy;
/// FIFOs, devices and files hard-linked from outside are left out.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    Beneath::open(from)
        .and_then(|b| copy_tree(&b, from, to))
        .map_err(|e| std::io::Error::other(e.message().to_owned()))
}

fn copy_tree(b: &Beneath<'_>, dir: &Path, to: &Path) -> ApiResult<()> {
    std::fs::create_dir_all(to)?;
    let fd = b.open_with(
        dir,
        libc::O_RDONLY | libc::O_DIRECTORY,
        0,
        BENEATH_NO_SYMLINKS,
    )?;
    for (src, meta) in children_of(&fd, dir)? {
        let Some(name) = src.file_name() else {
            continue;
        };
        let dest = to.join(name);
        if meta.is_dir() {
            copy_tree(b, &src, &dest)?;
        } else if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(fd_path(&fd).join(name))?, &dest)?;
        } else if meta.is_file() {
            let flags = libc::O_RDONLY | libc::O_NONBLOCK;
            let Ok(opened) = b.open_with(&src, flags, 0, BENEATH_NO_SYMLINKS) else {
                continue;
            };
            let mut file = File::from(opened);
            let meta = file.metadata()?;
            if !meta.is_file() || b.check_links(&src, &meta).is_err() {
                continue;
            }
            std::io::copy(&mut file, &mut File::create(&dest)?)?;
        }
    }
    Ok(())
}

/// Empties a directory, keeping the directory itself.
pub fn clear_dir(dir: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            std::fs::remove_dir_all(e.path())?;
        } else {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// Runs blocking file work off the async threads.
pub async fn blocking<T, F>(f: F) -> ApiResult<T>
where
    F: FnOnce() -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("miosa-fsutil-{}", util::random_hex(6)));
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        std::fs::canonicalize(dir).expect("temp dir exists")
    }

    #[test]
    fn maps_and_confines_paths() {
        let r = root();
        assert_eq!(resolve(&r, "/workspace/a/b").ok(), Some(r.join("a/b")));
        assert_eq!(resolve(&r, "a/./b").ok(), Some(r.join("a/b")));
        assert_eq!(resolve(&r, "/workspace").ok(), Some(r.clone()));
        assert!(resolve(&r, "../x").is_err());
        assert!(resolve(&r, "/workspace/../etc/passwd").is_err());
        assert!(resolve(&r, "/etc/passwd").is_err());
        assert!(resolve(&r, "/workspacex/a").is_err());
        std::os::unix::fs::symlink("/etc", r.join("evil")).expect("symlink");
        assert!(resolve(&r, "evil/passwd").is_err());
        std::os::unix::fs::symlink("/nonexistent/x", r.join("dangling")).expect("symlink");
        assert!(resolve(&r, "dangling").is_err());
        std::fs::create_dir(r.join("d")).expect("mkdir");
        std::os::unix::fs::symlink(r.join("d"), r.join("inner")).expect("symlink");
        assert!(resolve(&r, "inner/f").is_ok());
        let _ = std::fs::remove_dir_all(&r);
    }
}
