"""Server-sent events through the binding: the shared parsing vectors, live
streams read and stopped (loop exit, close, callback), resumption after a cut,
and the same on AsyncClient."""

from __future__ import annotations

import asyncio
import json
import pathlib
import threading
import time
from typing import Any, Dict, List, Set

import pytest

import miosa_native
from miosa_native import Event, _native

from conftest import REPO, Emulator

VECTORS = json.loads((REPO / "tests" / "sse" / "vectors.json").read_text())["vectors"]


def as_dicts(events: List[Event]) -> List[Dict[str, Any]]:
    out = []
    for e in events:
        d: Dict[str, Any] = {"event": e.event, "data": e.data}
        if e.id is not None:
            d["id"] = e.id
        if e.retry is not None:
            d["retry"] = e.retry
        out.append(d)
    return out


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_sse_vectors(vector: Dict[str, Any]) -> None:
    raw = vector["input"].encode()
    expected = vector["expected"]
    assert as_dicts(_native.parse_sse([raw])) == expected
    assert as_dicts(_native.parse_sse([raw[i : i + 1] for i in range(len(raw))])) == expected
    for cut in range(len(raw) + 1):
        assert as_dicts(_native.parse_sse([raw[:cut], raw[cut:]])) == expected, cut


def test_event_object() -> None:
    event = Event("sandbox.ready", '{"ok": true}', "7")
    assert event.json() == {"ok": True}
    assert event.to_dict() == {"event": "sandbox.ready", "data": '{"ok": true}', "id": "7", "retry": None}
    assert event == Event("sandbox.ready", '{"ok": true}', "7")
    assert repr(event) == "Event(event='sandbox.ready', data='{\"ok\": true}', id='7', retry=None)"
    with pytest.raises(miosa_native.DecodeError):
        Event("message", "not json").json()


def test_read_and_stop_a_live_stream(client: miosa_native.Client) -> None:
    # The events stream of a sandbox stays open after its history: only stopping ends it.
    seen = []
    for event in client.sandbox.events.stream("sbx_fixture"):
        seen.append(event)
        if len(seen) == 2:
            break
    assert [e.event for e in seen] == ["sandbox.created", "sandbox.ready"]
    assert [e.id for e in seen] == ["1", "2"]
    assert seen[1].json()["sandbox_id"] == "sbx_fixture"


def open_connections(base_url: str) -> Set[int]:
    """Local ports of established client-side TCP connections to the emulator (from /proc/net/tcp)."""
    port = int(base_url.split(":")[2].split("/")[0])
    ports = set()
    for line in pathlib.Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == port and fields[3] == "01":
            ports.add(int(fields[1].split(":")[1], 16))
    return ports


def closes(base_url: str, ports: Set[int]) -> bool:
    deadline = time.monotonic() + 3
    while open_connections(base_url) & ports:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_leaving_the_loop_closes_the_connection(fresh: Emulator) -> None:
    # A client with no pooled connection yet, so the stream opens its own.
    client = miosa_native.Client(fresh.api_key, base_url=fresh.base_url, max_retries=0)
    before = open_connections(fresh.base_url)
    for event in client.sandbox.events.stream("sbx_fixture"):
        mine = open_connections(fresh.base_url) - before
        break
    assert event.id == "1" and len(mine) == 1
    assert closes(fresh.base_url, mine), "the stream's connection stayed open"

    async def run() -> None:
        aclient = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
        before = open_connections(fresh.base_url)
        async for _ in aclient.sandbox.events.stream("sbx_fixture"):
            mine = open_connections(fresh.base_url) - before
            break
        assert len(mine) == 1
        assert closes(fresh.base_url, mine), "the async stream's connection stayed open"

    asyncio.run(run())


def test_close_ends_the_stream(client: miosa_native.Client) -> None:
    with client.sandbox.events.stream("sbx_fixture") as stream:
        assert next(stream).event == "sandbox.created"
        assert not stream.closed
    assert stream.closed
    with pytest.raises(StopIteration):
        next(stream)


def test_close_from_another_thread_wakes_a_blocked_reader(client: miosa_native.Client) -> None:
    stream = client.sandbox.events.stream("sbx_fixture")
    got: List[Event] = []
    reader = threading.Thread(target=lambda: got.extend(stream), daemon=True)
    reader.start()
    time.sleep(0.5)
    assert reader.is_alive(), "the live stream ended by itself"
    stream.close()
    reader.join(timeout=3)
    assert not reader.is_alive()
    assert len(got) == 2


def test_callback_form(client: miosa_native.Client) -> None:
    seen: List[str] = []

    def on_event(event: Event) -> str:
        seen.append(event.event)
        return "stop" if len(seen) == 2 else "continue"

    started = time.monotonic()
    assert client.sandbox.events.stream("sbx_fixture", callback=on_event) is None
    assert seen == ["sandbox.created", "sandbox.ready"]
    assert time.monotonic() - started < 5

    with pytest.raises(miosa_native.InvalidArgumentError, match="stop"):
        client.sandbox.events.stream("sbx_fixture", callback=lambda e: "maybe")


def test_streams_that_end(client: miosa_native.Client) -> None:
    chunks = list(client.completions.stream(model="miosa-small", messages=[{"role": "user", "content": "hi"}]))
    assert chunks and all(c.data != "[DONE]" for c in chunks)
    assert "choices" in chunks[0].json()
    ready = list(client.stream_sse("/sandboxes/sbx_fixture/readiness/stream"))
    assert ready[-1].event == "ready"


def test_stream_errors_surface_on_open(client: miosa_native.Client) -> None:
    with pytest.raises(miosa_native.NotFoundError):
        client.sandbox.events.stream("sbx_missing")


def test_resumes_after_a_cut_without_loss_or_duplicates(fresh: Emulator, client: miosa_native.Client) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture/events", cut_after_events=1)
    with client.sandbox.events.stream("sbx_fixture") as stream:
        ids = [next(stream).id, next(stream).id]
    assert ids == ["1", "2"]
    opened = fresh.requests("/api/v1/sandboxes/sbx_fixture/events")
    assert len(opened) == 2
    assert opened[1]["headers"].get("last-event-id") == "1"


def test_async_streams(fresh: Emulator) -> None:
    async def run() -> None:
        client = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
        seen = []
        async for event in client.sandbox.events.stream("sbx_fixture"):
            seen.append(event.event)
            if len(seen) == 2:
                break
        assert seen == ["sandbox.created", "sandbox.ready"]

        async with client.sandbox.events.stream("sbx_fixture") as stream:
            assert (await stream.__anext__()).id == "1"
        assert stream.closed

        opened = await client.sandbox.events.stream("sbx_fixture")
        assert isinstance(opened, miosa_native.AsyncEventStream)
        opened.close()

        async def on_event(event: Event) -> str:
            return "stop"

        assert await client.sandbox.events.stream("sbx_fixture", callback=on_event) is None
        chunks = [c async for c in client.completions.stream(model="m", messages=[{"role": "user", "content": "hi"}])]
        assert chunks

        with pytest.raises(miosa_native.NotFoundError):
            async for _ in client.sandbox.events.stream("sbx_missing"):
                pass

        # Cancelling a pending read leaves the stream usable.
        async with client.sandbox.events.stream("sbx_fixture") as live:
            await live.__anext__()
            await live.__anext__()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(live.__anext__(), timeout=0.3)
            assert not live.closed

    asyncio.run(run())
