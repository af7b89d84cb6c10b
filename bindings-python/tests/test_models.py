"""Typed models: attribute access for known fields, unknown fields kept and
reachable, read-only, `to_dict()`, and a repr that hides credentials."""

from __future__ import annotations

import pickle

import pytest

import miosa_native
from miosa_native import Model, PreviewToken, Sandbox


def test_known_and_unknown_fields() -> None:
    sb = Sandbox({"id": "sbx_1", "state": "hibernating", "brand_new": {"x": 1}})
    assert sb.id == "sbx_1" and sb.state == "hibernating"
    assert sb.name is None, "a known field the server did not send is None"
    assert sb.brand_new == {"x": 1}
    assert sb["brand_new"] == {"x": 1} and sb.get("missing", 5) == 5
    assert "brand_new" in sb and "missing" not in sb
    assert "brand_new" in dir(sb)
    with pytest.raises(AttributeError):
        sb.missing  # noqa: B018 - the access itself is the test
    with pytest.raises(KeyError):
        sb["missing"]


def test_read_only_and_copies() -> None:
    sb = Sandbox(id="sbx_1", metadata={"a": 1})
    with pytest.raises(AttributeError, match="read-only"):
        sb.id = "other"  # type: ignore[misc]
    copy = sb.to_dict()
    copy["metadata"]["a"] = 2
    assert sb.metadata == {"a": 1}
    assert sb == Sandbox({"id": "sbx_1", "metadata": {"a": 1}})
    assert sb != Sandbox({"id": "sbx_2"})
    assert pickle.loads(pickle.dumps(sb)) == sb
    assert isinstance(sb, Model)


def test_repr_hides_credentials() -> None:
    token = PreviewToken({"token": "mp_secret_value", "scope": "read", "extra": {"api_key": "msk_zzz", "n": 1}})
    shown = repr(token)
    assert "mp_secret_value" not in shown and "msk_zzz" not in shown
    assert "scope='read'" in shown and "'n': 1" in shown
    assert token.token == "mp_secret_value", "hidden from repr, not from the program"


def test_models_from_the_api(client: miosa_native.Client) -> None:
    sb = client.sandboxes.get("sbx_fixture")
    assert type(sb) is Sandbox and sb.id == "sbx_fixture"
    assert isinstance(sb.tags, list) and isinstance(sb.cpu_count, int) and isinstance(sb.ready, bool)
    # Fields the table's model lacks stay reachable.
    assert sb.to_dict()["resource_contract"] == sb.resource_contract
    listed = client.sandboxes.list()
    assert listed and all(type(s) is Sandbox for s in listed)
    raw = client.sandbox.env.list("sbx_fixture")
    assert isinstance(raw, (dict, list)), "operations without a stable schema return plain JSON"
    png = client.desktop.screenshot("cmp_fixture")
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
