"""Bytes inside nested parameters: `write_many` items whose content is bytes,
bytearray or memoryview reach the emulator as base64 and read back as the same bytes."""

from __future__ import annotations

import miosa_native


def test_write_many_takes_every_bytes_type(client: miosa_native.Client) -> None:
    sb = client.sandboxes.create(name="bytes", wait=True)
    blobs = {
        "/workspace/a.bin": b"\x00\xffplain bytes",
        "/workspace/b.bin": bytearray(b"\x01\x02 a bytearray"),
        "/workspace/c.bin": memoryview(b"\x7f\x80 a memoryview"),
    }
    written = client.sandbox.files.write_many(
        sb.id, [{"path": path, "content_base64": blob} for path, blob in blobs.items()]
    )
    assert len(written["written"]) == 3
    for path, blob in blobs.items():
        assert client.sandbox.files.read(sb.id, path) == bytes(blob)
