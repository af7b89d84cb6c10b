"""The official `miosa` Python SDK's everyday flows, written as its own README
and docstrings show them, against the emulator. Each test is one step; none
patches or reaches into the SDK."""

from __future__ import annotations

import hashlib
import hmac
import pathlib
import uuid
from typing import Any, Iterator

import pytest

from miosa import MachineStartingError, Miosa, NoReadyMachineError, NotFoundError
from miosa.resources.webhooks import verify_signature

from conftest import Emulator, running_emulator


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def sb(client: Miosa) -> Iterator[Any]:
    """A running sandbox, created the way the SDK's quick start does."""
    sandbox = client.sandboxes.create(name=unique("official"), wait=30)
    yield sandbox
    try:
        sandbox.destroy()
    except NotFoundError:
        pass


def test_create_without_wait_boots_by_itself(client: Miosa) -> None:
    sandbox = client.sandboxes.create(name=unique("no-wait"))
    assert sandbox.state == "creating"
    assert sandbox.wait_until_ready(timeout=10) is True
    assert sandbox.state == "running"
    assert sandbox.run("echo booted").stdout == "booted\n"
    sandbox.destroy()


def test_create_with_wait_in_seconds_answers_running(client: Miosa) -> None:
    sandbox = client.sandboxes.create(name=unique("wait-secs"), wait=30)
    assert sandbox.state == "running"
    assert sandbox.ready is True
    sandbox.destroy()


def test_create_with_wait_true_answers_running(client: Miosa) -> None:
    sandbox = client.sandboxes.create(name=unique("wait-true"), wait=True)
    assert sandbox.state == "running"
    sandbox.destroy()


def test_fail_fast_takes_a_warm_machine(client: Miosa) -> None:
    sandbox = client.sandboxes.create(name=unique("warm"), fail_fast=True)
    assert sandbox.state == "running"
    assert sandbox.boot_path == "warm_pool"
    sandbox.destroy()


def test_work_sent_while_booting_is_refused_as_retryable(client: Miosa) -> None:
    sandbox = client.sandboxes.create(name=unique("booting"))
    with pytest.raises(MachineStartingError) as refused:
        sandbox.processes.start("sleep 1")
    assert refused.value.status_code == 409
    assert refused.value.retryable is True
    assert sandbox.wait_until_ready(timeout=10) is True
    assert sandbox.processes.start("sleep 1")
    sandbox.destroy()


def test_fail_fast_without_a_warm_machine_is_no_ready_machine(tmp_path: pathlib.Path) -> None:
    with running_emulator(tmp_path / "cold.log", "--warm-pool", "0") as cold, Miosa(
        api_key=cold.api_key, base_url=cold.base_url
    ) as client:
        with pytest.raises(NoReadyMachineError) as refused:
            client.sandboxes.create(name=unique("cold"), fail_fast=True)
        assert refused.value.status_code == 503
        assert refused.value.retryable is False
        # Without fail_fast the same create waits for a cold boot instead.
        assert client.sandboxes.create(name=unique("cold"), wait=30).state == "running"


def test_run_returns_output_and_exit_code(sb: Any) -> None:
    result = sb.run("python3 -c 'print(1 + 1)'")
    assert result.stdout == "2\n"
    assert result.exit_code == 0
    failed = sb.run("sh -c 'echo oops >&2; exit 3'")
    assert failed.exit_code == 3
    assert failed.stderr == "oops\n"


def test_files_write_read_list_and_stat(sb: Any) -> None:
    sb.files.write("/workspace/notes/hello.txt", "hello from the official SDK")
    assert sb.files.read_text("/workspace/notes/hello.txt") == "hello from the official SDK"
    assert sb.files.read("/workspace/notes/hello.txt") == b"hello from the official SDK"
    stat = sb.files.stat("/workspace/notes/hello.txt")
    assert stat.get("size", stat.get("size_bytes")) == len("hello from the official SDK")
    listing = sb.files.list("/workspace/notes")
    assert "hello.txt" in str(listing)
    written = sb.files.write_many(
        [{"path": "/workspace/a.txt", "content": "a"}, {"path": "/workspace/b.txt", "content": "b"}]
    )
    assert len(written.get("written", [])) == 2
    assert sb.run("cat /workspace/a.txt /workspace/b.txt").stdout == "ab"


def test_env_set_list_and_delete(sb: Any) -> None:
    sb.env.set([{"key": "OFFICIAL_GREETING", "value": "hi"}])
    assert "OFFICIAL_GREETING" in str(sb.env.list())
    assert sb.run("printenv OFFICIAL_GREETING").stdout == "hi\n"
    sb.env.delete("OFFICIAL_GREETING")
    assert "OFFICIAL_GREETING" not in str(sb.env.list())


def test_processes_start_list_logs_and_stop(sb: Any) -> None:
    proc = sb.processes.start("echo started; sleep 30", name="sleeper")
    pid = proc.get("pid") or proc.get("id")
    assert pid
    assert any(str(p.get("pid") or p.get("id")) == str(pid) for p in sb.processes.list())
    assert str(sb.processes.get(pid).get("pid") or sb.processes.get(pid).get("id")) == str(pid)
    sb.processes.stop(pid)


def test_snapshots_create_list_and_delete(sb: Any) -> None:
    sb.files.write("/workspace/kept.txt", "kept")
    snap = sb.snapshots.create(comment="before changes")
    snap_id = snap.get("id") or snap.get("snapshot_id")
    assert snap_id
    assert any((s.get("id") or s.get("snapshot_id")) == snap_id for s in sb.snapshots.list())
    sb.snapshots.delete(snap_id)


def test_shares_create_list_and_revoke(sb: Any) -> None:
    share = sb.share.create(expires_in=600)
    assert share["scope"] == "read"
    share_id = share.get("share_id") or share.get("id")
    assert share_id
    assert any((s.get("share_id") or s.get("id")) == share_id for s in sb.share.list())
    sb.share.revoke(share_id)
    assert all((s.get("share_id") or s.get("id")) != share_id for s in sb.share.list())


def test_previews_create_share_and_delete(sb: Any) -> None:
    preview = sb.preview.create(port=3000)
    preview_id = preview.get("id") or preview.get("preview_id")
    assert preview_id
    assert sb.preview.get(preview_id).get("port") == 3000
    assert any((p.get("id") or p.get("preview_id")) == preview_id for p in sb.preview.list())
    token = sb.preview.share(preview_id, ttl_seconds=600)
    assert token
    sb.preview.revoke_share(preview_id)
    sb.preview.delete(preview_id)


def test_tags_set_and_filter(client: Miosa, sb: Any) -> None:
    tag = unique("tag")
    sb.tags.set([tag, "official"])
    assert set(client.sandboxes.get(sb.id).data.get("tags", [])) == {tag, "official"}
    listed = client.sandboxes.list(tags=[tag])
    assert [s.id for s in listed] == [sb.id]


def test_get_by_name(client: Miosa, sb: Any) -> None:
    assert client.sandboxes.get_by_name(sb.name).id == sb.id


def test_stop_and_resume(sb: Any) -> None:
    assert sb.stop().state == "stopped"
    resumed = sb.resume()
    assert resumed.state in ("resuming", "running")
    assert sb.wait_until_ready(timeout=10) is True
    assert sb.run("echo back").stdout == "back\n"


def test_usage_of_a_sandbox_and_of_the_tenant(client: Miosa, sb: Any) -> None:
    usage = sb.usage()
    assert usage is not None
    rollup = client.usage.get(period="7d")
    assert isinstance(rollup, dict)


def test_webhooks_create_test_deliveries_and_delete(client: Miosa) -> None:
    hook = client.webhooks.create(url="https://hooks.example.test/miosa", events=["sandbox.created"])
    assert hook["secret"]
    hook_id = hook["id"]
    assert any(h["id"] == hook_id for h in client.webhooks.list())
    assert client.webhooks.get(hook_id)["url"] == "https://hooks.example.test/miosa"
    client.webhooks.update(hook_id, events=["sandbox.created", "sandbox.destroyed"])
    client.webhooks.test(hook_id)
    assert isinstance(client.webhooks.deliveries(hook_id), list)
    client.webhooks.delete(hook_id)
    with pytest.raises(NotFoundError):
        client.webhooks.get(hook_id)


def test_webhook_signatures_verify_with_the_official_helper() -> None:
    body = b'{"event":"sandbox.created"}'
    signature = "sha256=" + hmac.new(b"whsec_test", body, hashlib.sha256).hexdigest()
    assert verify_signature(body, signature, "whsec_test")


def test_quotas_set_get_and_delete(client: Miosa) -> None:
    user = unique("usr")
    client.quotas.set(user, max_sandboxes=2)
    assert client.quotas.get(user)["max_sandboxes"] == 2
    client.quotas.delete(user)


def test_audit_log_lists_recent_mutations(admin: Miosa) -> None:
    events = admin.audit_log.list(limit=5)
    assert events


def test_delete_makes_the_sandbox_unknown(client: Miosa) -> None:
    sandbox = client.sandboxes.create(name=unique("doomed"), wait=30)
    client.sandboxes.delete(sandbox.id)
    with pytest.raises(NotFoundError):
        client.sandboxes.get(sandbox.id)


def test_every_create_sent_the_sdk_own_spellings(emulator: Emulator) -> None:
    creates = [r for r in emulator.requests("/api/v1/sandboxes") if r["method"] == "POST" and r["path"] == "/api/v1/sandboxes"]
    assert creates, "the flows above created sandboxes"
    assert any(r["query"].get("wait") == "30" for r in creates), "wait is sent in seconds"
    assert all(r["status"] == 201 for r in creates)
