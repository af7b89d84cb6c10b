"""Start-up cost of the bindings: wall time of fresh processes that import the
package, against a bare interpreter doing nothing, and in-process import time.

    python3 bench/import_time.py [--python PY] [--node-pkg DIR] [--runs 20] [--json OUT]

`--python` is an interpreter with `miosa_native` installed; `--node-pkg` a
directory holding the Node package (`lib/`, `package.json` and the addon).
Prints the median and spread of each, wall time and CPU time; asserts nothing."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

PYTHON_CASES = {
    "bare": "pass",
    "import miosa_native": "import miosa_native",
    "from miosa_native import Client": "from miosa_native import Client",
    "Client() + namespace": "import miosa_native; miosa_native.Client('msk_test_x', base_url='http://127.0.0.1:9').sandboxes",
}
NODE_CASES = {
    "bare": "0",
    "require('miosa-native')": "require({pkg})",
    "new Client() + namespace": "new (require({pkg}).Client)('msk_test_x', {{baseUrl: 'http://127.0.0.1:9'}}).sandboxes",
}
# In-process: the time of the import statement alone (the interpreter's own start-up excluded).
PY_IN_PROCESS = "import time; t = time.perf_counter(); import miosa_native; print(time.perf_counter() - t)"
NODE_IN_PROCESS = "const t = process.hrtime.bigint(); require({pkg}); console.log(Number(process.hrtime.bigint() - t) / 1e9)"


def spread(samples: List[float]) -> Dict[str, Any]:
    ordered = sorted(samples)
    return {
        "median_ms": statistics.median(ordered),
        "min_ms": ordered[0],
        "max_ms": ordered[-1],
        "p25_ms": ordered[len(ordered) // 4],
        "p75_ms": ordered[(3 * len(ordered)) // 4],
        "processes": len(ordered),
    }


def run_once(argv: List[str]) -> Tuple[float, float]:
    """Wall time and CPU time (user + system, all threads) of one fresh process, in ms.
    On a loaded machine the CPU time is the steadier of the two."""
    t0 = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = (time.perf_counter() - t0) * 1000
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, argv)
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def measure(cases: Dict[str, List[str]], runs: int) -> Dict[str, Dict[str, Any]]:
    """Interleaves the cases run by run, so a change of load hits them all alike."""
    wall: Dict[str, List[float]] = {name: [] for name in cases}
    cpu: Dict[str, List[float]] = {name: [] for name in cases}
    for argv in cases.values():  # warm the page cache once
        run_once(argv)
    for _ in range(runs):
        for name, argv in cases.items():
            w, c = run_once(argv)
            wall[name].append(w)
            cpu[name].append(c)
    return {name: {**spread(wall[name]), "cpu": spread(cpu[name])} for name in cases}


def in_process(argv: List[str], runs: int) -> Dict[str, Any]:
    ts = []
    for _ in range(runs):
        out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout
        ts.append(float(out.strip()) * 1000)
    return spread(ts)


def importtime_top(python: str, code: str, count: int = 12) -> List[Dict[str, Any]]:
    """The largest cumulative entries of `python -X importtime -c CODE`."""
    err = subprocess.run(
        [python, "-X", "importtime", "-c", code], check=True, capture_output=True, text=True, timeout=60
    ).stderr
    rows = []
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        rows.append({"module": parts[2].rstrip(), "self_us": int(parts[0].split(":")[1]), "cumulative_us": int(parts[1])})
    return sorted(rows, key=lambda r: -r["cumulative_us"])[:count]


def report(title: str, rows: Dict[str, Dict[str, Any]]) -> None:
    print(title)
    for label, pick in (("wall", lambda r: r), ("CPU", lambda r: r["cpu"])):
        bare = pick(rows["bare"])["median_ms"]
        for name, row in rows.items():
            r = pick(row)
            over = "" if name == "bare" else f"  (+{r['median_ms'] - bare:.2f} ms over bare)"
            print(
                f"  {label:<4} {name:<32} median {r['median_ms']:7.2f} ms  p25-p75 {r['p25_ms']:.2f}-{r['p75_ms']:.2f}"
                f"  min-max {r['min_ms']:.2f}-{r['max_ms']:.2f}{over}"
            )


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", help="an interpreter with miosa_native installed")
    ap.add_argument("--node-pkg", help="a directory holding the Node package")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    result: Dict[str, Any] = {"runs": args.runs}
    if args.python:
        rows = measure({name: [args.python, "-c", code] for name, code in PYTHON_CASES.items()}, args.runs)
        report(f"Python ({args.python}), {args.runs} fresh processes each, wall time", rows)
        inproc = in_process([args.python, "-c", PY_IN_PROCESS], args.runs)
        print(f"  in-process `import miosa_native`: median {inproc['median_ms']:.2f} ms (min {inproc['min_ms']:.2f})")
        result["python"] = {"wall": rows, "in_process": inproc}
        for key, code in (("importtime_top", "import miosa_native"), ("importtime_top_client", "from miosa_native import Client")):
            top = importtime_top(args.python, code)
            print(f"  -X importtime -c {code!r}, largest cumulative (us):")
            for r in top:
                print(f"    {r['cumulative_us']:>7} {r['self_us']:>7}  {r['module']}")
            result["python"][key] = top
    if args.node_pkg:
        pkg = json.dumps(os.path.abspath(args.node_pkg))  # require() resolves a relative path against the module, not the working directory
        rows = measure({name: ["node", "-e", code.format(pkg=pkg)] for name, code in NODE_CASES.items()}, args.runs)
        report(f"Node ({args.node_pkg}), {args.runs} fresh processes each, wall time", rows)
        inproc = in_process(["node", "-e", NODE_IN_PROCESS.format(pkg=pkg)], args.runs)
        print(f"  in-process `require`: median {inproc['median_ms']:.2f} ms (min {inproc['min_ms']:.2f})")
        result["node"] = {"wall": rows, "in_process": inproc}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1:])
