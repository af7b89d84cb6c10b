"""A model answer is built into Python objects straight from the body text: the
objects must be exactly what `json.loads` makes of that text, and every rule of
the model table (envelope, aliases, required fields) must hold as before."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import Iterator, List

import pytest

import miosa_native

# Escapes, non-ASCII, surrogate pairs, integers beyond i64, negative and float
# numbers, nested containers, a repeated key and empty containers.
TRICKY = (
    b'{"id": "sbx_\\u00e9\\"q\\"", "state": "running", "name": "na\xc3\xafve \\ud83d\\ude00 \\n\\t\\\\",'
    b' "cpu_count": -3, "memory_mb": 9223372036854775807, "big": 18446744073709551615,'
    b' "huge": 123456789012345678901234567890, "ratio": 1.5e-7, "neg": -0.0,'
    b' "nested": {"a": [1, 2.5, null, true, false, {"b": []}], "c": {}},'
    b' "dup": 1, "other": "x", "dup": 2,  "metadata": {"k": "v"}, "tags": ["a", "b"]}'
)


class OneBody:
    """Answers every request on 127.0.0.1 with the next of `bodies` (the last repeats)."""

    def __init__(self, bodies: List[bytes]) -> None:
        self.bodies = bodies
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/api/v1"
        self.served = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.served < 64:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                body = self.bodies[min(self.served, len(self.bodies) - 1)]
                self.served += 1
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
                    + f"content-length: {len(body)}\r\n\r\n".encode()
                    + body
                )

    def client(self) -> miosa_native.Client:
        return miosa_native.Client("msk_test_decode", base_url=self.base_url, max_retries=0)


@pytest.fixture
def serve() -> Iterator["type[OneBody]"]:
    servers: List[OneBody] = []

    def start(*bodies: bytes) -> OneBody:
        server = OneBody(list(bodies))
        servers.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in servers:
        server.listener.close()


def test_a_model_is_exactly_what_json_loads_makes_of_the_body(serve) -> None:  # type: ignore[no-untyped-def]
    with serve(TRICKY).client() as client:
        sandbox = client.sandboxes.get("sbx_1")
    expected = json.loads(TRICKY)
    # Integers beyond 64 bits become floats, as they always have in this client.
    expected["huge"] = float(expected["huge"])
    got = sandbox.to_dict()
    assert got == expected
    assert list(got) == list(expected)  # keys keep the body's order
    assert type(got["memory_mb"]) is int and type(got["big"]) is int
    assert type(got["huge"]) is float and type(got["ratio"]) is float
    assert got["dup"] == 2 and sandbox.name == "na\u00efve \U0001f600 \n\t\\"
    assert sandbox.extra["nested"] == {"a": [1, 2.5, None, True, False, {"b": []}], "c": {}}


def test_asyncio_builds_the_same_model(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(TRICKY)

    async def get() -> miosa_native.Sandbox:
        async with miosa_native.AsyncClient("msk_test_decode", base_url=server.base_url, max_retries=0) as client:
            return await client.sandboxes.get("sbx_1")

    expected = json.loads(TRICKY)
    expected["huge"] = float(expected["huge"])
    assert asyncio.run(get()).to_dict() == expected


def test_the_table_rules_still_apply_to_model_answers(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(
        b'{"data": {"id": "sbx_env", "state": "running"}, "request_id": "r1"}',
        b'{"id": "sbx_own", "state": "running", "data": {"k": 1}}',
        b'{"output": "hi\\n", "exit_code": 0}',
        b'{"state": "running"}',
        b"[1, 2]",
        b'{"id": "sbx_1", "state": "running"} trailing',
    )
    with server.client() as client:
        # The envelope is unwrapped, its siblings kept.
        assert client.sandboxes.get("a").to_dict() == {"id": "sbx_env", "state": "running", "request_id": "r1"}
        # A resource with its own `data` field stays whole.
        assert client.sandboxes.get("a").extra == {"data": {"k": 1}}
        # `same_as` fields are filled from each other.
        result = client.exec.run("cmp_1", command="echo hi")
        assert result.stdout == "hi\n" and result.output == "hi\n"
        with pytest.raises(miosa_native.DecodeError, match="missing field `id`"):
            client.sandboxes.get("a")
        with pytest.raises(miosa_native.DecodeError, match="Sandbox"):
            client.sandboxes.get("a")
        with pytest.raises(miosa_native.DecodeError, match="not valid JSON"):
            client.sandboxes.get("a")
