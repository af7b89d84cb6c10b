"""`import miosa_native` loads nothing but the package itself; each public
name comes from its module on first use, and type checkers see exactly the
names the runtime serves."""

from __future__ import annotations

import ast
import inspect
import pathlib
import subprocess
import sys
from typing import List

import pytest

import miosa_native
from miosa_native import _models

from test_typing import mypy, pyright


def fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def static_all() -> List[str]:
    """The `__all__` that type checkers read: the list under `if TYPE_CHECKING:`, then the models'."""
    tree = ast.parse(pathlib.Path(inspect.getfile(miosa_native)).read_text())
    guarded = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", None) == "TYPE_CHECKING")
    names: List[str] = []
    for node in guarded.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "__all__":
            names.extend(ast.literal_eval(node.value))
        elif isinstance(node, ast.AugAssign) and getattr(node.target, "id", None) == "__all__":
            assert ast.unparse(node.value) == "_models.__all__"
            names.extend(_models.__all__)
    return names


def test_import_loads_no_submodule_nor_typing() -> None:
    loaded = fresh(
        "import sys; import miosa_native; "
        "print(sorted(m for m in sys.modules if m.startswith('miosa_native') or m in ('typing', 'logging', 're')))"
    )
    assert loaded == "['miosa_native']"


def test_a_client_and_its_calls_load_no_typing() -> None:
    # `typing` (and `re` with it) was half of `from miosa_native import Client`; the
    # modules behind a client use run-time stand-ins (`_typing.py`) instead.
    loaded = fresh(
        "import sys; from miosa_native import Client, FileWrite, AsyncPager, RawResponse, PendingHandle; "
        "client = Client('msk_test_x', base_url='http://127.0.0.1:9/api/v1'); client.sandboxes; "
        "assert FileWrite(path='a', content=b'x') == {'path': 'a', 'content': b'x'}; "
        "assert AsyncPager[int] is AsyncPager and RawResponse[int] is RawResponse and PendingHandle[int] is PendingHandle; "
        "print(sorted(m for m in sys.modules if m == 'typing'))"
    )
    assert loaded == "[]"


def test_public_typing_aliases_still_resolve() -> None:
    import typing

    assert miosa_native.ProgressCallback == typing.Callable[[int, typing.Optional[int]], typing.Any]


def test_first_use_loads_only_what_the_name_needs() -> None:
    loaded = fresh(
        "import sys; from miosa_native import NotFoundError; "
        "print(sorted(m for m in sys.modules if m.startswith('miosa_native')))"
    )
    assert loaded == "['miosa_native', 'miosa_native.errors']"


def test_the_runtime_serves_the_names_type_checkers_see() -> None:
    static = static_all()
    assert list(dict.fromkeys(static)) == miosa_native.__all__
    for name in static:
        assert getattr(miosa_native, name) is not None
    assert set(static) <= set(dir(miosa_native))
    star = fresh("from miosa_native import *; print(len([n for n in dir() if not n.startswith('_')]))")
    assert int(star) == len(set(static) - {"__version__"})


def test_a_lazy_name_is_the_defining_modules_object() -> None:
    from miosa_native import _client, _native, webhooks

    assert miosa_native.Client is _client.Client
    assert miosa_native.Sandbox is _models.Sandbox
    assert miosa_native.NOT_GIVEN is _native.NOT_GIVEN
    assert miosa_native.webhooks is webhooks


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="'Clientt'"):
        miosa_native.Clientt  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(AttributeError, match="'_nope'"):
        miosa_native._nope  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(miosa_native, "__wrapped__")


def test_type_checkers_see_no_catch_all_getattr(tmp_path: pathlib.Path) -> None:
    # A module-level `__getattr__` visible to a checker would type every misspelt name as a value.
    program = tmp_path / "lazy_names.py"
    program.write_text(
        "import miosa_native\n"
        "from miosa_native import Client, Sandbox\n\n"
        "client: Client = miosa_native.Client('msk_test_x')\n"
        "sandbox: Sandbox = miosa_native.Sandbox({})\n"
        "missing = miosa_native.Clientt\n"
    )
    done = mypy(program)
    assert done.returncode == 1 and 'no attribute "Clientt"' in done.stdout and "1 error" in done.stdout, done.stdout
    done = pyright(program, tmp_path)
    assert done.returncode == 1 and '"Clientt" is not a known attribute' in done.stdout, done.stdout
    assert "lazy_names.py:4" not in done.stdout and "lazy_names.py:5" not in done.stdout, done.stdout
