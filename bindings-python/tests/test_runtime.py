"""How the binding lives in a Python process: the GIL is released while a call
waits, Ctrl-C and task cancellation abort requests, clients work across
threads, event loops and fork(), per-call options reach the wire, and the
process exits cleanly right after an awaited call."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import List

import pytest

import miosa_native

from conftest import Emulator


def wait_for_status(fresh: Emulator, path: str, seconds: float) -> List[object]:
    """Statuses the emulator logged for `path` once a delayed request there had time to finish."""
    time.sleep(seconds)
    return [entry["status"] for entry in fresh.requests(path)]


def test_the_gil_is_released_while_waiting(fresh: Emulator, client: miosa_native.Client) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture", delay_ms=1000)
    done = threading.Event()

    def slow_call() -> None:
        client.sandboxes.get("sbx_fixture")
        done.set()

    caller = threading.Thread(target=slow_call)
    caller.start()
    time.sleep(0.1)
    spins = 0
    started = time.monotonic()
    while not done.is_set() and time.monotonic() - started < 0.5:
        spins += 1
    caller.join(timeout=5)
    # Holding the GIL would freeze this loop for the whole call.
    assert spins > 10_000, spins
    assert done.is_set()


def test_ctrl_c_interrupts_a_blocked_call(fresh: Emulator) -> None:
    # A sandbox of its own: a request another test left in flight cannot take the fault.
    with miosa_native.Client(fresh.api_key, base_url=fresh.base_url) as setup:
        sid = setup.sandboxes.create(name="ctrl-c", wait=True).id
    fresh.fault(method="GET", path=f"/sandboxes/{sid}", delay_ms=4000)
    script = textwrap.dedent(
        f"""
        import signal, time
        import miosa_native
        # A suite started in the background (`cmd &`) hands SIGINT down ignored;
        # a program run from a terminal has Python's handler, as here.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        client = miosa_native.Client({fresh.api_key!r}, base_url={fresh.base_url!r})
        print("calling", flush=True)
        started = time.monotonic()
        try:
            client.sandboxes.get({sid!r})
            print("not interrupted", round(time.monotonic() - started, 2))
        except KeyboardInterrupt:
            print("interrupted", round(time.monotonic() - started, 2))
        print(client.sandboxes.get({sid!r}).id)
        """
    )
    # The test sends SIGINT once the child is about to call, so no timer thread
    # of the child's has to be scheduled on a loaded machine.
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "calling"
    time.sleep(0.3)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    first, second = out.split("\n")[:2]
    assert first.startswith("interrupted"), (out, fresh.control("GET", "/faults"))
    # SIGINT comes about 0.3 s after the call starts; the response would come at 4 s.
    assert float(first.split()[1]) < 2.5
    assert second == sid
    # The aborted request never got its answer: the emulator logged it without a status.
    assert wait_for_status(fresh, f"/api/v1/sandboxes/{sid}", 4)[0] is None


def test_cancelling_the_task_cancels_the_request(fresh: Emulator) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture", delay_ms=1500)

    async def run() -> float:
        client = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
        task = asyncio.ensure_future(client.sandboxes.get("sbx_fixture"))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        elapsed = time.monotonic() - started
        assert (await client.sandboxes.get("sbx_fixture")).id == "sbx_fixture"
        return elapsed

    assert asyncio.run(run()) < 0.5
    statuses = wait_for_status(fresh, "/api/v1/sandboxes/sbx_fixture", 1.5)
    assert statuses[0] is None and statuses[1] == 200


def test_asyncio_timeouts_cancel_too(fresh: Emulator) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture", delay_ms=1500)

    async def run() -> None:
        client = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.sandboxes.get("sbx_fixture"), timeout=0.2)

    asyncio.run(run())
    assert wait_for_status(fresh, "/api/v1/sandboxes/sbx_fixture", 1.5) == [None]


def test_one_client_many_threads(client: miosa_native.Client) -> None:
    errors: List[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                assert client.sandboxes.get("sbx_fixture").id == "sbx_fixture"
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_concurrent_awaits(fresh: Emulator) -> None:
    async def run() -> List[str]:
        client = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
        sandboxes = await asyncio.gather(*(client.sandboxes.get("sbx_fixture") for _ in range(50)))
        return [sb.id or "" for sb in sandboxes]

    assert asyncio.run(run()) == ["sbx_fixture"] * 50


def test_one_async_client_across_event_loops(fresh: Emulator) -> None:
    client = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
    for _ in range(3):
        assert asyncio.run(client.sandboxes.get("sbx_fixture")).id == "sbx_fixture"


# Python 3.12+ warns that forking a process with threads (here the client's I/O threads) is risky;
# surviving exactly that is what this test proves.
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_fork(fresh: Emulator, client: miosa_native.Client) -> None:
    aclient = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
    assert client.sandboxes.get("sbx_fixture").id == "sbx_fixture"
    assert asyncio.run(aclient.sandboxes.get("sbx_fixture")).id == "sbx_fixture"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ok_sync = client.sandboxes.get("sbx_fixture").id == "sbx_fixture"
            ok_async = asyncio.run(aclient.sandboxes.get("sbx_fixture")).id == "sbx_fixture"
            stream = client.sandbox.events.stream("sbx_fixture")
            ok_stream = next(stream).event == "sandbox.created"
            stream.close()
            code = 0 if ok_sync and ok_async and ok_stream else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert client.sandboxes.get("sbx_fixture").id == "sbx_fixture"


def test_extra_headers_query_body_reach_the_wire(fresh: Emulator, client: miosa_native.Client) -> None:
    def update() -> None:
        client.sandboxes.update(
            "sbx_fixture",
            name="renamed",
            extra_headers={"x-trace": "abc"},
            extra_query={"dry_run": "1"},
            extra_body={"future_field": {"x": 1}},
        )

    if os.environ.get("MIOSA_EMULATOR_STRICT") == "1":
        # A strict emulator refuses, by name, a field the API does not take.
        with pytest.raises(miosa_native.ValidationError, match="future_field"):
            update()
    else:
        update()
    request = fresh.last_request()
    assert request["headers"]["x-trace"] == "abc"
    assert request["query"] == {"dry_run": "1"}
    assert request["body"] == {"name": "renamed", "future_field": {"x": 1}}


def test_request_timeout_beside_a_table_timeout(fresh: Emulator, client: miosa_native.Client) -> None:
    # exec's own `timeout` is the command's limit; the HTTP limit is `request_timeout` there.
    fresh.fault(path="/sandboxes/sbx_fixture/exec", delay_ms=2000)
    with pytest.raises(miosa_native.APITimeoutError):
        client.sandbox.exec.run("sbx_fixture", command="true", timeout=30, request_timeout=0.3)
    assert fresh.last_request()["body"] == {"command": "true", "timeout": 30}


def test_clean_exit_right_after_awaits(fresh: Emulator) -> None:
    # Wakes from the I/O threads may race interpreter shutdown; exit must stay clean.
    script = textwrap.dedent(
        f"""
        import asyncio, miosa_native
        async def main():
            client = miosa_native.AsyncClient({fresh.api_key!r}, base_url={fresh.base_url!r})
            await asyncio.gather(*(client.sandboxes.get("sbx_fixture") for _ in range(20)))
        asyncio.run(main())
        """
    )
    for _ in range(15):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, (done.returncode, done.stderr)


def test_client_surface(fresh: Emulator) -> None:
    client = miosa_native.Client(fresh.api_key, base_url=fresh.base_url + "/")
    assert client.base_url == fresh.base_url
    assert fresh.api_key not in repr(client)
    os.environ["MIOSA_API_KEY"], os.environ["MIOSA_BASE_URL"] = fresh.api_key, fresh.base_url
    try:
        assert miosa_native.Client.from_env().sandboxes.get("sbx_fixture").id == "sbx_fixture"
        assert asyncio.run(miosa_native.AsyncClient.from_env().sandboxes.get("sbx_fixture")).id == "sbx_fixture"
    finally:
        del os.environ["MIOSA_API_KEY"], os.environ["MIOSA_BASE_URL"]
    with pytest.raises(miosa_native.InvalidArgumentError, match="MIOSA_API_KEY"):
        miosa_native.Client.from_env()

    async def closes() -> bool:
        async with miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0) as aclient:
            await aclient.sandboxes.get("sbx_fixture")
        return aclient.closed

    assert asyncio.run(closes())
