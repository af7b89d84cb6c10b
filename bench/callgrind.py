"""Instructions per `sandboxes.get` call, counted by callgrind, for the raw
reqwest floor, the Rust core, Python (`miosa_native`, sync) and Node
(`miosa-native`). Unlike wall-clock and CPU time, the count does not depend on
what else runs on the machine.

    python3 bench/callgrind.py --base-url URL --api-key KEY --bench-bin target/.../miosa-bench \\
        [--python PY] [--node-pkg DIR] [--calls 50,250] [--json OUT]

Each client runs twice under `valgrind --tool=callgrind`, making N1 and then N2
sequential calls after one warm-up; (I(N2) - I(N1)) / (N2 - N1) is the count of
one call, with start-up, warm-up and exit cancelled out. The client's every
thread is counted (the runtime's workers included); the emulator runs outside
valgrind. Prints the figures; asserts nothing."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional

PYTHON_PROGRAM = """
import sys, miosa_native
client = miosa_native.Client(sys.argv[2], base_url=sys.argv[1])
for _ in range(int(sys.argv[3]) + 1):
    client.sandboxes.get("sbx_fixture")
"""
NODE_PROGRAM = """
const [pkg, base, key, n] = process.argv.slice(1)
const { Client } = require(pkg)
const client = new Client(key, { baseUrl: base })
;(async () => {
  for (let i = 0; i <= Number(n); i++) await client.sandboxes.get('sbx_fixture')
})().catch((err) => { console.error(err); process.exit(1) })
"""


def instructions(argv: List[str], extra: List[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *extra, *argv],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=900,
        )
        # Threads each get a file (`out`, `out-02`, ...) unless valgrind merged them; sum their totals.
        total = 0
        for name in os.listdir(tmp):
            text = open(os.path.join(tmp, name), errors="replace").read()
            m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            if m:
                total += int(m.group(1))
        return total


def per_call(argv_for: Any, n1: int, n2: int, extra: List[str]) -> Dict[str, Any]:
    i1 = instructions(argv_for(n1), extra)
    i2 = instructions(argv_for(n2), extra)
    return {"calls": [n1, n2], "instructions": [i1, i2], "instructions_per_call": (i2 - i1) / (n2 - n1)}


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--bench-bin", help="miosa-bench, for the floor and the core")
    ap.add_argument("--python", help="an interpreter with miosa_native installed")
    ap.add_argument("--node-pkg", help="a directory holding the Node package")
    ap.add_argument("--calls", default="50,250", help="N1,N2")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    n1, n2 = (int(v) for v in args.calls.split(","))
    base, key = args.base_url, args.api_key
    clients: Dict[str, Any] = {}
    if args.bench_bin:
        for mode in ("floor", "core"):
            clients[mode] = (
                lambda n, mode=mode: [args.bench_bin, "child", "sequential", "--n", str(n), "--mode", mode,
                                      "--base-url", base, "--api-key", key],
                [],
            )
    if args.python:
        clients["python"] = (lambda n: [args.python, "-c", PYTHON_PROGRAM, base, key, str(n)], [])
    if args.node_pkg:
        # V8 writes and rewrites machine code: valgrind must watch for it everywhere.
        clients["node"] = (
            lambda n: ["node", "-e", NODE_PROGRAM, os.path.abspath(args.node_pkg), base, key, str(n)],
            ["--smc-check=all-non-file"],
        )
    result: Dict[str, Any] = {}
    for who, (argv_for, extra) in clients.items():
        result[who] = per_call(argv_for, n1, n2, extra)
        print(f"  {who:<7} {result[who]['instructions_per_call']:>12,.0f} instructions/call "
              f"({n1} and {n2} calls: {result[who]['instructions'][0]:,} and {result[who]['instructions'][1]:,})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1:])
