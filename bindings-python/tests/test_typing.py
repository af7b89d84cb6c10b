"""What a type checker sees: the seed's flows (examples/python/flows.py) check
under `mypy --strict` and pyright strict with no cast, while a misspelt field is
an error; and almost every operation has a typed result."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
from typing import List

import pytest

import miosa_native

from conftest import REPO

FLOWS = REPO / "examples" / "python" / "flows.py"
ASYNC_FLOWS = REPO / "examples" / "python" / "flows_async.py"
MISSPELT = pathlib.Path(__file__).parent / "typecheck" / "misspelt.py"
# The most operations allowed to answer untyped JSON, in any language.
MAX_UNTYPED = 10


def mypy(path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir=/dev/null", str(path)],
        capture_output=True,
        text=True,
        cwd=path.parent,
    )


def pyright(path: pathlib.Path, tmp_path: pathlib.Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("pyright", path=os.path.dirname(sys.executable)) or shutil.which("pyright")
    if binary is None:
        pytest.skip("pyright is not installed (scripts/test-python.sh installs it)")
    config = tmp_path / "pyrightconfig.json"
    config.write_text(json.dumps({"typeCheckingMode": "strict", "extraPaths": [str(path.parent)]}))
    return subprocess.run(
        [binary, "-p", str(config), "--pythonpath", sys.executable, str(path)], capture_output=True, text=True
    )


def test_the_user_program_checks_strictly() -> None:
    done = mypy(FLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_asyncio_program_with_handles_checks_strictly() -> None:
    done = mypy(ASYNC_FLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_user_program_checks_under_pyright_strict(tmp_path: pathlib.Path) -> None:
    done = pyright(FLOWS, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_misspelt_field_is_an_error(tmp_path: pathlib.Path) -> None:
    done = mypy(MISSPELT)
    assert done.returncode == 1 and '"idd"' in done.stdout and '"entriez"' in done.stdout, done.stdout
    done = pyright(MISSPELT, tmp_path)
    assert done.returncode == 1 and '"idd"' in done.stdout and '"entriez"' in done.stdout, done.stdout


def untyped_counts() -> dict[str, List[str]]:
    """Operations whose result each surface types as bare JSON."""
    generated = {
        # The sync methods (each has an async twin).
        "python": (REPO / "bindings-python/python/miosa_native/_ops.pyi", r"\n    def (\w+)\(self[^\n]*\) -> Any:"),
        "node": (REPO / "bindings-node/lib/index.d.ts", r"  (\w+)\([^\n]*\): Promise<(?:any|unknown|JsonObject)>"),
        "rust": (REPO / "core/src/generated/api.rs", r"pub async fn (\w+)\([^)]*\) -> Result<Value>"),
        "kotlin/swift": (REPO / "bindings-uniffi/src/generated.rs", r"pub async fn (\w+)\([^)]*\) -> Result<String, MiosaError>"),
    }
    counts = {}
    for language, (path, pattern) in generated.items():
        # Handles repeat operations already counted on the flat namespaces.
        text = path.read_text().split("// ---- sandbox and computer handles")[0]
        counts[language] = re.findall(pattern, text, re.S)
    return counts


def test_untyped_results_stay_few() -> None:
    counts = untyped_counts()
    for language, names in counts.items():
        print(f"{language}: {len(names)} operation(s) return untyped JSON: {', '.join(names)}")
    assert all(len(names) <= MAX_UNTYPED for names in counts.values()), counts
    assert len({len(names) for names in counts.values()}) == 1, f"every language types the same operations: {counts}"


def test_the_user_program_runs(client: miosa_native.Client) -> None:
    sys.path.insert(0, str(FLOWS.parent))
    try:
        import flows  # the example itself, run against the emulator
    finally:
        sys.path.remove(str(FLOWS.parent))
    seen = flows.run(client)
    assert seen[0].startswith("sbx_")
    for expected in ("hi", "same/same", "/workspace/notes.txt", "/workspace/a.txt", "GREETING=set", "demo,typed", "deleted"):
        assert expected in seen, (expected, seen)
