"""The table-driven walk (`tests/calls.json`): every operation of the table,
called through the generated namespaces on `Client` and on `AsyncClient`,
checked for a decoded result and against the request the emulator recorded."""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any, Callable, Dict, List, Tuple

import pytest

import miosa_native
from miosa_native import _native

from conftest import REPO, Emulator

CALLS = json.loads((REPO / "tests" / "calls.json").read_text())
OPS = {op["name"]: op for op in _native.operations()}
SEED_OPS = sorted(name for name, op in OPS.items() if op["seed"])


def resolve(client: Any, op_name: str) -> Callable[..., Any]:
    target = client
    for part in op_name.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


def decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$bytes"}:
        return value["$bytes"].encode()
    return value


def call_values(entry: Dict[str, Any], fn: Callable[..., Any]) -> Tuple[List[Any], Dict[str, Any]]:
    op = OPS[entry["op"]]
    missing = [name for name in op["positional"] if name not in entry["args"]]
    assert not missing, f"{entry['op']}: calls.json lacks positional {missing}"
    args = [decode(entry["args"][name]) for name in op["positional"]]
    accepted = inspect.signature(fn).parameters
    params = {k: decode(v) for k, v in entry["params"].items() if k in accepted}
    # A field the table does not model still reaches the server, as a user would send it.
    extra = {k: decode(v) for k, v in entry["params"].items() if k not in accepted}
    if extra:
        params["extra_body" if op["method"] in ("POST", "PUT", "PATCH") else "extra_query"] = extra
    return args, params


def check_result(entry: Dict[str, Any], result: Any) -> None:
    op = OPS[entry["op"]]
    kind, model = op["returns"], op["model"]
    if kind == "model":
        assert isinstance(result, getattr(miosa_native, model)), type(result)
    elif kind == "list":
        assert isinstance(result, list)
        item_type = str if model == "str" else getattr(miosa_native, model)
        assert all(isinstance(item, item_type) for item in result)
    elif kind == "page":
        assert isinstance(result, miosa_native.Page)
        assert isinstance(result.items, list)
        if model != "json":
            assert all(isinstance(item, getattr(miosa_native, model)) for item in result.items)
    elif kind == "bytes":
        assert isinstance(result, bytes) and result, "expected non-empty bytes"
    elif kind == "bool":
        assert result is True
    elif kind == "json":
        assert not isinstance(result, (bytes, miosa_native.EventStream))
    elif kind == "socket":
        assert isinstance(result, (miosa_native.Socket, miosa_native.AsyncSocket))
        assert result.frames == model
        result.close()
    else:
        raise AssertionError(f"unexpected result kind {kind}")


def check_request(entry: Dict[str, Any], request: Dict[str, Any]) -> None:
    expect = entry["expect"]
    assert request["method"] == expect["method"]
    assert request["path"] == expect["path"]
    # A WebSocket operation answers its upgrade with 101.
    assert 200 <= request["status"] < 300 or (entry.get("socket") and request["status"] == 101), request
    if "query_keys" in expect:
        assert set(expect["query_keys"]) <= set(request["query"]), request["query"]
    if "body_keys" in expect:
        assert isinstance(request["body"], dict), request
        assert sorted(request["body"]) == sorted(expect["body_keys"]), request["body"]
    if "content_type" in expect:
        assert request["headers"].get("content-type") == expect["content_type"]


def report(capsys: pytest.CaptureFixture[str], label: str, passed: List[str], failures: List[str]) -> None:
    covered = {entry["op"] for entry in CALLS}
    missing = sorted(set(OPS) - covered)
    seed_done = len([name for name in passed if name in SEED_OPS])
    with capsys.disabled():
        print(f"\n{label}: {seed_done}/{len(SEED_OPS)} seed operations ({len(passed)}/{len(OPS)} table operations)")
    assert not missing, f"operations without a calls.json entry: {missing}"
    assert not failures, "\n".join(failures)
    assert seed_done == len(SEED_OPS) == 169


def test_every_operation_sync(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    emulator.reset()
    user = miosa_native.Client(emulator.api_key, base_url=emulator.base_url, max_retries=0)
    admin = miosa_native.Client(emulator.admin_key, base_url=emulator.base_url, max_retries=0)
    passed: List[str] = []
    failures: List[str] = []
    for entry in CALLS:
        client = admin if entry.get("auth") == "admin" else user
        try:
            method = resolve(client, entry["op"])
            args, params = call_values(entry, method)
            result = method(*args, **params)
            if OPS[entry["op"]]["returns"] == "events":
                with result:
                    events = list(result) if entry.get("stream") == "to_end" else [next(result)]
                assert events, "the stream ended without an event"
                assert isinstance(events[0], miosa_native.Event)
            else:
                check_result(entry, result)
            check_request(entry, emulator.last_request())
            passed.append(entry["op"])
        except Exception as exc:  # noqa: BLE001 - every failure is collected and reported
            failures.append(f"{entry['op']}: {type(exc).__name__}: {exc}")
    report(capsys, "sync walk", passed, failures)


def test_every_operation_async(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    emulator.reset()

    async def walk() -> Tuple[List[str], List[str]]:
        user = miosa_native.AsyncClient(emulator.api_key, base_url=emulator.base_url, max_retries=0)
        admin = miosa_native.AsyncClient(emulator.admin_key, base_url=emulator.base_url, max_retries=0)
        passed: List[str] = []
        failures: List[str] = []
        for entry in CALLS:
            client = admin if entry.get("auth") == "admin" else user
            try:
                method = resolve(client, entry["op"])
                args, params = call_values(entry, method)
                if OPS[entry["op"]]["returns"] == "events":
                    async with method(*args, **params) as stream:
                        if entry.get("stream") == "to_end":
                            events = [event async for event in stream]
                        else:
                            events = [await stream.__anext__()]
                    assert events, "the stream ended without an event"
                    assert isinstance(events[0], miosa_native.Event)
                else:
                    check_result(entry, await method(*args, **params))
                check_request(entry, emulator.last_request())
                passed.append(entry["op"])
            except Exception as exc:  # noqa: BLE001 - every failure is collected and reported
                failures.append(f"{entry['op']}: {type(exc).__name__}: {exc}")
        return passed, failures

    passed, failures = asyncio.run(walk())
    report(capsys, "async walk", passed, failures)
