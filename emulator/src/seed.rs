//! Fixtures with fixed ids, seeded at startup and by `POST /_emulator/reset`,
//! so table-driven tests in every language can address them without setup.
//! Destructive operations have their own `*_del` fixtures.

use serde_json::{Map, Value, json};

use crate::exec;
use crate::fsutil;
use crate::routes;
use crate::state::{App, EnvVar, Kind, Machine, Object, Phase, Snapshot, Store, TENANT_ID, lock};
use crate::util::{self, obj};

/// Clears every piece of state and seeds the fixtures again.
pub async fn reset(app: &App) -> std::io::Result<()> {
    app.kill_all_processes();
    *app.store() = Store::default();
    lock(&app.faults).clear();
    lock(&app.idem).clear();
    {
        let mut log = lock(&app.requests);
        log.entries.clear();
    }
    let (sandboxes, snapshots) = (app.sandboxes_dir(), app.snapshots_dir());
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        for d in [&sandboxes, &snapshots] {
            if d.exists() {
                std::fs::remove_dir_all(d)?;
            }
            std::fs::create_dir_all(d)?;
        }
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)??;
    seed(app)
}

fn machine(
    app: &App,
    kind: Kind,
    id: &str,
    attrs: Value,
    files: &[(&str, &str)],
) -> std::io::Result<Machine> {
    let dir = app.sandboxes_dir().join(id);
    std::fs::create_dir_all(&dir)?;
    for (path, content) in files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, content)?;
    }
    let mut m = Machine::new(kind, id.to_owned(), dir, obj(attrs));
    let created = if kind == Kind::Sandbox {
        "sandbox.created"
    } else {
        "computer.created"
    };
    m.push_event(created, json!({}));
    m.set_running();
    Ok(m)
}

fn env(m: &mut Machine, pairs: &[(&str, &str)]) {
    let now = util::now();
    for (k, v) in pairs {
        m.env.insert(
            (*k).to_owned(),
            EnvVar {
                value: (*v).to_owned(),
                encrypted: false,
                created_at: now.clone(),
                updated_at: now.clone(),
            },
        );
    }
}

fn sandbox_attrs(name: &str, tags: &[&str]) -> Value {
    json!({
        "name": name, "slug": name, "template_id": "miosa-sandbox", "size": "small",
        "metadata": {"env": "test"}, "tags": tags, "timeout_sec": 3600, "idle_timeout_sec": 900,
        "persistent": false, "always_on": false, "workspace_id": "ws_fixture", "project_id": null,
        "external_workspace_id": "ews_fixture", "external_user_id": "usr_fixture",
        "external_project_id": "proj_fixture",
    })
}

fn computer_attrs(name: &str) -> Value {
    json!({
        "name": name, "slug": name, "template_type": "miosa-desktop", "size": "small",
        "visibility": "tenant", "metadata": {}, "workspace_id": "ws_fixture",
        "external_workspace_id": null, "external_user_id": null, "external_project_id": null,
        "region": "us-east-1",
    })
}

fn snapshot(app: &App, m: &Machine, id: &str, comment: &str) -> std::io::Result<Snapshot> {
    let dir = app.snapshots_dir().join(id);
    fsutil::copy_dir(&m.dir, &dir)?;
    let owner_key = if m.kind == Kind::Sandbox {
        "sandbox_id"
    } else {
        "computer_id"
    };
    let now = util::now();
    let mut rec = obj(json!({
        "id": id, owner_key: m.id, "tenant_id": TENANT_ID, "status": "ready", "comment": comment,
        "keep": false, "retention_seconds": null, "size_bytes": 0, "parent_snapshot_id": null,
        "error": null, "last_used_at": null, "expires_at": null, "created_at": now, "updated_at": now,
    }));
    rec.insert(
        "size_bytes".into(),
        json!(
            fsutil::scan(&dir, true, 1000)
                .values()
                .map(|(_, s, _)| *s)
                .sum::<u64>()
        ),
    );
    Ok(Snapshot {
        id: id.to_owned(),
        owner: m.id.clone(),
        dir,
        rec,
    })
}

fn record(store_field: &mut crate::state::Records, rec: Value) {
    let rec = obj(rec);
    let id = rec
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    store_field.insert(id, rec);
}

fn process(m: &mut Machine, pid: &str, name: &str) -> std::io::Result<()> {
    process_running(m, pid, name, "echo fixture process started; cat")
}

fn process_running(m: &mut Machine, pid: &str, name: &str, command: &str) -> std::io::Result<()> {
    let mut rec = Map::new();
    rec.insert("name".into(), json!(name));
    rec.insert("command".into(), json!(command));
    rec.insert("cwd".into(), json!("/workspace"));
    rec.insert("started_at".into(), json!(util::now()));
    let proc = exec::spawn(
        Some(pid.to_owned()),
        command,
        &m.dir,
        &m.env_pairs(),
        rec,
        None,
    )?;
    m.processes.push(proc);
    Ok(())
}

fn seed(app: &App) -> std::io::Result<()> {
    let now = util::now();
    let mut s = Store {
        credits: 10_000,
        tenant: obj(json!({
            "id": TENANT_ID, "name": "Fixture Tenant", "plan": "pro", "status": "active",
            "limits": {"max_sandboxes": 100, "max_computers": 20, "max_concurrent": 20},
            "metadata": {}, "created_at": now, "updated_at": now,
        })),
        branding: routes::default_branding(),
        warm_ready: app.config.warm_pool,
        ..Store::default()
    };
    s.branding
        .insert("product_name".into(), json!("Fixture Cloud"));
    s.preview_domain = obj(json!({
        "domain": "preview.fixture.test", "preview_domain": "preview.fixture.test",
        "verified_at": null, "cname_target": "proxy.miosa.app",
    }));
    for (id, amount, kind, desc) in [
        ("txn_fixture_1", 10_000, "credit", "initial grant"),
        ("txn_fixture_2", 500, "promo", "welcome promotion"),
        ("txn_fixture_3", -500, "debit", "fixture usage"),
    ] {
        s.transactions.push(json!({"id": id, "amount": amount, "type": kind, "description": desc, "created_at": now}));
    }

    // Sandboxes.
    let mut sbx = machine(
        app,
        Kind::Sandbox,
        "sbx_fixture",
        sandbox_attrs("fixture", &["fixture", "demo"]),
        &[
            ("hello.txt", "hello\n"),
            ("delete-me.txt", "delete me\n"),
            ("move-me.txt", "move me\n"),
            ("src/main.py", "print('hello from main')\n"),
        ],
    )?;
    env(&mut sbx, &[("GREETING", "hello"), ("FIXTURE_DEL", "1")]);
    process(&mut sbx, "proc_fixture", "fixture-process")?;
    process(&mut sbx, "proc_fixture_del", "fixture-process-del")?;
    for (id, expires) in [
        ("sh_fixture", Value::Null),
        ("sh_fixture_del", json!(util::in_secs(86_400))),
    ] {
        sbx.shares.insert(id, obj(json!({
            "share_id": id, "id": id, "share_url": format!("https://sbx_fixture.sandbox.miosa.app/?ms=tok_{id}"),
            "expires_at": expires, "scope": "read", "created_at": now,
        })));
    }
    for (id, port) in [("prv_fixture", 3000), ("prv_fixture_del", 3001)] {
        sbx.previews.insert(
            id,
            obj(json!({
                "id": id, "sandbox_id": "sbx_fixture", "port": port, "status": "active",
                "url": format!("https://{port}-sbx_fixture.sandbox.miosa.app"), "created_at": now,
            })),
        );
    }
    sbx.terminals.insert("term_fixture", obj(json!({
        "session_id": "term_fixture", "id": "term_fixture", "cols": 80, "rows": 24, "shell": "/bin/bash",
        "cwd": "/workspace", "status": "open", "created_at": now,
    })));
    s.snapshots
        .push(snapshot(app, &sbx, "snap_fixture", "fixture snapshot")?);
    s.snapshots.push(snapshot(
        app,
        &sbx,
        "snap_fixture_del",
        "fixture snapshot to delete",
    )?);
    let del = machine(
        app,
        Kind::Sandbox,
        "sbx_fixture_del",
        sandbox_attrs("fixture-del", &["fixture"]),
        &[("hello.txt", "hello\n")],
    )?;
    // A sandbox whose workspace changes four times a second, so a file watch
    // on it always has something to report (MIOSA's watch sends changes only).
    let mut live = machine(
        app,
        Kind::Sandbox,
        "sbx_fixture_live",
        sandbox_attrs("fixture-live", &["fixture"]),
        &[("clock.txt", "0\n")],
    )?;
    process_running(
        &mut live,
        "proc_fixture_clock",
        "fixture-clock",
        "while :; do date +%s%N > clock.txt; sleep 0.25; done",
    )?;
    s.machines.push(sbx);
    s.machines.push(del);
    s.machines.push(live);

    // Computers.
    let mut cmp = machine(
        app,
        Kind::Computer,
        "cmp_fixture",
        computer_attrs("fixture-computer"),
        &[("hello.txt", "hello\n")],
    )?;
    env(&mut cmp, &[("FIXTURE_VAR", "1"), ("FIXTURE_DEL", "1")]);
    for port in [8080, 8081] {
        cmp.ports.insert(port.to_string(), obj(json!({
            "port": port, "protocol": "http", "visibility": "private",
            "url": format!("https://{port}-cmp_fixture.sandbox.miosa.app"), "created_at": now, "updated_at": now,
        })));
    }
    cmp.terminals.insert(
        "term_cmp_fixture",
        obj(json!({
            "session_id": "term_cmp_fixture", "id": "term_cmp_fixture", "cols": 80, "rows": 24,
            "shell": "/bin/bash", "cwd": "/home/user", "status": "open", "created_at": now,
        })),
    );
    s.snapshots.push(snapshot(
        app,
        &cmp,
        "snap_cmp_fixture",
        "computer fixture snapshot",
    )?);
    s.snapshots.push(snapshot(
        app,
        &cmp,
        "snap_cmp_fixture_del",
        "computer snapshot to delete",
    )?);
    s.machines.push(cmp);
    for id in ["cmp_fixture_del", "cmp_fixture_del2"] {
        s.machines
            .push(machine(app, Kind::Computer, id, computer_attrs(id), &[])?);
    }
    let mut stopped = machine(
        app,
        Kind::Computer,
        "cmp_fixture_stopped",
        computer_attrs("fixture-stopped"),
        &[],
    )?;
    stopped.phase = Phase::Stopped;
    s.machines.push(stopped);

    // Platform resources.
    for (id, url) in [
        ("wh_fixture", "https://example.com/webhooks/miosa"),
        ("wh_fixture_del", "https://example.com/webhooks/old"),
    ] {
        record(
            &mut s.webhooks,
            json!({
                "id": id, "tenant_id": TENANT_ID, "url": url,
                "events": ["sandbox.created", "sandbox.ready", "sandbox.destroyed"],
                "active": true, "enabled": true, "metadata": {}, "created_at": now, "updated_at": now,
            }),
        );
        s.webhook_secrets
            .insert(id.to_owned(), format!("whsec_{id}"));
    }
    for (id, token) in [
        ("key_fixture", "msk_u_fixture_key_00000000000000000"),
        ("key_fixture_del", "msk_u_fixture_del_00000000000000000"),
    ] {
        record(
            &mut s.api_keys,
            json!({
                "id": id, "tenant_id": TENANT_ID, "name": id, "prefix": &token[..10], "scopes": ["sandboxes:write"],
                "expires_at": null, "metadata": {}, "last_used_at": null, "revoked_at": null, "created_at": now,
            }),
        );
        s.api_key_tokens.insert(token.to_owned(), id.to_owned());
    }
    for (id, name) in [
        ("tpl_fixture", "fixture-template"),
        ("tpl_fixture_del", "fixture-template-del"),
    ] {
        record(
            &mut s.templates,
            json!({
                "id": id, "tenant_id": TENANT_ID, "name": name, "description": "fixture template",
                "build_spec": {"base": "ubuntu:24.04", "steps": [{"run": "echo ready"}]}, "metadata": {},
                "status": "ready", "aliases": [format!("{name}:latest")], "created_at": now, "updated_at": now,
            }),
        );
    }
    for id in ["dep_fixture", "dep_fixture_del"] {
        record(
            &mut s.deployments,
            json!({
                "id": id, "tenant_id": TENANT_ID, "name": id, "slug": id.replace('_', "-"), "state": "live",
                "source_type": "sandbox", "repo_url": null, "branch": null, "build_command": null,
                "run_command": null, "auto_deploy": false, "active_version_id": format!("ver_{id}_2"),
                "public_url": format!("https://{}.miosa.app", id.replace('_', "-")), "metadata": {},
                "external_workspace_id": null, "external_user_id": null, "external_project_id": null,
                "project_id": null, "description": null, "created_at": now, "updated_at": now,
            }),
        );
        record(
            &mut s.domains,
            json!({
                "id": format!("dom_{id}"), "deployment_id": id, "domain": format!("{}.fixture.test", id.replace('_', "-")),
                "status": "pending", "redirect_policy": "none", "verified_at": null, "created_at": now,
                "dns_records": [{"type": "CNAME", "name": format!("{}.fixture.test", id.replace('_', "-")),
                    "value": format!("{}.miosa.app", id.replace('_', "-"))}],
            }),
        );
        for n in 1..=2 {
            record(
                &mut s.versions,
                json!({
                    "id": format!("ver_{id}_{n}"), "deployment_id": id, "number": n, "status": "ready",
                    "kind": "auto", "environment": "production", "source_sandbox_id": "sbx_fixture", "created_at": now,
                }),
            );
        }
    }
    for id in ["db_fixture", "db_fixture_del"] {
        record(
            &mut s.databases,
            json!({
                "id": id, "name": id, "tenant_id": TENANT_ID, "engine": "postgres", "version": "16",
                "status": "running", "host": format!("{id}.db.miosa.internal"), "port": 5432, "size_gb": 1,
                "plan": null, "region": "us-east-1", "workspace_id": null, "project_id": null,
                "environment_id": null, "created_at": now, "updated_at": now,
            }),
        );
    }
    record(
        &mut s.buckets,
        json!({
            "id": "bkt_fixture", "name": "fixture-bucket", "tenant_id": TENANT_ID, "region": "us-east-1",
            "public": false, "created_at": now, "updated_at": now,
        }),
    );
    s.objects.push(Object {
        bucket_id: "bkt_fixture".into(),
        key: "hello.txt".into(),
        content_type: "text/plain".into(),
        bytes: bytes::Bytes::from_static(b"hello\n"),
        updated_at: now.clone(),
    });
    for (id, status) in [
        ("vol_fixture", "attached"),
        ("vol_fixture_del", "available"),
    ] {
        record(
            &mut s.volumes,
            json!({
                "id": id, "name": id, "tenant_id": TENANT_ID, "size_gb": 10, "status": status,
                "region": "us-east-1", "created_at": now, "updated_at": now,
            }),
        );
    }
    for (id, mount) in [
        ("att_fixture", "/mnt/data"),
        ("att_fixture_del", "/mnt/scratch"),
    ] {
        record(
            &mut s.attachments,
            json!({
                "id": id, "volume_id": "vol_fixture", "computer_id": "cmp_fixture", "mount_path": mount,
                "status": "attached", "attached_at": now,
            }),
        );
    }
    for id in ["ccs_fixture", "ccs_fixture_del"] {
        record(
            &mut s.sessions,
            json!({
                "id": id, "tenant_id": TENANT_ID, "goal": "open the fixture app", "status": "running",
                "computer_id": "cmp_fixture", "created_at": now, "updated_at": now,
            }),
        );
    }
    for (id, name) in [
        ("ws_fixture", "Fixture Workspace"),
        ("ws_fixture_del", "Workspace To Delete"),
    ] {
        record(
            &mut s.workspaces,
            json!({
                "id": id, "name": name, "tenant_id": TENANT_ID, "description": "seeded by the emulator",
                "metadata": {}, "created_at": now, "updated_at": now,
            }),
        );
        let owner = crate::routes::member_rec(
            id,
            "usr_owner",
            "owner@fixture.test",
            "Fixture Owner",
            "owner",
            None,
        );
        s.members.insert(format!("{id}/usr_owner"), owner);
    }
    for (user, email) in [
        ("usr_fixture", "user@fixture.test"),
        ("usr_fixture_del", "leaver@fixture.test"),
    ] {
        let m =
            crate::routes::member_rec("ws_fixture", user, email, user, "member", Some("usr_owner"));
        s.members.insert(format!("ws_fixture/{user}"), m);
    }
    for (id, token, email) in [
        ("winv_fixture", "wtok_fixture", "invitee@fixture.test"),
        (
            "winv_fixture_del",
            "wtok_fixture_del",
            "cancel@fixture.test",
        ),
        (
            "winv_fixture_accept",
            "wtok_fixture_accept",
            "accept@fixture.test",
        ),
    ] {
        record(
            &mut s.ws_invites,
            json!({
                "id": id, "workspace_id": "ws_fixture", "tenant_id": TENANT_ID, "email": email, "role": "member",
                "invited_by": "usr_owner", "expires_at": util::in_secs(7 * 86_400), "accepted_at": null,
                "revoked_at": null, "inserted_at": now, "token": token,
                "invite_url": format!("https://app.miosa.ai/workspace-invites/{token}"),
            }),
        );
    }
    for (id, token, email) in [
        ("oinv_fixture", "otok_fixture", "org-invitee@fixture.test"),
        (
            "oinv_fixture_del",
            "otok_fixture_del",
            "org-cancel@fixture.test",
        ),
        (
            "oinv_fixture_accept",
            "otok_fixture_accept",
            "org-accept@fixture.test",
        ),
    ] {
        record(
            &mut s.org_invites,
            json!({
                "invite_id": id, "id": id, "tenant_id": TENANT_ID, "email": email, "role": "member",
                "expires_at": util::in_secs(7 * 86_400), "accepted_at": null, "revoked_at": null,
                "invite_url": format!("https://app.miosa.ai/invites/{token}"), "token": token, "created_at": now,
            }),
        );
    }
    for (id, name, plan) in [
        (TENANT_ID, "Fixture Tenant", "pro"),
        ("ten_other", "Other Tenant", "free"),
    ] {
        record(
            &mut s.tenants,
            json!({
                "id": id, "name": name, "plan": plan, "status": "active", "suspended_reason": null,
                "created_at": now, "updated_at": now,
            }),
        );
    }
    for (user, max) in [("usr_fixture", 5), ("usr_fixture_del", 1)] {
        s.quotas.insert(user, obj(json!({
            "max_sandboxes": max, "max_concurrent": 2, "max_storage_gb": 10, "max_credit_cents": 10_000,
            "updated_at": now,
        })));
    }
    for (action, resource, rid) in [
        ("sandbox.create", "sandbox", "sbx_fixture"),
        ("sandbox.create", "sandbox", "sbx_fixture_del"),
        ("computer.create", "computer", "cmp_fixture"),
        ("webhook.create", "webhook", "wh_fixture"),
        ("api_key.create", "api_key", "key_fixture"),
        ("workspace.create", "workspace", "ws_fixture"),
    ] {
        s.audit_seq += 1;
        s.audit.push(json!({
            "id": format!("evt_{:06}", s.audit_seq), "tenant_id": TENANT_ID, "actor_id": "key_fixture",
            "actor_type": "api_key", "action": action, "resource": resource, "resource_id": rid,
            "metadata": {"seeded": true}, "ip_address": "127.0.0.1", "created_at": now,
        }));
    }
    *app.store() = s;
    Ok(())
}
