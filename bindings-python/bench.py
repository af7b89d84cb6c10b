"""The numbers the Python binding reports: wheel size, `import miosa_native`
time (median of 20 fresh interpreters) and sequential `client.sandboxes.get`
calls per second against miosa-emulator, sync and async.

    .venv/bin/python bindings-python/bench.py [--calls 2000] [--emulator PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def import_time(runs: int = 20) -> tuple[float, float]:
    """Median `-X importtime` cumulative time of miosa_native, and of a bare interpreter's wall clock, in ms."""
    own, bare = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import miosa_native"],
            capture_output=True, text=True, check=True,
        )
        line = [ln for ln in out.stderr.splitlines() if ln.rstrip().endswith("| miosa_native")][-1]
        own.append(int(line.split("|")[1]) / 1000)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append((time.perf_counter() - started) * 1000)
    return statistics.median(own), statistics.median(bare)


def calls_per_second(base_url: str, api_key: str, calls: int) -> tuple[float, float]:
    import miosa_native

    client = miosa_native.Client(api_key, base_url=base_url)
    for _ in range(100):
        client.sandboxes.get("sbx_fixture")
    started = time.perf_counter()
    for _ in range(calls):
        client.sandboxes.get("sbx_fixture")
    sync_rate = calls / (time.perf_counter() - started)

    async def run() -> float:
        aclient = miosa_native.AsyncClient(api_key, base_url=base_url)
        for _ in range(100):
            await aclient.sandboxes.get("sbx_fixture")
        started = time.perf_counter()
        for _ in range(calls):
            await aclient.sandboxes.get("sbx_fixture")
        return calls / (time.perf_counter() - started)

    return sync_rate, asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument(
        "--emulator",
        default=os.environ.get(
            "MIOSA_EMULATOR", str(REPO / "target" / "x86_64-unknown-linux-gnu" / "debug" / "miosa-emulator")
        ),
    )
    args = parser.parse_args()

    for wheel in sorted(glob.glob(str(REPO / "dist" / "miosa_native-*.whl"))):
        print(f"wheel: {pathlib.Path(wheel).name} {os.path.getsize(wheel) / 1e6:.2f} MB")
    own, bare = import_time()
    print(f"import miosa_native: {own:.1f} ms (median of 20; a bare interpreter starts in {bare:.1f} ms)")

    emulator = subprocess.Popen([args.emulator, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert emulator.stdout is not None
        found = re.search(r"base_url=(\S+) api_key=(\S+)", emulator.stdout.readline())
        if found is None:
            raise SystemExit("miosa-emulator did not start")
        sync_rate, async_rate = calls_per_second(found.group(1), found.group(2), args.calls)
    finally:
        emulator.terminate()
        emulator.wait()
    print(f"client.sandboxes.get, {args.calls} sequential calls: sync {sync_rate:.0f}/s, async {async_rate:.0f}/s")


if __name__ == "__main__":
    main()
