"""WebSockets through the binding, against the emulator's real terminal:
typing and reading back, resizing, interactive exec with its exit code,
closing from another thread or task, and the same on AsyncClient."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import miosa_native

FIXTURE = "sbx_fixture"


def read_until(sock: miosa_native.Socket, want: str, limit: float = 10.0, times: int = 1) -> str:
    """Reads until `want` has arrived `times` times."""
    seen = ""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and seen.count(want) < times:
        message = sock.recv(timeout=0.2)
        if message is None and sock.closed:
            break
        if message is not None:
            seen += message.text
    assert seen.count(want) >= times, f"{want!r} never arrived {times} time(s); got {seen!r}"
    return seen


def test_terminal_round_trip(client: miosa_native.Client) -> None:
    with client.sandbox.terminal.stream(FIXTURE, cols=80, rows=24) as term:
        assert term.frames == "terminal"
        term.send("echo hi-term\n")
        # Once in the echoed input, once as the command's output line.
        read_until(term, "hi-term\r\n", times=2)
        term.resize(120, 33)
        term.send(b"stty size\n")
        read_until(term, "33 120")
    assert term.closed
    with pytest.raises(miosa_native.MiosaError):
        term.send("ls\n")


def test_terminal_bad_size_is_a_typed_error(client: miosa_native.Client) -> None:
    with client.sandbox.terminal.stream(FIXTURE) as term:
        with pytest.raises(miosa_native.InvalidArgumentError):
            term.resize(0, 10)


def test_interactive_exec_returns_its_exit_code(client: miosa_native.Client) -> None:
    sock = client.exec.spawn(FIXTURE, "read name; echo hello-$name; echo warn >&2; exit 3")
    sock.send("py\n")
    out = {"stdout": "", "stderr": ""}
    for message in sock:
        out[message.channel] += message.text
    assert out == {"stdout": "hello-py\n", "stderr": "warn\n"}
    assert sock.exit_code == 3


def test_close_from_another_thread_ends_a_pending_read(client: miosa_native.Client) -> None:
    sock = client.exec.spawn(FIXTURE, "sleep 20")
    timer = threading.Timer(0.3, sock.close)
    started = time.monotonic()
    timer.start()
    assert list(sock) == []
    waited = time.monotonic() - started
    timer.join()
    assert 0.2 <= waited < 5, waited
    assert sock.exit_code is None


def test_missing_sandbox_is_not_found(client: miosa_native.Client) -> None:
    with pytest.raises(miosa_native.NotFoundError):
        client.sandbox.terminal.stream("sbx_missing")


def test_async_terminal_exec_and_close(aclient: miosa_native.AsyncClient) -> None:
    async def main() -> None:
        async with await aclient.sandbox.terminal.stream(FIXTURE) as term:
            await term.send("echo hi-term\n")
            seen = ""
            async for message in term:
                seen += message.text
                if seen.count("hi-term\r\n") >= 2:
                    break
            await term.resize(90, 30)
        assert term.closed

        sock = await aclient.exec.spawn(FIXTURE, "exit 7")
        assert [m async for m in sock] == []
        assert sock.exit_code == 7

        sleeper = await aclient.exec.spawn(FIXTURE, "sleep 20")

        async def close_soon() -> None:
            await asyncio.sleep(0.3)
            sleeper.close()

        closer = asyncio.create_task(close_soon())
        started = time.monotonic()
        assert await sleeper.recv() is None
        assert time.monotonic() - started < 5
        await closer

    asyncio.run(main())
