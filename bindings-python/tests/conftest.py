"""One miosa-emulator for the whole run, started from its binary, plus clients
pointed at it. Control routes (`/_emulator/...`) are called with urllib, so
test assertions do not depend on the client under test."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import subprocess
import time
import urllib.request
from typing import Any, Dict, Iterator, List, Optional

import pytest

import miosa_native

REPO = pathlib.Path(__file__).resolve().parents[2]
EMULATOR_BIN = pathlib.Path(
    os.environ.get(
        "MIOSA_EMULATOR",
        REPO / "target" / "x86_64-unknown-linux-gnu" / "debug" / "miosa-emulator",
    )
)
FIRST_LINE = re.compile(
    r"^miosa-emulator listening base_url=(\S+) api_key=(\S+) admin_key=(\S+)$"
)


@dataclasses.dataclass
class Emulator:
    base_url: str
    api_key: str
    admin_key: str
    process: "subprocess.Popen[bytes]"

    def control(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/_emulator{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def reset(self) -> None:
        self.control("DELETE", "/faults")
        self.control("POST", "/reset")

    def fault(self, **spec: Any) -> None:
        """Injects a fault (`path`, `status`, `delay_ms`, `reset`, `retry_after`, `times`, ...)."""
        self.control("POST", "/faults", spec)

    def last_request(self) -> Dict[str, Any]:
        entries = self.control("GET", "/requests?limit=1")
        assert entries, "the emulator recorded no request"
        return entries[-1]

    def requests(self, path: str) -> List[Dict[str, Any]]:
        return self.control("GET", f"/requests?path={path}")

    def stats(self) -> Dict[str, Any]:
        return self.control("GET", "/stats")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    if not EMULATOR_BIN.exists():
        raise RuntimeError(
            f"{EMULATOR_BIN} is missing: run `cargo build -p miosa-emulator` (or set MIOSA_EMULATOR)"
        )
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(EMULATOR_BIN), "--port", "0"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        match = None
        while match is None:
            lines = log.read_text(errors="replace").splitlines()
            if lines:
                match = FIRST_LINE.match(lines[0])
                if match is None:
                    raise RuntimeError(f"unexpected first line from the emulator: {lines[0]!r}")
                break
            if process.poll() is not None:
                raise RuntimeError(f"the emulator exited with {process.returncode}: {log.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start within 30 s")
            time.sleep(0.02)
        yield Emulator(match.group(1), match.group(2), match.group(3), process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def fresh(emulator: Emulator) -> Emulator:
    """The emulator with its seeded fixtures restored and no faults."""
    emulator.reset()
    return emulator


@pytest.fixture
def client(fresh: Emulator) -> Iterator[miosa_native.Client]:
    with miosa_native.Client(fresh.api_key, base_url=fresh.base_url, max_retries=0) as c:
        yield c


@pytest.fixture
def admin(fresh: Emulator) -> Iterator[miosa_native.Client]:
    with miosa_native.Client(fresh.admin_key, base_url=fresh.base_url, max_retries=0) as c:
        yield c


@pytest.fixture
def aclient(fresh: Emulator) -> miosa_native.AsyncClient:
    return miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0)
