"""Bytes inside `write_many` items: the core sends each item's content (bytes of any
Python bytes type, or text) base64-encoded; `tests/files/write_many.json` holds the
cases every language replays."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

import miosa_native

VECTORS = json.loads(
    (pathlib.Path(__file__).resolve().parents[2] / "tests" / "files" / "write_many.json").read_text()
)


def native(value: Any) -> Any:
    """A vector value in Python's own types: `{"$hex": …}` becomes bytes."""
    if isinstance(value, dict):
        if set(value) == {"$hex"}:
            return bytes.fromhex(value["$hex"])
        return {k: native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [native(v) for v in value]
    return value


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_write_many_vectors(client: miosa_native.Client, case: dict[str, Any]) -> None:
    sb = client.sandboxes.create(name="vectors", wait=True)
    files = native(case["files"])
    if "error" in case:
        with pytest.raises(miosa_native.InvalidArgumentError) as caught:
            client.sandbox.files.write_many(sb.id, files)
        assert case["error"] in str(caught.value)
        return
    client.sandbox.files.write_many(sb.id, files)
    for path, hex_content in case["read"].items():
        assert client.sandbox.files.read(sb.id, path) == bytes.fromhex(hex_content)


def test_write_many_takes_every_bytes_type(client: miosa_native.Client) -> None:
    sb = client.sandboxes.create(name="bytes", wait=True)
    blobs: dict[str, bytes | bytearray | memoryview] = {
        "/workspace/a.bin": b"\x00\xffplain bytes",
        "/workspace/b.bin": bytearray(b"\x01\x02 a bytearray"),
        "/workspace/c.bin": memoryview(b"\x7f\x80 a memoryview"),
    }
    items: list[miosa_native.FileWrite] = [{"path": p, "content": b} for p, b in blobs.items()]
    written = client.sandbox.files.write_many(sb.id, items)
    assert len(written.written) == 3
    for path, blob in blobs.items():
        assert client.sandbox.files.read(sb.id, path) == bytes(blob)
    # The handle takes the same items.
    sb_handle = client.sandboxes.connect(sb.id)
    sb_handle.files.write_many([{"path": "/workspace/d.bin", "content": b"\x00d"}])
    assert client.sandbox.files.read(sb.id, "/workspace/d.bin") == b"\x00d"
