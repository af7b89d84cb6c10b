"""Hostile servers: small misbehaving HTTP servers on loopback, each bounded in
bytes and seconds, and the typed error every case ends with."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from typing import Callable, Dict, List, Optional

import pytest

import miosa_native

# Upper bound on what any hostile server writes, whatever the client does.
MAX_SERVED = 128 << 20
SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"

Handler = Callable[[int, Dict[str, str], socket.socket], None]


class Server:
    """Answers every connection on 127.0.0.1 with `handler(index, headers, sock)`."""

    def __init__(self, handler: Handler) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/api/v1"
        self.requests: List[Dict[str, str]] = []
        self.handler = handler
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        index = 0
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(index, conn), daemon=True).start()
            index += 1

    def _serve(self, index: int, conn: socket.socket) -> None:
        conn.settimeout(10)
        with conn:
            try:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                text, _, rest = head.partition(b"\r\n\r\n")
                lines = text.decode("latin-1").split("\r\n")
                headers = {":path": lines[0].split(" ")[1]}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                while len(rest) < length:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    rest += chunk
                self.requests.append(headers)
                self.handler(index, headers, conn)
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()

    def client(self, **options: object) -> miosa_native.Client:
        # Retries off unless a test turns them on: each case counts its requests.
        options.setdefault("max_retries", 0)
        return miosa_native.Client("msk_test_hostile", base_url=self.base_url, **options)  # type: ignore[arg-type]


@pytest.fixture
def serve() -> "Callable[[Handler], Server]":
    servers: List[Server] = []

    def start(handler: Handler) -> Server:
        server = Server(handler)
        servers.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()


def write_endlessly(conn: socket.socket, chunk: bytes) -> None:
    served = 0
    while served < MAX_SERVED:
        conn.sendall(chunk)
        served += len(chunk)


def events(first: int, last: int) -> bytes:
    return b"".join(f"id: {n}\ndata: {n}\n\n".encode() for n in range(first, last + 1))


# ------------------------------------------------------------ bounded bodies


def test_an_endless_json_body_stops_at_max_response_bytes(serve: Callable[[Handler], Server]) -> None:
    def handler(_: int, __: Dict[str, str], conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[")
        write_endlessly(conn, b"1," * 32768)

    with serve(handler).client() as client:
        with pytest.raises(miosa_native.LimitExceededError, match="max_response_bytes"):
            client.sandboxes.get("sbx_1")


def test_an_absurd_content_length_is_refused_before_reading(serve: Callable[[Handler], Server]) -> None:
    def handler(_: int, __: Dict[str, str], conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000000000\r\n\r\n{")
        time.sleep(5)

    with serve(handler).client() as client:
        started = time.monotonic()
        with pytest.raises(miosa_native.LimitExceededError, match="max_response_bytes"):
            client.sandboxes.get("sbx_1")
        assert time.monotonic() - started < 3


def test_a_server_answering_after_3_s_fails_a_1_s_client_in_about_1_s(serve: Callable[[Handler], Server]) -> None:
    def handler(_: int, __: Dict[str, str], conn: socket.socket) -> None:
        time.sleep(3)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")

    with serve(handler).client(timeout=1) as client:
        started = time.monotonic()
        with pytest.raises(miosa_native.APITimeoutError):
            client.sandboxes.get("sbx_1")
        assert time.monotonic() - started < 2.5


def test_a_4_s_command_with_its_own_timeout_outlives_a_2_s_client_timeout(fresh: object) -> None:
    emulator = fresh
    with miosa_native.Client(emulator.api_key, base_url=emulator.base_url, timeout=2, max_retries=0) as client:  # type: ignore[attr-defined]
        out = client.sandbox.exec.run("sbx_fixture", command="sleep 4; echo done", timeout=20)
    assert out.stdout == "done\n"


# -------------------------------------------------------------------- streams


def test_a_never_ending_sse_line_stops_at_max_event_bytes(serve: Callable[[Handler], Server]) -> None:
    def handler(_: int, __: Dict[str, str], conn: socket.socket) -> None:
        conn.sendall(SSE_HEAD + b"data: ")
        write_endlessly(conn, b"x" * 65536)

    with serve(handler).client() as client, client.stream_sse("/stream") as stream:
        with pytest.raises(miosa_native.LimitExceededError, match="max_event_bytes"):
            list(stream)


def test_one_huge_event_stops_at_max_event_bytes(serve: Callable[[Handler], Server]) -> None:
    def handler(_: int, __: Dict[str, str], conn: socket.socket) -> None:
        conn.sendall(SSE_HEAD + b"data: small\n\n")
        write_endlessly(conn, b"data: " + b"y" * 16384 + b"\n")

    seen: List[str] = []
    with serve(handler).client() as client, client.stream_sse("/stream") as stream:
        with pytest.raises(miosa_native.LimitExceededError, match="max_event_bytes"):
            for event in stream:
                seen.append(event.data)
    assert seen == ["small"]


def test_a_clean_close_mid_stream_with_ids_resumes(serve: Callable[[Handler], Server]) -> None:
    def handler(index: int, headers: Dict[str, str], conn: socket.socket) -> None:
        if index == 0:
            conn.sendall(SSE_HEAD + b"retry: 10\n\n" + events(1, 7))
        elif headers.get("last-event-id") == "7":
            conn.sendall(SSE_HEAD + events(8, 30) + b"data: [DONE]\n\n")

    server = serve(handler)
    with server.client() as client, client.stream_sse("/stream") as stream:
        assert [e.data for e in stream] == [str(n) for n in range(1, 31)]
    assert [r.get("last-event-id") for r in server.requests] == [None, "7"]


def test_a_post_stream_cut_is_not_replayed_with_retries_off(serve: Callable[[Handler], Server]) -> None:
    def handler(_: int, __: Dict[str, str], conn: socket.socket) -> None:
        conn.sendall(SSE_HEAD + b"retry: 10\n\n" + events(1, 3))

    server = serve(handler)
    seen: List[str] = []
    with server.client(max_retries=0) as client:
        with pytest.raises(miosa_native.APIConnectionError):
            for event in client.completions.stream(model="m", messages=[]):
                seen.append(event.data)
    assert seen == ["1", "2", "3"]
    assert len(server.requests) == 1


def test_a_cursor_cycle_is_a_typed_error(serve: Callable[[Handler], Server]) -> None:
    def handler(_: int, headers: Dict[str, str], conn: socket.socket) -> None:
        if "cursor=B" in headers[":path"]:
            body = b'{"data":[{"id":"w2","url":"https://h.example/2"}],"next_cursor":"A"}'
        else:
            body = b'{"data":[{"id":"w1","url":"https://h.example/1"}],"next_cursor":"B"}'
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))

    ids: List[Optional[str]] = []
    with serve(handler).client() as client:
        with pytest.raises(miosa_native.DecodeError, match="cursor"):
            for hook in client.webhooks.iter():
                ids.append(hook.id)
                assert len(ids) < 10, "the pager loops"
    assert ids == ["w1", "w2"]


# ------------------------------------------------ concurrency, close and fork


def held_open(count: int) -> Handler:
    def handler(_: int, __: Dict[str, str], conn: socket.socket) -> None:
        conn.sendall(SSE_HEAD + events(1, count) + (b"data: [DONE]\n\n" if count else b""))
        time.sleep(10)

    return handler


def test_overlapping_reads_lose_nothing(serve: Callable[[Handler], Server]) -> None:
    server = serve(held_open(5))

    async def run() -> List[Optional[str]]:
        client = miosa_native.AsyncClient("msk_test_hostile", base_url=server.base_url)
        stream = await client.stream_sse("/stream")

        async def one() -> Optional[str]:
            try:
                return (await stream.__anext__()).data
            except StopAsyncIteration:
                return None

        return list(await asyncio.gather(*(one() for _ in range(7))))

    got = asyncio.run(run())
    assert sorted(d for d in got if d is not None) == ["1", "2", "3", "4", "5"]
    assert got.count(None) == 2


def test_close_wakes_a_blocked_read_at_once(serve: Callable[[Handler], Server]) -> None:
    with serve(held_open(0)).client() as client:
        stream = client.stream_sse("/stream")
        ended: List[float] = []

        def read() -> None:
            for _ in stream:
                pass
            ended.append(time.monotonic())

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.3)
        closed_at = time.monotonic()
        stream.close()
        reader.join(timeout=5)
        assert ended and ended[0] - closed_at < 0.5


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_stream_read_in_a_forked_child_fails_fast(serve: Callable[[Handler], Server]) -> None:
    with serve(held_open(0)).client() as client:
        stream = client.stream_sse("/stream")
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                next(stream)
            except miosa_native.UsageError as err:
                code = 0 if "fork" in str(err) else 2
            except BaseException:
                code = 3
            os._exit(code)
        deadline = time.monotonic() + 10
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pytest.fail("the child hung reading its parent's stream")
            time.sleep(0.05)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        stream.close()
