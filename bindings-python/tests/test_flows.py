"""The seed's two flows, "First request" and "White-label integrator flow",
written in Python on `Client` and `AsyncClient`, and the examples that show them."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from typing import Dict

import pytest

import miosa_native
from miosa_native import AsyncClient, Client

from conftest import REPO, Emulator

EXAMPLES = REPO / "examples" / "python"


def test_first_request(fresh: Emulator) -> None:
    client = Client(fresh.api_key, base_url=fresh.base_url, max_retries=0)
    sb = client.sandboxes.create(name="quick-exec", idempotency_key="first-request-1")
    assert isinstance(sb, miosa_native.Sandbox) and sb.id
    # The idempotency key makes a retried create return the same sandbox.
    again = client.sandboxes.create(name="quick-exec", idempotency_key="first-request-1")
    assert again.id == sb.id
    client.computer.start(sb.id)
    out = client.exec.run(sb.id, command="python3 -c 'print(1 + 1)'")
    assert isinstance(out, miosa_native.ExecResult)
    assert out.output == "2\n"
    assert out.exit_code == 0
    client.computer.destroy(sb.id)
    assert fresh.last_request()["method"] == "DELETE"


def test_first_request_async(fresh: Emulator) -> None:
    async def flow() -> str:
        async with AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0) as client:
            sb = await client.sandboxes.create(name="quick-exec")
            assert sb.id
            await client.computer.start(sb.id)
            out = await client.exec.run(sb.id, command="python3 -c 'print(1 + 1)'")
            await client.computer.destroy(sb.id)
            return out.output or ""

    assert asyncio.run(flow()) == "2\n"


def white_label_sync(fresh: Emulator) -> None:
    client = Client(fresh.api_key, base_url=fresh.base_url, headers={"x-tenant-id": "acme-corp"})
    end_user = "usr_123"
    client.tenant.set_branding(branding={"product_name": "Acme Cloud", "primary_color": "#0050ff"})
    assert fresh.last_request()["headers"]["x-tenant-id"] == "acme-corp"
    assert client.tenant.get_branding()["product_name"] == "Acme Cloud"
    client.tenant.set_preview_domain("preview.acme.dev")
    assert fresh.last_request()["body"] == {"preview_domain": "preview.acme.dev"}

    webhook = client.webhooks.create(url="https://hooks.acme.dev/miosa", events=["sandbox.ready", "sandbox.destroyed"])
    assert isinstance(webhook, miosa_native.Webhook)
    assert webhook.secret, "the create response carries the signing secret once"
    assert webhook.secret not in repr(webhook)

    quota = client.quotas.set(end_user, max_sandboxes=5)
    assert isinstance(quota, miosa_native.Quota) and quota.max_sandboxes == 5

    sb = client.sandboxes.create(name="acme-user-workspace", external_user_id=end_user, external_workspace_id="ws_acme")
    assert sb.id and sb.external_user_id == end_user
    assert client.sandboxes.wait_until_ready(sb.id, timeout=60.0) is True

    files = [
        {"path": "/workspace/index.html", "content_base64": base64.b64encode(b"<h1>Acme</h1>\n").decode()},
        # Bytes nested in JSON are sent as base64, so this is the same as above.
        {"path": "/workspace/app.py", "content_base64": b"print('hi')\n"},
    ]
    written = client.sandbox.files.write_many(sb.id, files)
    assert len(written["written"]) == 2
    assert client.sandbox.files.read(sb.id, "/workspace/app.py") == b"print('hi')\n"

    token = client.sandboxes.preview_token(sb.id, expires_in=3600, scope="read")
    assert isinstance(token, miosa_native.PreviewToken) and token.url and token.token
    assert "token='<redacted>'" in repr(token)
    share = client.sandbox.share.create(sb.id, scope="read")
    assert isinstance(share, miosa_native.Share) and share.share_url

    usage = client.usage.get(group_by="external_user_id")
    assert isinstance(usage, miosa_native.UsageReport)
    assert any(row.get("external_user_id") == end_user for row in usage.results or [])

    client.sandboxes.delete(sb.id)
    with pytest.raises(miosa_native.NotFoundError):
        client.sandboxes.get(sb.id)


def test_white_label_flow(fresh: Emulator) -> None:
    white_label_sync(fresh)


def test_white_label_flow_async(fresh: Emulator) -> None:
    async def flow() -> None:
        client = AsyncClient(fresh.api_key, base_url=fresh.base_url, headers={"x-tenant-id": "acme-corp"})
        await client.tenant.set_branding(branding={"product_name": "Acme Cloud"})
        await client.tenant.set_preview_domain("preview.acme.dev")
        webhook = await client.webhooks.create(url="https://hooks.acme.dev/miosa", events=["sandbox.ready"])
        assert webhook.secret
        await client.quotas.set("usr_123", max_sandboxes=5)
        sb = await client.sandboxes.create(name="acme", external_user_id="usr_123")
        assert sb.id
        assert await client.sandboxes.wait_until_ready(sb.id, timeout=60.0) is True
        written = await client.sandbox.files.write_many(sb.id, [{"path": "/workspace/a.txt", "content_base64": b"a"}])
        assert len(written["written"]) == 1
        token, share, usage = await asyncio.gather(
            client.sandboxes.preview_token(sb.id, expires_in=3600, scope="read"),
            client.sandbox.share.create(sb.id, scope="read"),
            client.usage.get(group_by="external_user_id"),
        )
        assert token.url and share.share_url and usage.results is not None
        await client.sandboxes.delete(sb.id)

    asyncio.run(flow())


def run_example(name: str, env: Dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_examples_against_the_emulator(fresh: Emulator) -> None:
    env = dict(os.environ, MIOSA_API_KEY=fresh.api_key, MIOSA_BASE_URL=fresh.base_url)
    assert run_example("quickstart.py", env) == "2\n"
    lines = run_example("white_label.py", env).splitlines()
    assert lines[0].startswith("webhook wh_") and lines[-1].startswith("destroyed sbx_")
    assert "written: 2" in lines


def test_quickstart_starts_its_own_emulator() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("MIOSA_API_KEY", "MIOSA_BASE_URL")}
    assert run_example("quickstart.py", env) == "2\n"
