"""The generated surface matches the core's table, and the checked-in
generated files (namespaces, stubs, models) are current."""

from __future__ import annotations

import inspect
import pathlib
import shutil
import subprocess
import sys

import miosa_native
from miosa_native import _native

from conftest import REPO

OPS = _native.operations()


def method(root: object, name: str) -> object:
    for part in name.split("."):
        root = getattr(root, part)
    return root


def test_generated_files_are_current() -> None:
    done = subprocess.run(
        # The generator is a repository tool that needs Python 3.11+ (tomllib), whatever runs the suite.
        [shutil.which("python3") or sys.executable, str(REPO / "codegen" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_installed_package_matches_the_checkout() -> None:
    installed = pathlib.Path(inspect.getfile(miosa_native)).parent
    sources = sorted((REPO / "bindings-python" / "python" / "miosa_native").iterdir())
    assert len(sources) >= 10
    for source in sources:
        if source.is_file():
            assert (installed / source.name).read_text() == source.read_text(), f"{source.name}: rebuild the wheel"


def test_every_operation_has_a_method_with_the_table_signature() -> None:
    client = miosa_native.Client("msk_test_signature", base_url="http://127.0.0.1:9/api/v1")
    aclient = miosa_native.AsyncClient("msk_test_signature", base_url="http://127.0.0.1:9/api/v1")
    assert len(OPS) == 244 and len([op for op in OPS if op["seed"]]) == 169
    for op in OPS:
        for c in (client, aclient):
            fn = method(c, op["name"])
            params = inspect.signature(fn).parameters  # type: ignore[arg-type]
            positional = [p.name for p in params.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
            keywords = {p.name for p in params.values() if p.kind is p.KEYWORD_ONLY}
            assert positional == op["positional"], op["name"]
            assert set(op["query"]) | set(op["body"]) <= keywords, op["name"]
            assert {"extra_headers", "extra_query", "extra_body"} <= keywords
            assert "timeout" in keywords or "request_timeout" in keywords
            # An asyncio create answers a PendingHandle: awaitable, and usable in `async with`.
            if c is aclient and op["returns"] != "events" and op["name"] not in ("sandboxes.create", "computers.create"):
                assert inspect.iscoroutinefunction(fn), op["name"]
        assert method(client, op["name"]).__doc__, op["name"]


def iter_name(function: str) -> str:
    """`list` → `iter`, `list_sessions` → `iter_sessions`, anything else → `<name>_iter`."""
    if function == "list":
        return "iter"
    if function.startswith("list_"):
        return "iter_" + function[len("list_") :]
    return function + "_iter"


def test_every_paginated_operation_has_an_iterator() -> None:
    client = miosa_native.Client("msk_test_signature", base_url="http://127.0.0.1:9/api/v1")
    paged = [op for op in OPS if op["returns"] == "page"]
    assert len(paged) == 12
    for op in paged:
        namespace, function = op["name"].rsplit(".", 1)
        pager = method(client, f"{namespace}.{iter_name(function)}")
        # Pagers are lazy: ids of parent resources are only placeholders here.
        ids = ["x"] * len(op["positional"])
        assert isinstance(pager(*ids), miosa_native.Pager), op["name"]  # type: ignore[operator]


def test_mypy_strict_passes_on_the_examples() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir=/dev/null", *sorted(str(p) for p in (REPO / "examples" / "python").glob("*.py"))],
        capture_output=True,
        text=True,
        cwd=REPO / "examples" / "python",
    )
    assert done.returncode == 0, done.stdout + done.stderr
