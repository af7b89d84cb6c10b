"""Where the examples send requests: MIOSA itself when ``MIOSA_API_KEY`` is set,
otherwise a local ``miosa-emulator`` started for the duration of the example."""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import subprocess
import sys
from typing import Iterator, Optional, Tuple

DEFAULT_EMULATOR = (
    pathlib.Path(__file__).resolve().parents[2]
    / "target"
    / "x86_64-unknown-linux-gnu"
    / "debug"
    / "miosa-emulator"
)


@contextlib.contextmanager
def api_settings() -> Iterator[Tuple[str, Optional[str]]]:
    """Yields ``(api_key, base_url)``; ``base_url`` is None for the default MIOSA endpoint."""
    key = os.environ.get("MIOSA_API_KEY")
    if key:
        yield key, os.environ.get("MIOSA_BASE_URL") or None
        return
    binary = os.environ.get("MIOSA_EMULATOR", str(DEFAULT_EMULATOR))
    process = subprocess.Popen(
        [binary, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"base_url=(\S+) api_key=(\S+)", line)
        if found is None:
            raise RuntimeError(f"miosa-emulator did not start: {line!r}")
        base_url, key = found.group(1), found.group(2)
        print(f"MIOSA_API_KEY is not set: using a local miosa-emulator at {base_url}", file=sys.stderr)
        yield key, base_url
    finally:
        process.terminate()
        process.wait()
