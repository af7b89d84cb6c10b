"""Python benchmarks for scripts/bench.sh: miosa_native (sync and asyncio) vs
httpx doing the same requests vs the official `miosa` SDK (PyPI 2.19.2), all
against one running miosa-emulator. Prints a summary and writes JSON.

    .venv-bench/bin/python bench/python/bench.py --base-url URL --api-key KEY \
        [--runs 3] [--scale 1.0] [--only a,b] [--json OUT]

Sections: import, rss, get, download, sse, inflight. Runs in the benchmark's
own venv (.venv-bench), never the test venv. Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

SANDBOX = "sbx_fixture"
DOWNLOAD_PATH = "bench-1mib.bin"
MIB = 1 << 20
PY = sys.executable


def status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def pct(lat: List[float], p: int) -> float:
    if not lat:
        return float("nan")
    s = sorted(lat)
    return s[min(len(s) * p // 100, len(s) - 1)]


def median(xs: List[float]) -> float:
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


# ---------------------------------------------------------------- load loops


def sync_load(call: Callable[[], Any], total: int) -> Dict[str, float]:
    lat: List[float] = []
    errors = 0
    first_error: Optional[str] = None
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(total):
        t = time.perf_counter()
        try:
            call()
        except Exception as e:  # noqa: BLE001 - counted and reported
            errors += 1
            first_error = first_error or repr(e)
        lat.append(time.perf_counter() - t)
    secs = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return _run(lat, secs, cpu, total, errors, first_error)


async def async_load(call: Callable[[], Awaitable[Any]], concurrency: int, total: int) -> Dict[str, float]:
    lat: List[float] = []
    errors = 0
    first_error: Optional[str] = None
    remaining = total

    async def worker() -> None:
        nonlocal remaining, errors, first_error
        while remaining > 0:
            remaining -= 1
            t = time.perf_counter()
            try:
                await call()
            except Exception as e:  # noqa: BLE001
                errors += 1
                first_error = first_error or repr(e)
            lat.append(time.perf_counter() - t)

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    secs = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return _run(lat, secs, cpu, total, errors, first_error)


def _run(lat: List[float], secs: float, cpu: float, total: int, errors: int, first_error: Optional[str]) -> Dict[str, Any]:
    return {
        "calls_per_s": len(lat) / secs,
        "p50_us": pct(lat, 50) * 1e6,
        "p99_us": pct(lat, 99) * 1e6,
        "cpu_us_per_call": cpu / max(total, 1) * 1e6,
        "errors": errors,
        "first_error": first_error,
    }


def summarize(runs: List[Dict[str, Any]], concurrency: int, total: int) -> Dict[str, Any]:
    return {
        "concurrency": concurrency,
        "calls_per_run": total,
        "calls_per_s": median([r["calls_per_s"] for r in runs]),
        "p50_us": median([r["p50_us"] for r in runs]),
        "p99_us": median([r["p99_us"] for r in runs]),
        "cpu_us_per_call": median([r["cpu_us_per_call"] for r in runs]),
        "runs_calls_per_s": [round(r["calls_per_s"], 1) for r in runs],
        "errors": sum(r["errors"] for r in runs),
        "first_error": next((r["first_error"] for r in runs if r["first_error"]), None),
    }


def measure_sync(call: Callable[[], Any], total: int, runs: int) -> Dict[str, Any]:
    sync_load(call, max(total // 10, 20))  # warm-up
    return summarize([sync_load(call, total) for _ in range(runs)], 1, total)


def measure_async(make_call: Callable[[], Awaitable[Any]], concurrency: int, total: int, runs: int) -> Dict[str, Any]:
    async def go() -> List[Dict[str, Any]]:
        await async_load(make_call, concurrency, max(concurrency * 2, 50))  # warm-up
        return [await async_load(make_call, concurrency, total) for _ in range(runs)]

    return summarize(asyncio.run(go()), concurrency, total)


def row(label: str, v: Dict[str, Any]) -> None:
    print(
        f"  {label:<34} c={v['concurrency']:<5} {v['calls_per_s']:>8.0f} calls/s  p50 {v['p50_us']:>9.1f} µs"
        f"  p99 {v['p99_us']:>10.1f} µs  cpu/call {v['cpu_us_per_call']:>7.1f} µs  runs {v['runs_calls_per_s']}"
        f"  errors {v['errors']}"
    )
    if v.get("first_error"):
        print(f"    first error: {v['first_error']}")


# ---------------------------------------------------------------- clients

LIMITS_KW = "limits"


def httpx_headers(key: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept": "application/json"}


def clients(base: str, key: str) -> Dict[str, Any]:
    import httpx
    import miosa
    import miosa_native

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    return {
        "native": miosa_native.Client(key, base_url=base),
        "native_async_cls": lambda: miosa_native.AsyncClient(key, base_url=base),
        "httpx": httpx.Client(base_url=base, headers=httpx_headers(key), limits=limits, timeout=60),
        "httpx_async_cls": lambda: httpx.AsyncClient(base_url=base, headers=httpx_headers(key), limits=limits, timeout=60),
        "official": miosa.Miosa(api_key=key, base_url=base, max_retries=0),
        "official_async_cls": lambda: miosa.AsyncMiosa(api_key=key, base_url=base, max_retries=0),
    }


def bench_route(name: str, c: Dict[str, Any], spec: Dict[str, Any], args: argparse.Namespace) -> Dict[str, Any]:
    """spec: sync/async callables per client for one route."""
    print(name)
    out: Dict[str, Any] = {}
    n_seq = int(spec["n_seq"] * args.scale)
    for who in ("native", "httpx", "official"):
        fn = spec["sync"].get(who)
        if fn is None:
            continue
        v = measure_sync(fn(c[who]), n_seq, args.runs)
        row(f"{who} sync", v)
        out[f"{who}_sync"] = v
    for conc in spec["concurrency"]:
        total = int(spec["n_conc"] * args.scale) if conc > 1 else n_seq
        total = max(total, conc)
        for who in ("native", "httpx", "official"):
            make = spec["async"].get(who)
            if make is None:
                continue

            async def once(make=make, who=who, conc=conc, total=total) -> Dict[str, Any]:
                client = c[f"{who}_async_cls"]()
                call = make(client)
                await async_load(call, conc, max(conc * 2, 50))
                runs = [await async_load(call, conc, total) for _ in range(args.runs)]
                close = getattr(client, "aclose", None) or getattr(client, "close", None)
                if close is not None:
                    r = close()
                    if asyncio.iscoroutine(r):
                        await r
                return summarize(runs, conc, total)

            v = asyncio.run(once())
            row(f"{who} async", v)
            out[f"{who}_async_c{conc}"] = v
    return out


def get_spec() -> Dict[str, Any]:
    return {
        "n_seq": 2000,
        "n_conc": 2000,
        "concurrency": [1, 16, 1000],
        "sync": {
            "native": lambda cl: lambda: cl.sandboxes.get(SANDBOX),
            "httpx": lambda cl: lambda: _httpx_json(cl.get(f"/sandboxes/{SANDBOX}")),
            "official": lambda cl: lambda: cl.sandboxes.get(SANDBOX),
        },
        "async": {
            "native": lambda cl: lambda: cl.sandboxes.get(SANDBOX),
            "httpx": lambda cl: lambda: _ahttpx_json(cl.get(f"/sandboxes/{SANDBOX}")),
            "official": lambda cl: lambda: cl.sandboxes.get(SANDBOX),
        },
    }


def download_spec() -> Dict[str, Any]:
    def official_sync(cl: Any) -> Callable[[], Any]:
        sb = cl.sandboxes.get(SANDBOX)
        return lambda: _check_len(sb.download(DOWNLOAD_PATH))

    def official_async(cl: Any) -> Callable[[], Awaitable[Any]]:
        holder: Dict[str, Any] = {}

        async def call() -> None:
            if "sb" not in holder:
                holder["sb"] = await cl.sandboxes.get(SANDBOX)
            _check_len(await holder["sb"].download(DOWNLOAD_PATH))

        return call

    q = {"path": DOWNLOAD_PATH}
    return {
        "n_seq": 200,
        "n_conc": 400,
        "concurrency": [16],
        "sync": {
            "native": lambda cl: lambda: _check_len(cl.sandbox.files.read(SANDBOX, DOWNLOAD_PATH)),
            "httpx": lambda cl: lambda: _check_len(_httpx_bytes(cl.get(f"/sandboxes/{SANDBOX}/fs/download", params=q))),
            "official": official_sync,
        },
        "async": {
            "native": lambda cl: _acheck(lambda: cl.sandbox.files.read(SANDBOX, DOWNLOAD_PATH)),
            "httpx": lambda cl: _acheck(lambda: _ahttpx_bytes(cl.get(f"/sandboxes/{SANDBOX}/fs/download", params=q))),
            "official": official_async,
        },
    }


def _check_len(b: bytes) -> None:
    if len(b) != MIB:
        raise RuntimeError(f"got {len(b)} bytes")


def _acheck(make: Callable[[], Awaitable[bytes]]) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        _check_len(await make())

    return call


def _httpx_json(r: Any) -> Any:
    r.raise_for_status()
    return r.json()


async def _ahttpx_json(rf: Awaitable[Any]) -> Any:
    r = await rf
    r.raise_for_status()
    return r.json()


def _httpx_bytes(r: Any) -> bytes:
    r.raise_for_status()
    return r.content


async def _ahttpx_bytes(rf: Awaitable[Any]) -> bytes:
    r = await rf
    r.raise_for_status()
    return r.content


# ---------------------------------------------------------------- subprocess measurements

IMPORT_SNIPPET = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"


def import_times(n: int = 20) -> Dict[str, Any]:
    out = {}
    for mod in ("miosa_native", "miosa", "httpx"):
        ts = []
        for _ in range(n):
            r = subprocess.run([PY, "-c", IMPORT_SNIPPET.format(mod=mod)], capture_output=True, text=True, check=True)
            ts.append(float(r.stdout.strip()) * 1000)
        out[mod] = {"median_ms": median(ts), "min_ms": min(ts), "max_ms": max(ts), "processes": n}
        print(f"  import {mod:<14} median {median(ts):7.2f} ms (min {min(ts):.2f}, max {max(ts):.2f}, {n} processes)")
    return out


CHILD = os.path.abspath(__file__)
TARGET: Dict[str, str] = {}


def child(args: List[str]) -> Dict[str, Any]:
    cmd = [PY, CHILD, "--base-url", TARGET["base"], "--api-key", TARGET["key"], "--child", *args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"child {args} failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_child(kind: str, base: str, key: str, extra: List[str]) -> Dict[str, Any]:
    """Entry point of `bench.py --child KIND ...` (a fresh interpreter)."""
    if kind == "idle":
        return {"rss_kb": status_kb("VmRSS"), "hwm_kb": status_kb("VmHWM")}
    if kind.startswith("rss-"):
        who = kind[4:]
        rss0 = status_kb("VmRSS")
        if who == "native":
            import miosa_native

            cl = miosa_native.Client(key, base_url=base)
            cl.sandboxes.get(SANDBOX)
        elif who == "official":
            import miosa

            cl = miosa.Miosa(api_key=key, base_url=base)
            cl.sandboxes.get(SANDBOX)
        else:
            import httpx

            cl = httpx.Client(base_url=base, headers=httpx_headers(key))
            cl.get(f"/sandboxes/{SANDBOX}").json()
        gc.collect()
        return {"rss_start_kb": rss0, "rss_kb": status_kb("VmRSS"), "hwm_kb": status_kb("VmHWM")}
    if kind.startswith("inflight-"):
        who = kind[9:]
        n = int(extra[0])
        return asyncio.run(_inflight(who, base, key, n))
    if kind.startswith("sse-"):
        mode = kind[4:]
        n = int(extra[0])
        return _sse(mode, base, key, n)
    raise SystemExit(f"unknown child {kind}")


async def _inflight(who: str, base: str, key: str, n: int) -> Dict[str, Any]:
    import httpx

    if who == "native":
        import miosa_native

        cl: Any = miosa_native.AsyncClient(key, base_url=base)
        call = lambda: cl.sandboxes.get(SANDBOX)  # noqa: E731
    elif who == "official":
        import miosa

        cl = miosa.AsyncMiosa(api_key=key, base_url=base, max_retries=0)
        call = lambda: cl.sandboxes.get(SANDBOX)  # noqa: E731
    else:
        cl = httpx.AsyncClient(
            base_url=base,
            headers=httpx_headers(key),
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
            timeout=60,
        )
        call = lambda: _ahttpx_json(cl.get(f"/sandboxes/{SANDBOX}"))  # noqa: E731
    await call()
    rss0 = status_kb("VmRSS")
    t = time.perf_counter()
    results = await asyncio.gather(*(call() for _ in range(n)), return_exceptions=True)
    secs = time.perf_counter() - t
    errs = [r for r in results if isinstance(r, BaseException)]
    return {
        "who": who,
        "n": n,
        "secs": secs,
        "errors": len(errs),
        "first_error": repr(errs[0]) if errs else None,
        "rss_before_kb": rss0,
        "hwm_kb": status_kb("VmHWM"),
        "rss_after_kb": status_kb("VmRSS"),
    }


def _sse(mode: str, base: str, key: str, n: int) -> Dict[str, Any]:
    import miosa_native

    samples: List[int] = []
    step = max(n // 10, 1)
    rss0 = status_kb("VmRSS")
    count = 0
    nbytes = 0
    t = time.perf_counter()
    if mode == "sync":
        cl = miosa_native.Client(key, base_url=base)
        rss0 = status_kb("VmRSS")
        t = time.perf_counter()
        for ev in cl.stream_sse("/_emulator/stream", extra_query={"count": n}):
            nbytes += len(ev.data)
            count += 1
            if count % step == 0:
                samples.append(status_kb("VmRSS"))
    else:

        async def go() -> None:
            nonlocal count, nbytes, rss0, t
            acl = miosa_native.AsyncClient(key, base_url=base)
            rss0 = status_kb("VmRSS")
            t = time.perf_counter()
            async for ev in acl.stream_sse("/_emulator/stream", extra_query={"count": n}):
                nbytes += len(ev.data)
                count += 1
                if count % step == 0:
                    samples.append(status_kb("VmRSS"))

        asyncio.run(go())
    secs = time.perf_counter() - t
    return {
        "mode": mode,
        "events": count,
        "data_bytes": nbytes,
        "secs": secs,
        "events_per_s": count / secs,
        "rss_before_kb": rss0,
        "rss_after_kb": status_kb("VmRSS"),
        "hwm_kb": status_kb("VmHWM"),
        "rss_samples_kb": samples,
    }


def medians_of(runs: List[Dict[str, Any]], keys: List[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {k: median([float(r[k]) for r in runs]) for k in keys}
    out["runs"] = runs
    return out


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--only", default="")
    ap.add_argument("--json")
    ap.add_argument("--sse-events", type=int, default=1_000_000)
    ap.add_argument("--inflight", type=int, default=1000)
    ap.add_argument("--child", nargs="+")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child[0], args.base_url, args.api_key, args.child[1:])))
        return
    only = set(filter(None, args.only.split(",")))
    wants = lambda s: not only or s in only  # noqa: E731
    base, key = args.base_url, args.api_key
    TARGET.update(base=base, key=key)
    import importlib.metadata as md

    result: Dict[str, Any] = {
        "python": sys.version.split()[0],
        "versions": {p: md.version(p) for p in ("miosa-native", "miosa", "httpx")},
        "runs": args.runs,
        "scale": args.scale,
    }
    print(f"python {result['python']}; {result['versions']}")
    if wants("import"):
        print("import time (fresh processes)")
        result["import"] = import_times(20)
    if wants("rss"):
        print("resident memory of a process holding one client (after one sandboxes.get)")
        rss: Dict[str, Any] = {"idle_python": medians_of([child(["idle"]) for _ in range(3)], ["rss_kb"])}
        for who in ("native", "official", "httpx"):
            rss[who] = medians_of([child([f"rss-{who}"]) for _ in range(3)], ["rss_kb", "hwm_kb"])
        for k, v in rss.items():
            print(f"  {k:<12} RSS {v['rss_kb']:.0f} kB")
        result["rss"] = rss
    c = clients(base, key) if (wants("get") or wants("download")) else {}
    if wants("get"):
        result["sandboxes_get"] = bench_route("sandboxes.get (GET /sandboxes/sbx_fixture)", c, get_spec(), args)
    if wants("download"):
        c["native"].sandbox.files.write(SANDBOX, DOWNLOAD_PATH, b"x" * MIB)
        result["download_1mib"] = bench_route("sandbox.files.read 1 MiB", c, download_spec(), args)
    if wants("sse"):
        print(f"SSE through miosa_native ({args.sse_events} events of /_emulator/stream, own process)")
        sse: Dict[str, Any] = {}
        for mode in ("sync", "async"):
            runs = [child([f"sse-{mode}", str(args.sse_events)]) for _ in range(min(args.runs, 3))]
            sse[mode] = medians_of(runs, ["events_per_s", "rss_before_kb", "rss_after_kb", "hwm_kb"])
            v = sse[mode]
            print(
                f"  {mode:<6} {v['events_per_s']:>10.0f} events/s  RSS before {v['rss_before_kb']:.0f} kB, after {v['rss_after_kb']:.0f} kB,"
                f" peak {v['hwm_kb']:.0f} kB; samples {runs[-1]['rss_samples_kb']}"
            )
        result["sse"] = sse
    if wants("inflight"):
        print(f"{args.inflight} requests in flight on one client (asyncio.gather, own process)")
        inf: Dict[str, Any] = {}
        for who in ("native", "httpx", "official"):
            runs = [child([f"inflight-{who}", str(args.inflight)]) for _ in range(args.runs)]
            inf[who] = medians_of(runs, ["secs", "errors", "rss_before_kb", "hwm_kb"])
            v = inf[who]
            print(
                f"  {who:<9} {v['secs']:.3f} s  errors {v['errors']:.0f}  RSS before {v['rss_before_kb']:.0f} kB  peak {v['hwm_kb']:.0f} kB"
                + (f"  first error: {runs[0]['first_error']}" if runs[0]["first_error"] else "")
            )
        result["inflight"] = inf
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
