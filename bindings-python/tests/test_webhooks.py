"""Webhook signature verification with the shared vectors."""

from __future__ import annotations

import json

import pytest

from miosa_native import WebhookVerificationError, webhooks

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
