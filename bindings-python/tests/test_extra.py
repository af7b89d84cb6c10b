"""Calls beyond the seed that take more than one request to prove: a
streamed command's lines arrive while it runs, and multipart uploads (from
bytes and from a local file) download byte for byte."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import List, Tuple

import pytest

import miosa_native

from conftest import Emulator

# `alpha`, then a bounded wait for a file the test writes only after reading
# `alpha`: `beta` follows only if `alpha` arrived while the command ran.
HANDSHAKE = (
    "echo alpha; i=0; while [ ! -f go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; "
    "[ -f go ] && echo beta"
)


def sample(size: int) -> bytes:
    return bytes((i * 7 + i // 256) % 256 for i in range(size))


def test_streamed_exec_delivers_alpha_while_running(client: miosa_native.Client) -> None:
    seen: List[Tuple[str, str]] = []
    with client.sandbox.exec.stream("sbx_fixture", command=HANDSHAKE, timeout=30) as stream:
        for event in stream:
            line = json.loads(event.data).get("line", "")
            if event.event == "stdout" and line == "alpha":
                client.sandbox.files.write("sbx_fixture", "/workspace/go", b"go")
            seen.append((event.event, event.data))
            if event.event == "exit" or len(seen) > 10:
                break
    assert [(e, json.loads(d).get("line")) for e, d in seen[:2]] == [("stdout", "alpha"), ("stdout", "beta")]
    assert seen[2][0] == "exit" and json.loads(seen[2][1])["exit_code"] == 0
    assert len(seen) == 3


def test_streamed_exec_async(fresh: Emulator) -> None:
    async def main() -> List[str]:
        client = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
        lines: List[str] = []
        async with client.sandbox.exec.stream("sbx_fixture", command=HANDSHAKE, timeout=30) as stream:
            async for event in stream:
                if event.event == "exit":
                    break
                line = json.loads(event.data)["line"]
                lines.append(line)
                if line == "alpha":
                    await client.sandbox.files.write("sbx_fixture", "/workspace/go", b"go")
        return lines

    assert asyncio.run(main()) == ["alpha", "beta"]


def test_multipart_upload_and_download_match(client: miosa_native.Client, tmp_path: Path) -> None:
    data = sample(70_000)
    written = client.files.write("cmp_fixture", "/home/user/rt/from-bytes.bin", data)
    assert isinstance(written, miosa_native.FileWritten)
    assert client.files.download("cmp_fixture", "/home/user/rt/from-bytes.bin") == data

    local = tmp_path / "upload.bin"
    on_disk = sample(300_000)
    local.write_bytes(on_disk)
    client.files.upload("cmp_fixture", str(local), "/home/user/rt/from-disk.bin")
    assert client.files.download("cmp_fixture", "/home/user/rt/from-disk.bin") == on_disk


def test_upload_of_a_missing_file_names_the_parameter(client: miosa_native.Client) -> None:
    with pytest.raises(miosa_native.InvalidArgumentError) as info:
        client.files.upload("cmp_fixture", "/nonexistent/miosa/file.bin", "/home/user/x.bin")
    assert "`local_path`" in str(info.value)


def test_preview_url_is_computed_without_a_request(client: miosa_native.Client) -> None:
    url = client.computer.preview_url("cmp_fixture", 3000, path="/health")
    assert url.url == "https://3000-cmp_fixture.sandbox.miosa.app/health"
    assert url.public_url == "https://cmp_fixture.sandbox.miosa.app"
