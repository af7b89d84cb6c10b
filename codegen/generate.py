#!/usr/bin/env python3
"""Generates every surface of the client from core/operations.toml (and the
error kinds from core/errors.toml).

    python3 codegen/generate.py          # write the generated files
    python3 codegen/generate.py --check  # fail when a checked-in file is stale

Targets live in codegen/targets/*.py; each gets the parsed table and returns
{path: text}. The table is the only place an operation is declared.
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from table import ROOT, load_table  # noqa: E402

TARGETS = ["rust", "python", "node", "uniffi", "c", "errors", "handles_python", "handles_node", "handles_rust", "handles_kotlin", "handles_swift"]


def render_all() -> dict[pathlib.Path, str]:
    table = load_table()
    files: dict[pathlib.Path, str] = {}
    for name in TARGETS:
        try:
            module = importlib.import_module(f"targets.{name}")
        except ModuleNotFoundError:
            continue
        for rel, text in module.render(table).items():
            files[ROOT / rel] = text
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args()
    stale = []
    for path, text in sorted(render_all().items()):
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check and stale:
        print("stale generated files (run `python3 codegen/generate.py`):")
        for path in stale:
            print(f"  {path}")
        return 1
    verb = "up to date" if args.check else f"wrote {len(stale)} file(s)"
    print(f"codegen: {verb}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
