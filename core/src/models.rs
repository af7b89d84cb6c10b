//! Typed models of the main entities. Every field is optional and every model
//! keeps the fields it does not know in `extra`, so a newer server never breaks
//! an older client; states and statuses are open strings for the same reason.
//! `Debug` hides token and secret values.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::redact::{is_secret_name as is_sensitive, is_url_name as is_url, url as without_query};

struct Redacted;
impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

struct RedactedMap<'a>(&'a Map<String, Value>);
impl fmt::Debug for RedactedMap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (k, v) in self.0 {
            if is_sensitive(k) {
                map.entry(k, &Redacted);
            } else if let (true, Value::String(url)) = (is_url(k), v) {
                map.entry(k, &without_query(url));
            } else {
                map.entry(k, v);
            }
        }
        map.finish()
    }
}

macro_rules! model {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Fields this version of the client does not model.
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut s = f.debug_struct(stringify!($name));
                $(
                    if let Some(value) = &self.$field {
                        if is_sensitive(stringify!($field)) {
                            s.field(stringify!($field), &Redacted);
                        } else if let (true, Ok(Value::String(url))) =
                            (is_url(stringify!($field)), serde_json::to_value(value))
                        {
                            s.field(stringify!($field), &without_query(&url));
                        } else {
                            s.field(stringify!($field), value);
                        }
                    }
                )*
                if !self.extra.is_empty() {
                    s.field("extra", &RedactedMap(&self.extra));
                }
                s.finish()
            }
        }
    };
}

model! {
    /// A code-execution sandbox.
    Sandbox {
        /// Sandbox id (`sbx_…`).
        id: String,
        /// Display name.
        name: String,
        /// URL-safe name.
        slug: String,
        /// creating, running, stopped, paused, error, destroyed, … (open set).
        state: String,
        /// Whether commands can run.
        ready: bool,
        /// Template the sandbox was built from.
        template_id: String,
        /// xs, small, medium, large, xl.
        size: String,
        /// vCPUs.
        cpu_count: u32,
        /// Memory in MiB.
        memory_mb: u64,
        /// Disk in MiB.
        disk_size_mb: u64,
        /// Environment variables.
        env: Map<String, Value>,
        /// Caller metadata.
        metadata: Map<String, Value>,
        /// Tags.
        tags: Vec<String>,
        /// Lifetime limit in seconds.
        timeout_sec: u64,
        /// Idle limit in seconds.
        idle_timeout_sec: u64,
        /// Kept across restarts.
        persistent: bool,
        /// Never stopped for idleness.
        always_on: bool,
        /// Owning tenant.
        tenant_id: String,
        /// Workspace id.
        workspace_id: String,
        /// Project id.
        project_id: String,
        /// Integrator's workspace id.
        external_workspace_id: String,
        /// Integrator's user id.
        external_user_id: String,
        /// Integrator's project id.
        external_project_id: String,
        /// Public preview URL.
        preview_url: String,
        /// Preview domain.
        preview_domain: String,
        /// Creation time (ISO 8601).
        created_at: String,
    }
}

model! {
    /// A desktop computer (a sandbox is also addressable as one).
    Computer {
        /// Computer id.
        id: String,
        /// Display name.
        name: String,
        /// URL-safe name.
        slug: String,
        /// creating, starting, running, stopping, stopped, error, … (open set).
        status: String,
        /// Template type.
        template_type: String,
        /// Size name.
        size: String,
        /// public, tenant or key.
        visibility: String,
        /// IP address.
        ip_address: String,
        /// Preview domain.
        preview_domain: String,
        /// Owning tenant.
        tenant_id: String,
        /// Workspace id.
        workspace_id: String,
        /// Caller metadata.
        metadata: Map<String, Value>,
        /// Creation time.
        created_at: String,
        /// Last update time.
        updated_at: String,
    }
}

model! {
    /// The result of running a command. Computer exec fills `output`; sandbox exec fills `stdout`.
    ExecResult {
        /// Standard output (computer exec).
        output: String,
        /// Standard output (sandbox exec).
        stdout: String,
        /// Standard error.
        stderr: String,
        /// Exit code.
        exit_code: i64,
        /// Whether the command exited with 0.
        success: bool,
        /// Wall time in milliseconds.
        duration_ms: u64,
    }
}

impl ExecResult {
    /// Standard output, whichever field the route filled.
    pub fn text(&self) -> &str {
        self.output
            .as_deref()
            .or(self.stdout.as_deref())
            .unwrap_or_default()
    }
}

model! {
    /// A background process in a sandbox.
    Process {
        /// Process id (a string on some routes, a number on others).
        pid: Value,
        /// Name.
        name: String,
        /// Command line.
        command: String,
        /// running, exited, … (open set).
        status: String,
        /// Exit code once exited.
        exit_code: i64,
        /// Start time.
        started_at: String,
    }
}

model! {
    /// A webhook subscription. `secret` is present only in the create response.
    Webhook {
        /// Webhook id.
        id: String,
        /// Delivery URL.
        url: String,
        /// Subscribed event names.
        events: Vec<String>,
        /// Whether deliveries are made.
        active: bool,
        /// Signing secret, shown once.
        secret: String,
        /// Owning tenant.
        tenant_id: String,
        /// Creation time.
        created_at: String,
        /// Last update time.
        updated_at: String,
    }
}

model! {
    /// A read-only share link of a sandbox.
    Share {
        /// Share id.
        share_id: String,
        /// The link (carries its token).
        share_url: String,
        /// Scope (`read`).
        scope: String,
        /// Expiry, if any.
        expires_at: String,
    }
}

model! {
    /// A short-lived token for a sandbox preview.
    PreviewToken {
        /// The token.
        token: String,
        /// Preview URL carrying the token.
        url: String,
        /// read or interact.
        scope: String,
        /// Expiry.
        expires_at: String,
    }
}

model! {
    /// A snapshot of a sandbox or computer.
    Snapshot {
        /// Snapshot id.
        id: String,
        /// Name.
        name: String,
        /// creating, uploading, ready, restoring, failed, deleted, … (open set).
        status: String,
        /// Source sandbox or computer.
        computer_id: String,
        /// Source sandbox.
        sandbox_id: String,
        /// Size in bytes.
        size_bytes: u64,
        /// Creation time.
        created_at: String,
    }
}

model! {
    /// A sandbox template.
    Template {
        /// Template id.
        id: String,
        /// Name.
        name: String,
        /// Description.
        description: String,
        /// Build or availability status.
        status: String,
        /// Other names the template answers to.
        aliases: Vec<String>,
        /// Creation time.
        created_at: String,
    }
}

model! {
    /// Usage over a period, grouped as requested.
    UsageReport {
        /// Period start.
        period_start: String,
        /// Period end.
        period_end: String,
        /// Grouped rows.
        results: Vec<Value>,
    }
}

model! {
    /// Limits for one of an integrator's end users.
    Quota {
        /// The integrator's user id.
        external_user_id: String,
        /// Maximum sandboxes.
        max_sandboxes: u64,
        /// Maximum concurrently running sandboxes.
        max_concurrent: u64,
        /// Maximum spend in cents.
        max_credit_cents: u64,
        /// Maximum storage in GB.
        max_storage_gb: u64,
        /// Sandboxes currently counted.
        current_sandboxes: u64,
    }
}

model! {
    /// One entry of the audit log.
    AuditEntry {
        /// Entry id.
        id: String,
        /// Tenant.
        tenant_id: String,
        /// Who acted.
        actor_id: String,
        /// api_key, user, …
        actor_type: String,
        /// What was done (`sandbox.create`, …).
        action: String,
        /// Resource type.
        resource: String,
        /// Resource id.
        resource_id: String,
        /// Details.
        metadata: Map<String, Value>,
        /// Caller address.
        ip_address: String,
        /// Time.
        created_at: String,
    }
}

model! {
    /// A workspace.
    Workspace {
        /// Workspace id.
        id: String,
        /// Name.
        name: String,
        /// URL-safe name.
        slug: String,
        /// Description.
        description: String,
        /// Owning tenant.
        tenant_id: String,
        /// Creation time.
        created_at: String,
    }
}

model! {
    /// A member of a workspace.
    Member {
        /// User id.
        user_id: String,
        /// Email.
        email: String,
        /// owner, admin, member, viewer (open set).
        role: String,
        /// Workspace id.
        workspace_id: String,
        /// Join time.
        joined_at: String,
    }
}

model! {
    /// An invitation to a workspace or organisation.
    Invite {
        /// Invite id.
        id: String,
        /// Invitee email.
        email: String,
        /// Role granted on acceptance.
        role: String,
        /// Workspace id (workspace invites).
        workspace_id: String,
        /// Tenant id.
        tenant_id: String,
        /// Acceptance token.
        token: String,
        /// pending, accepted, revoked, expired (open set).
        status: String,
        /// Expiry.
        expires_at: String,
        /// Acceptance time.
        accepted_at: String,
    }
}

model! {
    /// A deployment.
    Deployment {
        /// Deployment id.
        id: String,
        /// Name.
        name: String,
        /// State (open set).
        state: String,
        /// Status (open set).
        status: String,
        /// Project id.
        project_id: String,
        /// Public URL.
        url: String,
        /// Creation time.
        created_at: String,
    }
}

model! {
    /// A managed database.
    Database {
        /// Database id.
        id: String,
        /// Name.
        name: String,
        /// Engine (postgres, …).
        engine: String,
        /// Status (open set).
        status: String,
        /// Creation time.
        created_at: String,
    }
}

model! {
    /// A storage volume.
    Volume {
        /// Volume id.
        id: String,
        /// Name.
        name: String,
        /// Size in GB.
        size_gb: u64,
        /// Status (open set).
        status: String,
        /// Region.
        region: String,
        /// Creation time.
        created_at: String,
    }
}

model! {
    /// An object-storage bucket.
    Bucket {
        /// Bucket id.
        id: String,
        /// Name.
        name: String,
        /// Region.
        region: String,
        /// Whether objects are public.
        public: bool,
        /// Creation time.
        created_at: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_and_states_survive() {
        let sandbox: Sandbox = serde_json::from_value(json!({
            "id": "sbx_1", "state": "hibernating", "brand_new_field": {"x": 1}
        }))
        .expect("decodes");
        assert_eq!(sandbox.state.as_deref(), Some("hibernating"));
        assert_eq!(sandbox.extra["brand_new_field"], json!({"x": 1}));
        let back = serde_json::to_value(&sandbox).expect("encodes");
        assert_eq!(back["brand_new_field"], json!({"x": 1}));
    }

    #[test]
    fn debug_hides_tokens() {
        let token: PreviewToken = serde_json::from_value(
            json!({"token": "mp_secret_value", "scope": "read", "api_key": "msk_zzz"}),
        )
        .expect("decodes");
        let shown = format!("{token:?}");
        assert!(
            !shown.contains("mp_secret_value") && !shown.contains("msk_zzz"),
            "{shown}"
        );
        assert!(shown.contains("read"));
        let share: Share =
            serde_json::from_value(json!({"share_url": "https://x.miosa.app/?ms=tok_secret"}))
                .expect("decodes");
        let shown = format!("{share:?}");
        assert!(
            !shown.contains("tok_secret") && shown.contains("https://x.miosa.app/"),
            "{shown}"
        );
    }
}
