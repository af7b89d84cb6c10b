//! Emulator settings.

use std::path::PathBuf;
use std::time::Duration;

/// Default API key printed by the binary and used by `Config::default()`.
pub const DEFAULT_API_KEY: &str = "msk_test_emulator_0000000000000000";
/// Default admin key (admin routes and the audit log need it).
pub const DEFAULT_ADMIN_KEY: &str = "msk_a_emulator_admin_000000000000";
/// Environment variable giving the default of [`Config::strict`] (`1` or
/// `true` turns strict mode on), so a test suite can turn it on for every
/// emulator it starts.
pub const STRICT_ENV: &str = "MIOSA_EMULATOR_STRICT";
/// Machines ready in the warm pool unless told otherwise: enough that
/// `fail_fast` creates only fail when a test asks for it.
pub const DEFAULT_WARM_POOL: u64 = 10_000;

/// How an emulator instance is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Key accepted as `Authorization: Bearer <key>`.
    pub api_key: String,
    /// Key that also opens `/admin/*` and the audit log.
    pub admin_key: String,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Default limit for one exec call when the request names none.
    pub exec_timeout: Duration,
    /// Time a new sandbox or computer spends in `creating`/`starting`.
    pub boot_delay: Duration,
    /// Where sandbox directories live; `None` makes a fresh temporary
    /// directory that is removed on shutdown.
    pub sandbox_root: Option<PathBuf>,
    /// Interval of the `:` heartbeat comments on open SSE streams.
    pub heartbeat: Duration,
    /// Refuse what MIOSA might accept but no client should send: unknown
    /// body and query keys, non-canonical spellings, loosely typed values,
    /// missing required fields (422 naming the key).
    pub strict: bool,
    /// Machines a `fail_fast` create can take at once; when none is left it
    /// answers 503 `no_ready_machine`. Refilled by `POST /_emulator/reset`.
    pub warm_pool: u64,
    /// One line per request on stderr.
    pub verbose: bool,
}

/// Whether `MIOSA_EMULATOR_STRICT` asks for strict mode.
pub fn strict_from_env() -> bool {
    strict_value(std::env::var(STRICT_ENV).ok().as_deref())
}

fn strict_value(v: Option<&str>) -> bool {
    v.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

impl Default for Config {
    fn default() -> Self {
        Self {
            api_key: DEFAULT_API_KEY.to_owned(),
            admin_key: DEFAULT_ADMIN_KEY.to_owned(),
            port: 0,
            exec_timeout: Duration::from_secs(30),
            boot_delay: Duration::from_millis(200),
            sandbox_root: None,
            heartbeat: Duration::from_secs(1),
            strict: strict_from_env(),
            warm_pool: DEFAULT_WARM_POOL,
            verbose: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::strict_value;

    #[test]
    fn the_strict_variable_reads_as_a_flag() {
        for on in ["1", "true", "TRUE", " yes ", "on"] {
            assert!(strict_value(Some(on)), "{on}");
        }
        for off in ["0", "false", "", "no", "strict"] {
            assert!(!strict_value(Some(off)), "{off}");
        }
        assert!(!strict_value(None));
    }
}
