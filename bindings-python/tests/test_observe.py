"""Raw responses, request ids on models, logging through `logging`, and
streamed file transfers with progress, against the emulator."""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import subprocess
import sys
from typing import List, Optional, Tuple

import pytest

import miosa_native
from conftest import Emulator


def ready(client: miosa_native.Client, name: str) -> miosa_native.Sandbox:
    sb = client.sandboxes.create(name=name)
    assert client.sandboxes.wait_until_ready(sb.id, timeout=60.0) is True
    return sb


def test_with_raw_response_exposes_status_headers_and_request_id(client: miosa_native.Client, fresh: Emulator) -> None:
    sb = ready(client, "raw")
    assert sb._request_id is not None, "a plain call's model carries its request id"
    raw = client.sandboxes.with_raw_response.get(sb.id)
    assert raw.status == 200
    assert raw.request_id is not None and raw.request_id.startswith("req_")
    assert raw.headers["x-request-id"] == raw.request_id
    assert fresh.last_request()["request_id"] == raw.request_id
    parsed = raw.parse()
    assert isinstance(parsed, miosa_native.Sandbox)
    assert parsed.id == sb.id
    assert parsed._request_id == raw.request_id
    # A nested namespace has it too, and the plain namespace is unchanged.
    written = client.sandbox.files.with_raw_response.write(sb.id, "/workspace/a.txt", b"hi")
    assert written.status == 200 and written.parse().path.endswith("a.txt")
    assert client.sandbox.files.read(sb.id, "/workspace/a.txt") == b"hi"


def test_with_raw_response_async(aclient: miosa_native.AsyncClient) -> None:
    async def flow() -> Tuple[int, Optional[str], str, Optional[str]]:
        async with aclient:
            sb = await aclient.sandboxes.create(name="raw-async")
            raw = await aclient.sandboxes.with_raw_response.get(sb.id)
            return raw.status, raw.request_id, raw.parse().id, sb._request_id

    status, request_id, ident, created_id = asyncio.run(flow())
    assert status == 200 and ident
    assert request_id and created_id and request_id != created_id


def test_one_log_record_per_request_without_secrets(
    client: miosa_native.Client, fresh: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "canary-token-0f3c9a"
    with caplog.at_level(logging.DEBUG, logger="miosa_native"):
        sb = client.sandboxes.create(name=canary, extra_headers={"X-Api-Token": canary})
        caplog.clear()
        raw = client.sandboxes.with_raw_response.get(sb.id, extra_headers={"X-Api-Token": canary})
    records = [r for r in caplog.records if r.name == "miosa_native"]
    assert len(records) == 1, [r.getMessage() for r in records]
    record = records[0]
    assert record.levelno == logging.INFO
    fields = record.__dict__["miosa"]
    assert fields["method"] == "GET"
    assert fields["route"] == "/sandboxes/{id}"
    assert fields["status"] == 200
    assert fields["attempt"] == 1
    assert fields["request_id"] == raw.request_id
    assert fields["duration_ms"] >= 0
    text = record.getMessage() + repr(fields)
    assert fresh.api_key not in text and canary not in text, text


def test_a_failed_request_logs_a_warning(client: miosa_native.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="miosa_native"):
        with pytest.raises(miosa_native.NotFoundError):
            client.sandboxes.get("sb_missing")
    warnings = [r for r in caplog.records if r.name == "miosa_native" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "404" in warnings[0].getMessage()


def test_miosa_log_prints_to_stderr(fresh: Emulator) -> None:
    program = (
        "import miosa_native, sys\n"
        f"c = miosa_native.Client({fresh.api_key!r}, base_url={fresh.base_url!r}, max_retries=0)\n"
        "c.sandboxes.list()\n"
    )
    env = dict(os.environ, MIOSA_LOG="info")
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("miosa INFO: GET /sandboxes")]
    assert len(lines) == 1, done.stderr
    assert fresh.api_key not in done.stderr


def test_files_upload_and_download_through_paths_with_progress(
    client: miosa_native.Client, tmp_path: pathlib.Path
) -> None:
    sb = ready(client, "transfer")
    source = tmp_path / "up.bin"
    content = os.urandom(3 * 1024 * 1024 + 11)
    source.write_bytes(content)
    steps: List[Tuple[int, Optional[int]]] = []
    written = client.sandbox.files.upload(sb.id, "/workspace/big.bin", source, on_progress=lambda d, t: steps.append((d, t)))
    assert isinstance(written, miosa_native.FileWritten)
    assert written.size_bytes == len(content)
    assert steps[0] == (0, len(content)) and steps[-1] == (len(content), len(content))
    steps.clear()
    target = tmp_path / "down.bin"
    n = client.sandbox.files.download(sb.id, "/workspace/big.bin", target, on_progress=lambda d, t: steps.append((d, t)))
    assert n == len(content) and target.read_bytes() == content
    assert steps[-1] == (n, n) and len(steps) >= 3
    with pytest.raises(miosa_native.InvalidArgumentError, match="local_path"):
        client.sandbox.files.upload(sb.id, "/workspace/x", tmp_path / "absent")


def test_files_transfer_async(aclient: miosa_native.AsyncClient, tmp_path: pathlib.Path) -> None:
    source = tmp_path / "a.txt"
    source.write_bytes(b"async transfer\n")

    async def flow() -> int:
        async with aclient:
            sb = await aclient.sandboxes.create(name="transfer-async")
            assert await aclient.sandboxes.wait_until_ready(sb.id, timeout=60.0) is True
            await aclient.sandbox.files.upload(sb.id, "/workspace/a.txt", source)
            return await aclient.sandbox.files.download(sb.id, "/workspace/a.txt", tmp_path / "b.txt")

    assert asyncio.run(flow()) == 15
    assert (tmp_path / "b.txt").read_bytes() == b"async transfer\n"


TRANSFER_64_MIB = """
import os, sys, miosa_native
base_url, key, folder = sys.argv[1:]
size = 64 << 20
source = os.path.join(folder, "up.bin")
with open(source, "wb") as f:
    for _ in range(64):
        f.write(os.urandom(1 << 20))
seen = {"up": 0, "down": 0}
client = miosa_native.Client(key, base_url=base_url, max_retries=0, timeout=120)
sb = client.sandboxes.create(name="big")
assert client.sandboxes.wait_until_ready(sb.id, timeout=60.0)
client.sandbox.files.upload(sb.id, "/workspace/big.bin", source, on_progress=lambda d, t: seen.__setitem__("up", d))
target = os.path.join(folder, "down.bin")
n = client.sandbox.files.download(sb.id, "/workspace/big.bin", target, on_progress=lambda d, t: seen.__setitem__("down", d))
assert n == size == seen["up"] == seen["down"], (n, seen)
with open(source, "rb") as a, open(target, "rb") as b:
    while True:
        x, y = a.read(1 << 20), b.read(1 << 20)
        assert x == y
        if not x:
            break
# VmHWM is this program's own peak: ru_maxrss would also count the parent's
# memory at fork time (Linux carries it across exec).
with open("/proc/self/status") as status:
    hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(hwm_kb // 1024)
"""


def test_64_mib_through_paths_stays_below_100_mb(fresh: Emulator, tmp_path: pathlib.Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", TRANSFER_64_MIB, fresh.base_url, fresh.api_key, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    peak_mb = int(done.stdout.strip().splitlines()[-1])
    print(f"64 MiB upload + download through paths: client peak RSS {peak_mb} MB")
    assert peak_mb < 100, f"peak RSS {peak_mb} MB"
