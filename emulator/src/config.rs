//! Emulator settings.

use std::path::PathBuf;
use std::time::Duration;

/// Default API key printed by the binary and used by `Config::default()`.
pub const DEFAULT_API_KEY: &str = "msk_test_emulator_0000000000000000";
/// Default admin key (admin routes and the audit log need it).
pub const DEFAULT_ADMIN_KEY: &str = "msk_a_emulator_admin_000000000000";

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
        }
    }
}
