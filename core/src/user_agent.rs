//! The `User-Agent` every request carries: the package and its version, the
//! language and runtime the client is used from, and the operating system,
//! e.g. `miosa-native/0.2.0 python/3.11.7 linux x86_64`.

use std::sync::RwLock;

use crate::error::{Error, ErrorKind, Result};

/// The longest runtime description kept; a header has no room for essays.
const MAX_RUNTIME_LEN: usize = 100;

static RUNTIME: RwLock<Option<String>> = RwLock::new(None);

/// Names the language and runtime for the `User-Agent` of clients built from
/// now on, e.g. `python/3.11.7` or `node/20.20.2`. Each binding calls it once
/// when it loads; Rust programs get `rust` without calling it.
///
/// The text must be printable ASCII of at most 100 characters, words
/// separated by single spaces.
pub fn set_runtime(runtime: &str) -> Result<()> {
    let valid = !runtime.is_empty()
        && runtime.len() <= MAX_RUNTIME_LEN
        && runtime.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        && !runtime.starts_with(' ')
        && !runtime.ends_with(' ')
        && !runtime.contains("  ");
    if !valid {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "runtime: must be 1 to {MAX_RUNTIME_LEN} printable ASCII characters such as `python/3.11.7`, got {runtime:?}"
            ),
        ));
    }
    *RUNTIME.write().unwrap_or_else(|e| e.into_inner()) = Some(runtime.to_owned());
    Ok(())
}

/// The `User-Agent` header value a client built now sends.
pub fn user_agent() -> String {
    let runtime = RUNTIME
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| "rust".to_owned());
    format!(
        "miosa-native/{} {runtime} {} {}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_text_that_cannot_be_a_header() {
        for bad in [
            "",
            " python/3",
            "python\n3",
            "python  3",
            "pyth\u{e9}n",
            &"x".repeat(101),
        ] {
            let err = set_runtime(bad).expect_err("a malformed runtime is refused");
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad:?}");
            assert!(err.to_string().contains("runtime"), "{err}");
        }
    }

    #[test]
    fn names_package_runtime_and_platform() {
        let ua = user_agent();
        assert!(
            ua.starts_with(concat!("miosa-native/", env!("CARGO_PKG_VERSION"), " ")),
            "{ua}"
        );
        assert!(
            ua.ends_with(&format!(
                " {} {}",
                std::env::consts::OS,
                std::env::consts::ARCH
            )),
            "{ua}"
        );
    }
}
