"""One miosa-emulator in its default (tolerant) mode for the whole run, and the
official `miosa` SDK pointed at it. Control routes are called with urllib so
that assertions about the emulator's state do not go through the SDK."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pathlib
import re
import subprocess
import time
import urllib.request
from typing import Any, Iterator, Optional

import pytest

from miosa import Miosa

REPO = pathlib.Path(__file__).resolve().parents[2]
EMULATOR_BIN = pathlib.Path(
    os.environ.get(
        "MIOSA_EMULATOR",
        REPO / "target" / "x86_64-unknown-linux-gnu" / "debug" / "miosa-emulator",
    )
)
FIRST_LINE = re.compile(r"^miosa-emulator listening base_url=(\S+) api_key=(\S+) admin_key=(\S+)$")


@dataclasses.dataclass
class Emulator:
    base_url: str
    api_key: str
    admin_key: str

    def control(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        request = urllib.request.Request(
            f"{self.base_url}/_emulator{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def requests(self, path: str) -> list[dict[str, Any]]:
        return self.control("GET", f"/requests?path={path}")


@contextlib.contextmanager
def running_emulator(log: pathlib.Path, *args: str) -> Iterator[Emulator]:
    """A default-mode emulator binary with extra `args`, stopped on exit."""
    if not EMULATOR_BIN.exists():
        raise RuntimeError(f"{EMULATOR_BIN} is missing: run `cargo build -p miosa-emulator`")
    env = {k: v for k, v in os.environ.items() if k != "MIOSA_EMULATOR_STRICT"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(EMULATOR_BIN), "--port", "0", *args], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            lines = log.read_text(errors="replace").splitlines()
            if lines:
                match = FIRST_LINE.match(lines[0])
                assert match, f"unexpected first line from the emulator: {lines[0]!r}"
                break
            assert process.poll() is None, f"the emulator exited: {log.read_text()}"
            assert time.monotonic() < deadline, "the emulator did not start within 30 s"
            time.sleep(0.02)
        yield Emulator(match.group(1), match.group(2), match.group(3))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with running_emulator(log, "--boot-delay-ms", "300") as emu:
        yield emu


@pytest.fixture
def client(emulator: Emulator) -> Iterator[Miosa]:
    with Miosa(api_key=emulator.api_key, base_url=emulator.base_url, max_retries=0) as c:
        yield c


@pytest.fixture
def admin(emulator: Emulator) -> Iterator[Miosa]:
    with Miosa(api_key=emulator.admin_key, base_url=emulator.base_url, max_retries=0) as c:
        yield c
