"""The client contract: settings and per-call options as the core checks them
(the shared vectors in tests/settings), the environment, retries on by default,
explicit nulls, and secrets kept out of every text."""

from __future__ import annotations

import json
import math
import os
import pathlib
from typing import Any, Dict, Iterator

import pytest

import miosa_native
from conftest import Emulator

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "tests" / "settings"


def native_value(value: Any) -> Any:
    """A vector value as Python has it: tags become NaN, huge ints, functions."""
    if isinstance(value, dict):
        if len(value) == 1:
            (tag, inner), = value.items()
            if tag == "$float":
                return float(inner)
            if tag == "$int":
                return int(inner)
            if tag == "$type":
                return lambda: None
        return {k: native_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [native_value(v) for v in value]
    return value


def same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, (int, float)) and math.isclose(expected, actual, abs_tol=1e-9)
    return bool(expected == actual)


def check(case: Dict[str, Any], outcome: Any, key: str) -> None:
    expect = case["expect"]
    if key in expect:
        assert not isinstance(outcome, BaseException), f"{case['name']}: refused: {outcome}"
        for name, want in expect[key].items():
            assert same(want, outcome[name]), f"{case['name']}: {name} is {outcome[name]!r}, expected {want!r}"
        return
    error = expect["error"]
    assert isinstance(outcome, miosa_native.InvalidArgumentError), f"{case['name']}: {outcome!r}"
    assert outcome.kind == error["kind"]
    assert f"`{error['param']}`" in outcome.message, f"{case['name']}: {outcome.message}"
    for text in error.get("message_includes", []):
        assert text in outcome.message, f"{case['name']}: {outcome.message}"
    for text in error.get("message_excludes", []):
        assert text not in outcome.message and text not in repr(outcome), f"{case['name']}: {outcome.message}"


@pytest.fixture
def clean_env() -> Iterator[None]:
    saved = {k: os.environ.pop(k) for k in ("MIOSA_API_KEY", "MIOSA_BASE_URL") if k in os.environ}
    yield
    os.environ.update(saved)


def load(name: str) -> Dict[str, Any]:
    return json.loads((VECTORS / name).read_text())


@pytest.mark.parametrize("case", load("client.json")["cases"], ids=lambda c: c["name"])
def test_client_settings_vectors(case: Dict[str, Any], clean_env: None) -> None:
    try:
        outcome: Any = miosa_native.Client(**native_value(case["input"])).settings
    except miosa_native.MiosaError as err:
        outcome = err
    check(case, outcome, "settings")


@pytest.mark.parametrize("case", load("call_options.json")["cases"], ids=lambda c: c["name"])
def test_call_option_vectors(case: Dict[str, Any]) -> None:
    client = miosa_native.Client("msk_u_vectors", base_url="http://127.0.0.1:9/api/v1")
    given = native_value(case["input"])
    known = {"extra_headers", "extra_query", "extra_body", "timeout", "max_response_bytes"}
    if set(given) - known:
        # The generated methods take these options as keywords: Python itself refuses another name.
        with pytest.raises(TypeError, match=case["expect"]["error"]["param"]):
            client.sandboxes.get("sbx_fixture", **given)
        return
    try:
        outcome: Any = client._native.call_options(**given)
    except miosa_native.MiosaError as err:
        outcome = err
    check(case, outcome, "options")


def test_the_environment_configures_a_bare_client(fresh: Emulator, clean_env: None) -> None:
    with pytest.raises(miosa_native.InvalidArgumentError, match="MIOSA_API_KEY"):
        miosa_native.Client()
    os.environ["MIOSA_API_KEY"], os.environ["MIOSA_BASE_URL"] = fresh.api_key, fresh.base_url
    assert miosa_native.Client().sandboxes.get("sbx_fixture").id == "sbx_fixture"
    assert miosa_native.AsyncClient().base_url == fresh.base_url
    # An explicit argument wins over the environment.
    other = miosa_native.Client(base_url="http://127.0.0.1:9/api/v1")
    assert other.base_url == "http://127.0.0.1:9/api/v1"
    os.environ["MIOSA_BASE_URL"] = "ftp://nowhere"
    with pytest.raises(miosa_native.InvalidArgumentError, match="MIOSA_BASE_URL"):
        miosa_native.Client()


def test_retries_are_on_by_default(fresh: Emulator) -> None:
    client = miosa_native.Client(fresh.api_key, base_url=fresh.base_url, retry_base_delay=0.01)
    assert client.settings["max_retries"] == 2
    before = len(client.sandboxes.list())
    fresh.fault(path="/sandboxes", method="POST", status=503, times=1)
    created = client.sandboxes.create(name="absorbed")
    posts = [e for e in fresh.requests("/api/v1/sandboxes") if e["method"] == "POST"]
    assert [e["status"] for e in posts[-2:]] == [503, 200] or [e["status"] for e in posts[-2:]] == [503, 201]
    keys = {e["headers"].get("idempotency-key") for e in posts[-2:]}
    assert len(keys) == 1 and None not in keys, keys
    assert len(client.sandboxes.list()) == before + 1 and created.name == "absorbed"


def test_an_explicit_none_reaches_the_wire_as_null(fresh: Emulator, client: miosa_native.Client) -> None:
    client.sandboxes.update("sbx_fixture", slug=None, tags=["a"])
    assert fresh.last_request()["body"] == {"slug": None, "tags": ["a"]}
    client.sandboxes.update("sbx_fixture", tags=["b"], extra_body={"name": None})
    assert fresh.last_request()["body"] == {"tags": ["b"], "name": None}
    assert repr(miosa_native.NOT_GIVEN) == "NOT_GIVEN" and not miosa_native.NOT_GIVEN


def test_plain_http_to_a_remote_host_needs_the_opt_in(clean_env: None) -> None:
    with pytest.raises(miosa_native.InvalidArgumentError, match="allow_insecure_http"):
        miosa_native.Client("msk_u_x", base_url="http://api.example.com/v1")
    client = miosa_native.Client("msk_u_x", base_url="http://api.example.com/v1", allow_insecure_http=True)
    assert client.settings["allow_insecure_http"] is True


def test_no_secret_in_repr_or_errors(clean_env: None) -> None:
    client = miosa_native.Client("msk_u_x", base_url="https://user:hunter2@api.example.com/v1")
    for text in (repr(client), repr(client._native), client.base_url, json.dumps(client.settings)):
        assert "hunter2" not in text and "msk_u_x" not in text, text
    with pytest.raises(miosa_native.InvalidArgumentError) as info:
        miosa_native.Client("msk_u_x", base_url="https://api.example.com/v1?token=tok_secret")
    assert "tok_secret" not in str(info.value)
    refused = miosa_native.Client("msk_u_x", base_url="http://user:pw_secret@127.0.0.1:9/api/v1", max_retries=0)
    with pytest.raises(miosa_native.APIConnectionError) as failed:
        refused.sandboxes.get("sbx_fixture", extra_query={"token": "tok_query_secret"})
    assert "pw_secret" not in str(failed.value) and "tok_query_secret" not in str(failed.value)
