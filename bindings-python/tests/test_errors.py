"""Every error class, provoked against the emulator (real error bodies, and
injected faults for 429/5xx/timeouts/resets), on Client and AsyncClient; the
shared error-body vectors; bad input refused before the network; panics."""

from __future__ import annotations

import asyncio
import json
import pickle
import time
from typing import Any, Callable, Type

import pytest

import miosa_native
from miosa_native import _native, errors

from conftest import REPO, Emulator

ERROR_CASES = json.loads((REPO / "tests" / "errors" / "cases.json").read_text())["cases"]


def provoke(fresh: Emulator, status: int) -> Callable[[Any], Any]:
    """Sets the emulator up and returns a call (sync or async client) that fails with `status`."""
    if status == 401:
        return lambda c: type(c)("msk_wrong_key", base_url=fresh.base_url).sandboxes.get("sbx_fixture")
    if status == 402:
        fresh.control("PUT", "/credits", {"balance": 0})
        return lambda c: c.sandboxes.create(name="no-credits")
    if status == 403:
        return lambda c: c.admin.tenants.list()
    if status == 404:
        return lambda c: c.sandboxes.get("sbx_does_not_exist")
    if status == 409:
        # The variable exists after the first create.
        return lambda c: c.computer.env.create("cmp_fixture", name="DUP", value="1")
    if status == 422:
        return lambda c: c.sandbox.exec.run("sbx_fixture", command="true", timeout=-1)
    fresh.fault(path="/sandboxes/sbx_fixture", status=status, retry_after=7, times=2)
    return lambda c: c.sandboxes.get("sbx_fixture")


STATUS_CLASSES = [
    (401, miosa_native.AuthenticationError, "UNAUTHORIZED"),
    (402, miosa_native.InsufficientCreditsError, "INSUFFICIENT_CREDITS"),
    (403, miosa_native.PermissionDeniedError, "FORBIDDEN"),
    (404, miosa_native.NotFoundError, "NOT_FOUND"),
    (409, miosa_native.ConflictError, "ALREADY_EXISTS"),
    (422, miosa_native.ValidationError, "VALIDATION_FAILED"),
    (429, miosa_native.RateLimitError, "INJECTED_FAULT"),
    (500, miosa_native.ServerError, "INJECTED_FAULT"),
    (503, miosa_native.ServerError, "INJECTED_FAULT"),
]


def check_status_error(err: miosa_native.MiosaError, cls: Type[Exception], status: int, code: str) -> None:
    assert type(err) is cls
    assert isinstance(err, miosa_native.APIStatusError) and isinstance(err, miosa_native.MiosaError)
    assert err.status == status
    assert err.code == code
    assert err.message and err.message in str(err) and f"status {status}" in str(err)
    assert err.request_id and err.request_id.startswith("req_")
    assert isinstance(err.body, dict)
    assert "msk_" not in str(err) and "msk_" not in repr(err)
    if status == 429:
        assert err.retry_after == 7.0
    # Exceptions survive pickling with every field (multiprocessing, logging handlers).
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and back.status == status and back.code == code and back.body == err.body


@pytest.mark.parametrize(("status", "cls", "code"), STATUS_CLASSES)
def test_status_errors(fresh: Emulator, client: miosa_native.Client, status: int, cls: Type[Exception], code: str) -> None:
    call = provoke(fresh, status)
    if status == 409:
        call(client)
    with pytest.raises(cls) as info:
        call(client)
    check_status_error(info.value, cls, status, code)


@pytest.mark.parametrize(("status", "cls", "code"), STATUS_CLASSES)
def test_status_errors_async(fresh: Emulator, status: int, cls: Type[Exception], code: str) -> None:
    call = provoke(fresh, status)

    async def run() -> miosa_native.MiosaError:
        client = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
        if status == 409:
            await call(client)
        try:
            await call(client)
        except miosa_native.MiosaError as err:
            return err
        raise AssertionError("no error")

    check_status_error(asyncio.run(run()), cls, status, code)


def test_timeout(fresh: Emulator, client: miosa_native.Client) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture", delay_ms=3000)
    started = time.monotonic()
    with pytest.raises(miosa_native.APITimeoutError) as info:
        client.sandboxes.get("sbx_fixture", timeout=0.3)
    assert time.monotonic() - started < 2
    assert isinstance(info.value, miosa_native.APIConnectionError)
    assert info.value.status is None and info.value.kind == "timeout"


def test_timeout_of_the_client(fresh: Emulator) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture", delay_ms=3000)
    slow = miosa_native.Client(fresh.api_key, base_url=fresh.base_url, timeout=0.3, max_retries=0)
    with pytest.raises(miosa_native.APITimeoutError):
        slow.sandboxes.get("sbx_fixture")


def test_connection_reset(fresh: Emulator, client: miosa_native.Client) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture", reset=True)
    with pytest.raises(miosa_native.APIConnectionError) as info:
        client.sandboxes.get("sbx_fixture")
    assert type(info.value) is miosa_native.APIConnectionError and info.value.status is None


def test_connection_refused() -> None:
    # Port 9 (discard) is closed on loopback here.
    client = miosa_native.Client("msk_test_x", base_url="http://127.0.0.1:9/api/v1", max_retries=0)
    with pytest.raises(miosa_native.APIConnectionError) as info:
        client.sandboxes.get("sbx_fixture")
    assert info.value.kind == "connection"


def test_timeout_async(fresh: Emulator) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture", delay_ms=3000)

    async def run() -> None:
        client = miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
        with pytest.raises(miosa_native.APITimeoutError):
            await client.sandboxes.get("sbx_fixture", timeout=0.3)

    asyncio.run(run())


def test_retry_policy_recovers_from_transient_failures(fresh: Emulator) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture", status=503, times=2)
    client = miosa_native.Client(
        fresh.api_key, base_url=fresh.base_url, max_retries=2, retry_base_delay=0.01, retry_max_delay=0.05
    )
    assert client.sandboxes.get("sbx_fixture").id == "sbx_fixture"
    assert len(fresh.requests("/api/v1/sandboxes/sbx_fixture")) == 3


def test_retries_give_up_with_the_attempt_count(fresh: Emulator) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture", status=500, times=5)
    client = miosa_native.Client(fresh.api_key, base_url=fresh.base_url, max_retries=1, retry_base_delay=0.01)
    with pytest.raises(miosa_native.ServerError) as info:
        client.sandboxes.get("sbx_fixture")
    assert info.value.attempts == 2


def test_max_retries_zero_turns_retries_off(fresh: Emulator, client: miosa_native.Client) -> None:
    fresh.fault(path="/sandboxes/sbx_fixture", status=503, times=1)
    with pytest.raises(miosa_native.ServerError):
        client.sandboxes.get("sbx_fixture")
    assert len(fresh.requests("/api/v1/sandboxes/sbx_fixture")) == 1


def test_bad_input_is_refused_before_the_network(fresh: Emulator, client: miosa_native.Client) -> None:
    before = fresh.stats()["requests"]
    with pytest.raises(miosa_native.InvalidArgumentError) as info:
        miosa_native.Client("sk_not_a_miosa_key")
    assert isinstance(info.value, ValueError) and "msk_" in info.value.message
    assert "sk_not_a_miosa_key" not in str(info.value)
    with pytest.raises(ValueError, match="must not be empty"):
        client.sandboxes.get("")
    with pytest.raises(TypeError, match="cannot send a value of type `object`"):
        client.sandboxes.get(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be an integer"):
        client.sandbox.processes.logs("sbx_fixture", "1", "ten")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.sandboxes.get("a", "b")  # type: ignore[call-arg]
    with pytest.raises(miosa_native.InvalidArgumentError, match="positive"):
        client.sandboxes.get("sbx_fixture", timeout=-1)
    with pytest.raises(miosa_native.InvalidArgumentError, match="header"):
        client.sandboxes.get("sbx_fixture", extra_headers={"bad header": "x"})
    with pytest.raises(miosa_native.InvalidArgumentError, match="NaN"):
        client.sandboxes.update("sbx_fixture", metadata={"x": float("nan")})
    assert fresh.stats()["requests"] == before


def test_closed_client(fresh: Emulator) -> None:
    client = miosa_native.Client(fresh.api_key, base_url=fresh.base_url, max_retries=0)
    with client:
        client.sandboxes.get("sbx_fixture")
    assert client.closed and "closed" in repr(client)
    with pytest.raises(miosa_native.UsageError, match="closed"):
        client.sandboxes.get("sbx_fixture")


def test_a_rust_panic_is_a_miosa_error() -> None:
    with pytest.raises(miosa_native.MiosaError) as info:
        _native._panic_for_tests("boom")
    assert type(info.value) is miosa_native.InternalError
    assert info.value.kind == "internal" and "boom" in info.value.message


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["name"] for c in ERROR_CASES])
def test_error_body_vectors(case: Any) -> None:
    if "body_file" in case:
        body = (REPO / "tests" / "errors" / case["body_file"]).read_bytes()
    else:
        body = case["body"].encode()
    headers = {k.lower(): v for k, v in case.get("headers", {}).items()}
    retry_after = float(headers["retry-after"]) if "retry-after" in headers else None
    err = _native.error_from_response(case["status"], body, headers.get("x-request-id"), retry_after)
    assert isinstance(err, miosa_native.MiosaError)
    expect = case["expect"]
    assert err.kind == expect["kind"]
    assert type(err) is errors._BY_KIND[expect["kind"]]
    for field in ("message", "code", "request_id"):
        if field in expect:
            assert getattr(err, field) == expect[field], field
    if "retry_after_ms" in expect:
        assert err.retry_after is not None and round(err.retry_after * 1000) == expect["retry_after_ms"]


def test_every_kind_has_a_class() -> None:
    kinds = {case["expect"]["kind"] for case in ERROR_CASES}
    assert kinds <= set(errors._BY_KIND)
    for kind, cls in errors._BY_KIND.items():
        err = errors._from_native(kind, "m", None, None, None, None, None, 1)
        assert isinstance(err, miosa_native.MiosaError)
        assert type(err) is (miosa_native.MiosaError if cls is miosa_native.APIStatusError else cls)
    assert issubclass(miosa_native.InvalidArgumentError, ValueError)
    assert issubclass(miosa_native.InvalidArgumentError, TypeError)
    assert issubclass(miosa_native.WebhookVerificationError, ValueError)
