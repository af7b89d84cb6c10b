"""Typed models: a typed property per field of the model table, unknown fields
in `extra` (no catch-all attribute), read-only, `to_dict()`/`to_json()`, equality,
pickling, and a repr that hides what the table marks secret or token-carrying."""

from __future__ import annotations

import json
import pickle
import tomllib
from typing import Any, Dict

import pytest

import miosa_native
from miosa_native import EnvUpdate, ExecResult, Model, Publication, Sandbox

from conftest import REPO

MODELS = tomllib.loads((REPO / "core" / "models.toml").read_text())


def test_known_and_unknown_fields() -> None:
    sb = Sandbox({"id": "sbx_1", "state": "hibernating", "brand_new": {"x": 1}})
    assert sb.id == "sbx_1" and sb.state == "hibernating"
    assert sb.name is None, "an optional field the server did not send is None"
    assert sb.extra == {"brand_new": {"x": 1}}
    assert sb["brand_new"] == {"x": 1} and sb.get("missing", 5) == 5
    assert "brand_new" in sb and "missing" not in sb
    with pytest.raises(AttributeError):
        sb.brand_new  # type: ignore[attr-defined]  # noqa: B018 - unknown fields are not attributes
    with pytest.raises(KeyError):
        sb["missing"]


def test_behaves_like_data() -> None:
    sb = Sandbox(id="sbx_1", state="running", metadata={"a": 1})
    with pytest.raises(AttributeError, match="read-only"):
        sb.id = "other"  # type: ignore[misc]
    copy = sb.to_dict()
    copy["metadata"]["a"] = 2
    assert sb.metadata == {"a": 1}
    assert json.loads(sb.to_json()) == {"id": "sbx_1", "state": "running", "metadata": {"a": 1}}
    assert Sandbox.from_dict(sb.to_dict()) == sb
    assert sb == Sandbox({"id": "sbx_1", "state": "running", "metadata": {"a": 1}})
    assert sb != Sandbox({"id": "sbx_2", "state": "running"})
    assert pickle.loads(pickle.dumps(sb)) == sb
    with pytest.raises(TypeError, match="to_dict"):
        dict(sb)  # type: ignore[call-overload]
    assert isinstance(sb, Model)


def test_nested_models_are_models() -> None:
    published = Publication({"deployment": {"id": "dep_1"}, "promoted": True})
    assert published.deployment.id == "dep_1" and published.promoted is True
    update = EnvUpdate({"updated": ["A"], "vars": [{"key": "A", "value": "v"}]})
    assert update.vars is not None and update.vars[0].key == "A"


def canary(model: str, field: str) -> str:
    return f"canary-{model}-{field}-0c4f"


def filled(name: str) -> Dict[str, Any]:
    """An instance of `name` with every secret and token URL set to a canary, and
    every required field set, as the table describes them."""
    data: Dict[str, Any] = {}
    for field, spec in MODELS[name]["fields"].items():
        if spec.get("secret"):
            data[field] = canary(name, field)
        elif spec.get("token_url"):
            data[field] = f"https://p.example.test/{field}?token={canary(name, field)}"
        elif spec.get("required"):
            data[field] = {"str": "x", "int": 1, "bool": True, "json": "x", "enum": "x", "timestamp": "2026-01-01T00:00:00Z"}.get(
                spec["type"], [] if spec["type"].startswith("[") else {}
            )
    data["api_key"] = canary(name, "extra")  # an unknown field named like a credential
    return data


SECRET_MODELS = sorted(
    name for name, m in MODELS.items() if any(f.get("secret") or f.get("token_url") for f in m["fields"].values())
)


@pytest.mark.parametrize("name", SECRET_MODELS)
def test_repr_hides_every_secret_and_url_token(name: str) -> None:
    cls = getattr(miosa_native, name)
    model = cls(filled(name))
    shown = repr(model)
    assert "canary-" not in shown, shown
    for field, spec in MODELS[name]["fields"].items():
        if spec.get("secret"):
            assert getattr(model, field) == canary(name, field), "hidden from repr, not from the program"
        if spec.get("token_url"):
            assert canary(name, field) in getattr(model, field)
            assert f"https://p.example.test/{field}?" in shown, "the URL stays recognisable"
    assert model.extra["api_key"] == canary(name, "extra")


def test_repr_hides_secrets_of_nested_models() -> None:
    update = EnvUpdate({"vars": [{"key": "DB_PASSWORD", "value": "canary-nested-0c4f"}]})
    assert "canary-nested" not in repr(update) and "DB_PASSWORD" in repr(update)


def test_models_from_the_api(client: miosa_native.Client) -> None:
    sb = client.sandboxes.get("sbx_fixture")
    assert isinstance(sb, Sandbox) and type(sb.data) is Sandbox and sb.id == "sbx_fixture"
    # `tags` is a namespace on a handle; the field is in `data`.
    assert isinstance(sb.data.tags, list) and isinstance(sb.cpu_count, int) and isinstance(sb.ready, bool)
    # Fields the model table lacks stay reachable.
    assert sb.to_dict()["resource_contract"] == sb.extra["resource_contract"]
    listed = client.sandboxes.list()
    assert listed and all(isinstance(s, Sandbox) and type(s.data) is Sandbox for s in listed)
    env = client.sandbox.env.list("sbx_fixture")
    assert isinstance(env, list) and env and all(type(v) is miosa_native.EnvVar for v in env), "lists are lists"
    png = client.desktop.screenshot("cmp_fixture")
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG")


def test_exec_results_agree_whichever_route_ran_them(client: miosa_native.Client) -> None:
    on_sandbox = client.sandbox.exec.run("sbx_fixture", command="echo same")
    on_computer = client.exec.run("sbx_fixture", command="echo same")
    for result in (on_sandbox, on_computer):
        assert type(result) is ExecResult
        assert result.stdout == result.output == "same\n" and result.exit_code == 0
