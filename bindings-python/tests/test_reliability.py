"""Reliability through the Python binding (issue #8), the same proof as
core/tests/reliability.rs: each fault the emulator injects, with retries on
(the call succeeds) and off (the right exception, with its attempts), one
sandbox created by a retried create, per-call and idle timeouts, a stream cut
five times delivering every event once and in order, and asyncio cancellation
freeing the connection as the server sees it.

Each test owns a fresh emulator (not the session one), so faults and counters
such as `abandoned` never leak in from other tests; backoff is 10 ms."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

import miosa_native

from conftest import EMULATOR_BIN, FIRST_LINE, REPO, Emulator

SANDBOX = "/sandboxes/sbx_fixture"


@pytest.fixture
def emu(tmp_path: Any) -> Iterator[Emulator]:
    """An emulator of this test's own."""
    log = tmp_path / "emulator.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(EMULATOR_BIN), "--port", "0"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            lines = log.read_text(errors="replace").splitlines()
            if lines:
                match = FIRST_LINE.match(lines[0])
                assert match, f"unexpected first line from the emulator: {lines[0]!r}"
                break
            assert process.poll() is None, f"the emulator exited: {log.read_text()}"
            assert time.monotonic() < deadline, "the emulator did not start within 30 s"
            time.sleep(0.01)
        yield Emulator(match.group(1), match.group(2), match.group(3), process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def plain(emu: Emulator, **options: Any) -> miosa_native.Client:
    """Retries off unless `options` turns them on."""
    options.setdefault("max_retries", 0)
    return miosa_native.Client(emu.api_key, base_url=emu.base_url, **options)


def retrying(emu: Emulator, max_attempts: int, max_delay: float = 0.05, **options: Any) -> miosa_native.Client:
    """Retries on: `max_attempts` attempts, 10 ms backoff base."""
    return plain(
        emu, max_retries=max_attempts - 1, retry_base_delay=0.01, retry_max_delay=max_delay, **options
    )


def log_for(emu: Emulator, path: str, method: Optional[str] = None) -> List[Dict[str, Any]]:
    """Recorded requests to exactly `/api/v1{path}` (and `method`, when given), oldest first."""
    full = f"/api/v1{path}"
    return [e for e in emu.requests(full) if e["path"] == full and (method is None or e["method"] == method)]


def stats_until(emu: Emulator, check: Callable[[Dict[str, Any]], bool], seconds: float = 5) -> Dict[str, Any]:
    """Polls the emulator's stats until `check` holds (or `seconds` pass); the last stats."""
    deadline = time.monotonic() + seconds
    seen = emu.stats()
    while not check(seen) and time.monotonic() < deadline:
        time.sleep(0.02)
        seen = emu.stats()
    return seen


# ------------------------------------------------------------------ 429 and 5xx


def test_429_with_retry_after_is_waited_for_and_retried(emu: Emulator) -> None:
    emu.fault(path=SANDBOX, method="GET", status=429, retry_after="1", body={"error": "slow down", "code": "RATE_LIMITED"})
    with retrying(emu, 3, max_delay=5) as client:
        started = time.monotonic()
        sandbox = client.sandboxes.get("sbx_fixture")
        waited = time.monotonic() - started
    assert sandbox.id == "sbx_fixture"
    assert 0.95 <= waited < 4, f"waited {waited:.2f} s for Retry-After: 1"
    assert [e["status"] for e in log_for(emu, SANDBOX, "GET")] == [429, 200]


def test_429_without_retries_is_a_rate_limit_error_carrying_retry_after(emu: Emulator) -> None:
    emu.fault(path=SANDBOX, method="GET", status=429, retry_after="7")
    with plain(emu) as client, pytest.raises(miosa_native.RateLimitError) as caught:
        client.sandboxes.get("sbx_fixture")
    err = caught.value
    assert (err.kind, err.status, err.retry_after, err.attempts) == ("rate_limited", 429, 7, 1)
    assert len(log_for(emu, SANDBOX, "GET")) == 1


def test_5xx_within_max_attempts_ends_in_success(emu: Emulator) -> None:
    emu.fault(path=SANDBOX, method="GET", status=503, times=2)
    with retrying(emu, 3) as client:
        assert client.sandboxes.get("sbx_fixture").id == "sbx_fixture"
    assert [e["status"] for e in log_for(emu, SANDBOX, "GET")] == [503, 503, 200]


def test_5xx_beyond_max_attempts_is_a_server_error_with_the_attempts(emu: Emulator) -> None:
    emu.fault(path=SANDBOX, method="GET", status=500, times=5)
    with retrying(emu, 3) as client, pytest.raises(miosa_native.ServerError) as caught:
        client.sandboxes.get("sbx_fixture")
    assert (caught.value.kind, caught.value.status, caught.value.attempts) == ("server", 500, 3)
    assert len(log_for(emu, SANDBOX, "GET")) == 3

    # Retries off: one attempt.
    with plain(emu) as client, pytest.raises(miosa_native.ServerError) as caught:
        client.sandboxes.get("sbx_fixture")
    assert caught.value.attempts == 1
    assert len(log_for(emu, SANDBOX, "GET")) == 4


def test_402_is_never_retried(emu: Emulator) -> None:
    emu.control("PUT", "/credits", {"balance": 0})
    with retrying(emu, 5) as client, pytest.raises(miosa_native.InsufficientCreditsError) as caught:
        client.sandboxes.create(name="no-credits")
    assert (caught.value.status, caught.value.code, caught.value.attempts) == (402, "INSUFFICIENT_CREDITS", 1)
    posts = log_for(emu, "/sandboxes", "POST")
    assert [e["status"] for e in posts] == [402], "exactly one request"


# ---------------------------------------------------------- mutations and keys


def test_a_create_hit_by_two_503s_creates_one_sandbox(emu: Emulator) -> None:
    emu.fault(path="/sandboxes", method="POST", status=503, times=2)
    with retrying(emu, 3) as client:
        created = client.sandboxes.create(name="retried")
    assert created.name == "retried"
    posts = log_for(emu, "/sandboxes", "POST")
    assert [e["status"] for e in posts][:2] == [503, 503] and len(posts) == 3
    assert 200 <= posts[2]["status"] < 300
    keys = {e["headers"].get("idempotency-key") for e in posts}
    assert len(keys) == 1 and None not in keys, f"one generated key on every attempt: {keys}"
    assert emu.stats()["created"]["sandbox"] == 1


def test_a_create_whose_answer_is_lost_is_replayed_not_repeated(emu: Emulator) -> None:
    emu.fault(path="/sandboxes", method="POST", reset_body=True)
    with retrying(emu, 3) as client:
        created = client.sandboxes.create(name="lost")
        posts = log_for(emu, "/sandboxes", "POST")
        assert len(posts) == 2 and posts[0]["fault"] == "reset_body"
        assert posts[0]["headers"]["idempotency-key"] == posts[1]["headers"]["idempotency-key"]
        assert [s.id for s in client.sandboxes.list() if s.name == "lost"] == [created.id]
    assert emu.stats()["created"]["sandbox"] == 1


def test_a_mutation_without_retries_is_sent_once(emu: Emulator) -> None:
    emu.fault(path="/computers/sbx_fixture/exec", status=503, times=3)
    with plain(emu) as client, pytest.raises(miosa_native.ServerError) as caught:
        client.exec.run("sbx_fixture", command="true")
    assert caught.value.attempts == 1
    log = log_for(emu, "/computers/sbx_fixture/exec")
    assert len(log) == 1 and "idempotency-key" not in log[0]["headers"]



# ------------------------------------------------- shared retry vectors

RETRY_VECTORS: List[Dict[str, Any]] = json.loads((REPO / "tests" / "retry" / "vectors.json").read_text())["vectors"]


@pytest.mark.parametrize(
    "vector",
    # With retries on every mutation carries a key, so a call can produce GETs and keyed POSTs.
    [v for v in RETRY_VECTORS if v["method"] == "GET" or v["idempotency_key"]],
    ids=lambda v: str(v["name"]),
)
def test_shared_retry_vectors(emu: Emulator, vector: Dict[str, Any]) -> None:
    client = retrying(emu, 2)
    if vector["method"] == "GET":
        path = SANDBOX
        call: Callable[[], object] = lambda: client.sandboxes.get("sbx_fixture")
    else:
        path = "/sandboxes"
        call = lambda: client.sandboxes.create(name="vector", idempotency_key="vector-key")  # noqa: E731
    emu.fault(method=vector["method"], path=path, status=vector["status"], body=vector["body"], times=1)
    if vector["retried"]:
        call()
    else:
        with pytest.raises(miosa_native.MiosaError) as caught:
            call()
        assert caught.value.status == vector["status"] and caught.value.attempts == 1
    sent = log_for(emu, path, vector["method"])
    assert len(sent) == (2 if vector["retried"] else 1), sent


def test_a_command_sent_while_the_sandbox_starts_waits_for_it(emu: Emulator) -> None:
    with retrying(emu, 30) as client:
        sb = client.sandboxes.create(name="fresh")
        out = client.sandbox.exec.run(sb.id, command="echo ready")
    assert out.stdout.strip() == "ready" and out.output == out.stdout
    log = log_for(emu, f"/sandboxes/{sb.id}/exec")
    assert log[0]["status"] == 409 and log[-1]["status"] == 200, log
    with plain(emu) as client:
        sb = client.sandboxes.create(name="fresh-too")
        with pytest.raises(miosa_native.ConflictError) as caught:
            client.sandbox.exec.run(sb.id, command="true")
    assert caught.value.code == "SANDBOX_STARTING" and caught.value.attempts == 1


# ------------------------------------------------------------ connection reset


def test_a_connection_reset(emu: Emulator) -> None:
    emu.fault(path=SANDBOX, method="GET", reset=True)
    with plain(emu) as client, pytest.raises(miosa_native.APIConnectionError) as caught:
        client.sandboxes.get("sbx_fixture")
    err = caught.value
    assert type(err) is miosa_native.APIConnectionError, "a connection error, not a timeout"
    assert (err.kind, err.status, err.attempts) == ("connection", None, 1)

    emu.fault(path=SANDBOX, method="GET", reset=True)
    with retrying(emu, 3) as client:
        assert client.sandboxes.get("sbx_fixture").id == "sbx_fixture"
    assert [e["status"] for e in log_for(emu, SANDBOX, "GET")] == [None, None, 200]


def test_a_body_cut_mid_way(emu: Emulator) -> None:
    emu.fault(path=SANDBOX, method="GET", reset_body=True)
    with plain(emu) as client, pytest.raises(miosa_native.APIConnectionError) as caught:
        client.sandboxes.get("sbx_fixture")
    assert caught.value.attempts == 1
    emu.fault(path=SANDBOX, method="GET", reset_body=True)
    with retrying(emu, 3) as client:
        assert client.sandboxes.get("sbx_fixture").id == "sbx_fixture"


# -------------------------------------------------------------------- timeouts


def test_a_stall_beyond_the_per_call_timeout_is_a_timeout_error_quickly(emu: Emulator) -> None:
    emu.fault(path=SANDBOX, method="GET", delay_ms=5000, times=3)
    with plain(emu) as client:
        started = time.monotonic()
        with pytest.raises(miosa_native.APITimeoutError) as caught:
            client.sandboxes.get("sbx_fixture", timeout=0.15)
        assert time.monotonic() - started < 1.5
        assert (caught.value.kind, caught.value.status) == ("timeout", None)

    # The client's receive timeout does the same.
    with plain(emu, timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(miosa_native.APITimeoutError):
            client.sandboxes.get("sbx_fixture")
        assert time.monotonic() - started < 1.5

    # Retries on: the stalled attempt is abandoned, the next one answers.
    with retrying(emu, 3) as client:
        assert client.sandboxes.get("sbx_fixture", timeout=0.2).id == "sbx_fixture"
    seen = stats_until(emu, lambda s: s["abandoned"] == 3)
    assert seen["abandoned"] == 3, f"the server saw each stalled call go: {seen}"


def test_the_per_call_timeout_of_an_operation_with_its_own_timeout(emu: Emulator) -> None:
    # exec.run's `timeout` is the command's limit; the HTTP limit is `request_timeout`.
    with plain(emu) as client, pytest.raises(miosa_native.APITimeoutError):
        client.exec.run("sbx_fixture", command="sleep 5", timeout=30, request_timeout=0.2)
    assert stats_until(emu, lambda s: s["abandoned"] == 1)["abandoned"] == 1


def test_the_operation_timeout_bounds_all_retries(emu: Emulator) -> None:
    # An endless 503 with (almost) endless retries: only the operation timeout ends the call.
    emu.fault(path=SANDBOX, method="GET", status=503, times=1000)
    with retrying(emu, 101, max_delay=0.04, operation_timeout=0.4) as client:
        started = time.monotonic()
        with pytest.raises(miosa_native.APITimeoutError) as caught:
            client.sandboxes.get("sbx_fixture")
        took = time.monotonic() - started
    assert 0.38 <= took < 1.5, f"took {took:.2f} s"
    assert (caught.value.kind, caught.value.status) == ("timeout", None)
    assert caught.value.attempts > 1
    assert len(log_for(emu, SANDBOX, "GET")) > 1, "several attempts"


# --------------------------------------------------------------------- streams


def test_a_stream_cut_five_times_delivers_every_event_once_in_order(emu: Emulator) -> None:
    emu.fault(path="/_emulator/stream", cut_after_events=7, times=5)
    with plain(emu) as client, client.stream_sse("/_emulator/stream", extra_query={"count": 50, "retry_ms": 10}) as stream:
        events = list(stream)
    assert [int(e.id or 0) for e in events] == list(range(1, 51))
    assert all(e.data == e.id for e in events)
    log = log_for(emu, "/_emulator/stream")
    assert [e["headers"].get("last-event-id") for e in log] == [None, "7", "14", "21", "28", "35"]
    assert [e.get("fault") for e in log[:5]] == ["cut_after_events"] * 5


def test_a_stream_cut_five_times_on_asyncio(emu: Emulator) -> None:
    emu.fault(path="/_emulator/stream", cut_after_events=4, times=5)

    async def run() -> List[str]:
        client = miosa_native.AsyncClient(emu.api_key, base_url=emu.base_url, max_retries=0)
        return [e.id or "" async for e in client.stream_sse("/_emulator/stream", extra_query={"count": 30, "retry_ms": 10})]

    assert asyncio.run(run()) == [str(n) for n in range(1, 31)]
    assert len(log_for(emu, "/_emulator/stream")) == 6


def test_a_stalled_stream_times_out_at_the_idle_limit(emu: Emulator) -> None:
    emu.fault(path="/_emulator/stream", stall_after_events=3, delay_ms=5000)
    seen: List[Optional[str]] = []
    with plain(emu, timeout=0.5) as client:
        stream = client.stream_sse("/_emulator/stream", extra_query={"count": 10})
        started = time.monotonic()
        with pytest.raises(miosa_native.APITimeoutError):
            for event in stream:
                seen.append(event.id)
        took = time.monotonic() - started
    assert seen == ["1", "2", "3"]
    assert 0.45 <= took < 2.5, took


# ---------------------------------------------------------------- cancellation


def test_cancelling_a_task_reading_a_stream_closes_it_on_the_server(emu: Emulator) -> None:
    async def run() -> None:
        client = miosa_native.AsyncClient(emu.api_key, base_url=emu.base_url, max_retries=0)
        ten = asyncio.Event()
        ids: List[str] = []

        async def read(with_block: bool) -> None:
            stream = client.stream_sse("/_emulator/stream", extra_query={"count": 100_000_000, "interval_ms": 5})
            if with_block:
                async with stream:
                    async for event in stream:
                        ids.append(event.id or "")
                        if len(ids) == 10:
                            ten.set()
            else:
                async for event in stream:
                    ids.append(event.id or "")
                    if len(ids) == 10:
                        ten.set()

        for with_block in (True, False):
            ids.clear()
            ten.clear()
            task = asyncio.ensure_future(read(with_block))
            await asyncio.wait_for(ten.wait(), timeout=10)
            assert emu.stats()["streams"]["open"] == 1
            task.cancel()
            # (No `pytest.raises` here: its traceback would keep the reader's frame, and so
            # the stream, alive.)
            try:
                await task
            except asyncio.CancelledError:
                pass
            assert task.cancelled()
            assert ids[:10] == [str(n) for n in range(1, 11)]
            del task
            after = await asyncio.get_running_loop().run_in_executor(
                None, lambda: stats_until(emu, lambda s: s["streams"]["open"] == 0)
            )
            assert after["streams"]["open"] == 0, f"async with={with_block}: {after}"

    asyncio.run(run())
    assert emu.stats()["streams"]["opened"] == 2


def test_leaving_a_loop_or_closing_a_stream_closes_it_on_the_server(emu: Emulator) -> None:
    with plain(emu) as client:
        for event in client.stream_sse("/_emulator/stream", extra_query={"count": 100_000_000}):
            if event.id == "10":
                break
        assert stats_until(emu, lambda s: s["streams"]["open"] == 0)["streams"]["open"] == 0
        stream = client.stream_sse("/_emulator/stream", extra_query={"count": 100_000_000})
        next(stream)
        assert emu.stats()["streams"]["open"] == 1
        stream.close()
        assert stream.closed
        assert stats_until(emu, lambda s: s["streams"]["open"] == 0)["streams"]["open"] == 0


def test_cancelling_a_call_in_flight_abandons_it_on_the_server(emu: Emulator) -> None:
    before = emu.stats()

    async def run() -> float:
        client = miosa_native.AsyncClient(emu.api_key, base_url=emu.base_url, max_retries=0)
        task = asyncio.ensure_future(client.exec.run("sbx_fixture", command="sleep 5"))
        answering = await asyncio.get_running_loop().run_in_executor(
            None, lambda: stats_until(emu, lambda s: s["in_flight"] == 1)
        )
        assert answering["in_flight"] == 1, "the server is answering the call"
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return started

    started = asyncio.run(run())
    after = stats_until(emu, lambda s: s["abandoned"] == 1 and s["in_flight"] == 0)
    assert (after["abandoned"], after["in_flight"]) == (1, 0), after
    assert after["exec_count"] == before["exec_count"], "the command never finished"
    assert time.monotonic() - started < 2
