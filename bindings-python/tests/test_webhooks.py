"""Webhook signature verification with the shared vectors."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterator, Mapping, Optional

import pytest

from miosa_native import InvalidArgumentError, WebhookVerificationError, webhooks

from conftest import REPO

V = json.loads((REPO / "tests" / "webhooks" / "signature_vectors.json").read_text())
BODY = V["body"].encode()


def code_of(payload: bytes, header: str, **kw: int) -> str:
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(payload, header, V["secret"], **kw)
    assert isinstance(info.value, ValueError)
    return info.value.code or ""


def test_current_scheme() -> None:
    assert V["current_scheme"]["valid"]
    webhooks.verify(BODY, V["current_scheme"]["header"], V["secret"])
    webhooks.verify(V["body"], V["current_scheme"]["header"], V["secret"])
    assert code_of(BODY + b" ", V["current_scheme"]["header"]) == "invalid_signature"
    assert code_of(BODY, V["wrong_secret_header"]) == "invalid_signature"


def test_legacy_scheme() -> None:
    legacy = V["legacy_scheme"]
    webhooks.verify(BODY, legacy["header"], V["secret"], now=legacy["valid_when_now_is"])
    assert code_of(BODY, legacy["header"], now=legacy["too_old_when_now_is"]) == "timestamp_too_old"
    webhooks.verify(BODY, legacy["header"], V["secret"], now=legacy["too_old_when_now_is"], tolerance=3600)


@pytest.mark.parametrize("header", V["malformed_headers"])
def test_malformed(header: str) -> None:
    assert code_of(BODY, header) == "malformed_header"


def test_header_name() -> None:
    assert webhooks.SIGNATURE_HEADER == V["header_name"]


def seconds(value: Any) -> Optional[float]:
    """A vector's `now`/`tolerance`: a number, or the name of a non-finite float."""
    return None if value is None else float(value)


def assert_refused(call: Callable[[], object], expect: Dict[str, str]) -> None:
    if expect["error"] == "invalid_argument":
        with pytest.raises(InvalidArgumentError) as arg:
            call()
        assert not isinstance(arg.value, WebhookVerificationError)
        assert expect["parameter"] in str(arg.value)
    else:
        with pytest.raises(WebhookVerificationError) as ver:
            call()
        assert ver.value.code == expect["code"]


@pytest.mark.parametrize("case", V["bad_input"], ids=[c["name"] for c in V["bad_input"]])
def test_bad_input(case: Dict[str, Any]) -> None:
    kw: Dict[str, Optional[float]] = {k: seconds(case[k]) for k in ("now", "tolerance") if k in case}
    assert_refused(lambda: webhooks.verify(BODY, case["signature"], case["secret"], **kw), case["expect"])
    if case["signature"] is not None:
        headers = {"x-miosa-signature": case["signature"]}
    else:
        headers = {}
    assert_refused(lambda: webhooks.unwrap(BODY, headers, case["secret"], **kw), case["expect"])


@pytest.mark.parametrize("form", [bytes, bytearray, memoryview, lambda b: b.decode()])
def test_payload_forms(form: Callable[[bytes], Any]) -> None:
    webhooks.verify(form(BODY), V["current_scheme"]["header"], V["secret"])
    headers = {"X-MIOSA-Signature": V["current_scheme"]["header"]}
    assert webhooks.unwrap(form(BODY), headers, V["secret"]) == V["unwrap"]["event"]


def test_parsed_payload_is_an_argument_error() -> None:
    expect = V["payload_forms"]["parsed_payload_expect"]
    parsed = json.loads(V["body"])
    assert_refused(lambda: webhooks.verify(parsed, V["current_scheme"]["header"], V["secret"]), expect)
    headers = {"x-miosa-signature": V["current_scheme"]["header"]}
    assert_refused(lambda: webhooks.unwrap(parsed, headers, V["secret"]), expect)
    assert_refused(lambda: webhooks.verify(None, V["current_scheme"]["header"], V["secret"]), expect)  # type: ignore[arg-type]


def test_wrong_types_are_argument_errors() -> None:
    header = V["current_scheme"]["header"]
    with pytest.raises(InvalidArgumentError, match="secret"):
        webhooks.verify(BODY, header, 12345)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="now"):
        webhooks.verify(BODY, header, V["secret"], now="x")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="headers"):
        webhooks.unwrap(BODY, [("x-miosa-signature", header)], V["secret"])  # type: ignore[arg-type]


def test_unwrap_vectors() -> None:
    u = V["unwrap"]
    for headers in u["valid_headers"]:
        assert webhooks.unwrap(BODY, headers, V["secret"]) == u["event"]
    for case in u["refused"]:
        body, headers = case["body"], case["headers"]
        assert_refused(lambda: webhooks.unwrap(body, headers, V["secret"]), case["expect"])


def test_unwrap_takes_any_headers_mapping() -> None:
    class Headers(Mapping[str, str]):
        """A framework-style case-preserving header object."""

        def __init__(self, items: Dict[str, str]) -> None:
            self._items = items

        def __getitem__(self, key: str) -> str:
            return self._items[key]

        def __iter__(self) -> Iterator[str]:
            return iter(self._items)

        def __len__(self) -> int:
            return len(self._items)

    headers = Headers({"X-Miosa-Signature": V["current_scheme"]["header"]})
    assert webhooks.unwrap(BODY, headers, V["secret"]) == V["unwrap"]["event"]
