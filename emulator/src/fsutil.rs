//! Sandbox paths: every API path is mapped into the machine's directory and
//! never allowed out of it (`..`, absolute paths elsewhere, symlinks that
//! resolve outside are all refused).

use std::collections::BTreeMap;
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
    let meta = std::fs::metadata(path)?;
    let mut node = entry(root, path, &meta);
    node.remove("is_dir");
    if meta.is_dir() {
        let mut children = Vec::new();
        if depth > 0 {
            for (p, m) in sorted_children(path)? {
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

fn sorted_children(dir: &Path) -> ApiResult<Vec<(PathBuf, std::fs::Metadata)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let meta = std::fs::symlink_metadata(e.path())?;
        out.push((e.path(), meta));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Flat listing of a directory, recursing `depth` levels (1 = direct children).
pub fn list(root: &Path, dir: &Path, depth: u32) -> ApiResult<Vec<Value>> {
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Ok(vec![Value::Object(entry(root, dir, &meta))]);
    }
    let mut out = Vec::new();
    for (p, m) in sorted_children(dir)? {
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

/// Copies a directory tree; symlinks are copied as links.
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let ft = e.file_type()?;
        let dest = to.join(e.file_name());
        if ft.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path())?, &dest)?;
        } else {
            std::fs::copy(e.path(), &dest)?;
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
