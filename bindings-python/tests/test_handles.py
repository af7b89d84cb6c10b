"""Sandbox and computer handles: the same routes as the flat calls (read back
from the emulator's request log), destroy on leaving `with` / `async with`,
and the User-Agent the emulator sees."""

from __future__ import annotations

import asyncio
import platform
import sys
from typing import Any, Dict, List, Tuple

import pytest

import miosa_native
from conftest import Emulator
from miosa_native import AsyncSandboxHandle, NotFoundError, SandboxHandle


def routes(emulator: Emulator) -> List[Tuple[str, str, Any]]:
    """Method, path and body of every API request since the log was last cleared."""
    return [(r["method"], r["path"], r.get("body")) for r in emulator.control("GET", "/requests")
            if "/_emulator" not in r["path"]]


def clear_log(emulator: Emulator) -> None:
    emulator.control("DELETE", "/requests")


def sandbox_state(emulator: Emulator, sandbox_id: str) -> int:
    """HTTP status of GET /sandboxes/{id}, through the control key, not the client under test."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{emulator.base_url}/sandboxes/{sandbox_id}",
                                     headers={"Authorization": f"Bearer {emulator.api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_handle_calls_hit_the_flat_routes(client: miosa_native.Client, fresh: Emulator) -> None:
    sb = client.sandboxes.create(name="routes")
    assert sb.wait_until_ready(timeout=30)
    assert isinstance(sb, SandboxHandle) and isinstance(sb, miosa_native.Sandbox)

    def flat() -> None:
        client.sandbox.exec.run(sb.id, command="echo hi", timeout=30)
        client.sandbox.files.write(sb.id, "/workspace/a.txt", b"a")
        client.sandbox.files.read(sb.id, "/workspace/a.txt")
        client.sandbox.files.list(sb.id, path="/workspace")
        client.sandbox.env.list(sb.id)
        client.sandbox.tags.add(sb.id, ["t"])
        client.sandbox.processes.list(sb.id)
        client.sandboxes.get(sb.id)

    def bound() -> None:
        sb.exec.run(command="echo hi", timeout=30)
        sb.files.write("/workspace/a.txt", b"a")
        sb.files.read("/workspace/a.txt")
        sb.files.list(path="/workspace")
        sb.env.list()
        sb.tags.add(["t"])
        sb.processes.list()
        sb.refresh()

    clear_log(fresh)
    flat()
    expected = routes(fresh)
    clear_log(fresh)
    bound()
    assert routes(fresh) == expected
    assert len(expected) >= 9  # tags.add reads then writes


def test_results_are_typed_and_the_namespace_wins_over_the_field(client: miosa_native.Client) -> None:
    sb = client.sandboxes.create(name="fields", env={"GREETING": "hi"}, tags=["demo"], wait=True)
    out = sb.exec.run(command="echo $GREETING", timeout=30)
    assert isinstance(out, miosa_native.ExecResult) and out.stdout.strip() == "hi"
    assert sb.files.write("/workspace/n.txt", b"x\n").path.endswith("n.txt")
    assert sb.files.read("/workspace/n.txt") == b"x\n"
    # `env` and `tags` are namespaces on a handle; the record's fields stay in `data`.
    assert isinstance(sb.env, miosa_native._handles.SandboxHandleEnvAPI)
    assert sb.data.tags == ["demo"] and sb.to_dict()["tags"] == ["demo"]
    assert type(sb.data) is miosa_native.Sandbox
    assert sb.tags.add(["more"]) == sorted(["demo", "more"]) or set(sb.tags.list()) == {"demo", "more"}
    assert sb.name == "fields" and sb.state


def test_refresh_updates_the_handle_and_fork_gives_a_new_one(client: miosa_native.Client) -> None:
    sb = client.sandboxes.create(name="before", wait=True)
    same = sb.update(name="after")
    assert same is sb and sb.name == "after"
    assert sb.refresh() is sb and sb.name == "after"
    child = sb.fork(name="child")
    assert child.wait_until_ready(timeout=30)
    assert isinstance(child, SandboxHandle) and child.id != sb.id
    assert child.exec.run(command="echo forked").stdout.strip() == "forked"
    listed = client.sandboxes.list()
    assert listed and all(isinstance(s, SandboxHandle) for s in listed)


def test_connect_makes_no_request(client: miosa_native.Client, fresh: Emulator) -> None:
    sb = client.sandboxes.create(name="known", wait=True)
    clear_log(fresh)
    again = client.sandboxes.connect(sb.id)
    assert routes(fresh) == []
    assert again.id == sb.id
    assert again.exec.run(command="echo connected").stdout.strip() == "connected"
    assert again.refresh().name == "known"
    with pytest.raises(miosa_native.InvalidArgumentError, match="id"):
        client.sandboxes.connect("")


def test_with_destroys_on_normal_exit(client: miosa_native.Client, fresh: Emulator) -> None:
    with client.sandboxes.create(name="scoped", wait=True) as sb:
        assert sb.exec.run(command="echo in").stdout.strip() == "in"
        ident = sb.id
    assert ("DELETE", f"/api/v1/sandboxes/{ident}") in [(m, p) for m, p, _ in routes(fresh)]
    assert sandbox_state(fresh, ident) == 404


def test_with_destroys_on_an_exception_and_keeps_it(client: miosa_native.Client, fresh: Emulator) -> None:
    with pytest.raises(ZeroDivisionError):
        with client.sandboxes.create(name="failing") as sb:
            ident = sb.id
            1 / 0
    assert sandbox_state(fresh, ident) == 404
    with client.sandboxes.create(name="kept").keep() as kept:
        pass
    assert sandbox_state(fresh, kept.id) == 200
    # Destroyed inside the block: leaving it is still fine.
    with client.sandboxes.create(name="early") as early:
        early.destroy()
    with pytest.raises(NotFoundError):
        early.refresh()


def test_async_handles(fresh: Emulator) -> None:
    async def main() -> Dict[str, Any]:
        async with miosa_native.AsyncClient(fresh.api_key, base_url=fresh.base_url, max_retries=0) as client:
            async with client.sandboxes.create(name="async-scoped", wait=True) as sb:
                assert isinstance(sb, AsyncSandboxHandle)
                out = await sb.exec.run(command="echo async", timeout=30)
                await sb.files.write("/workspace/x", b"1")
                got = await sb.files.read("/workspace/x")
                scoped = sb.id
            failing = ""
            try:
                async with client.sandboxes.create(name="async-failing") as sb2:
                    failing = sb2.id
                    raise KeyError("boom")
            except KeyError:
                pass
            plain = await client.sandboxes.create(name="awaited")
            assert (await plain.refresh()) is plain
            await plain.destroy()
            return {"out": out.stdout.strip(), "got": got, "scoped": scoped, "failing": failing}

    seen = asyncio.run(main())
    assert seen["out"] == "async" and seen["got"] == b"1"
    assert sandbox_state(fresh, seen["scoped"]) == 404
    assert sandbox_state(fresh, seen["failing"]) == 404


def test_computer_handle_binds_computer_desktop_and_exec(client: miosa_native.Client, fresh: Emulator) -> None:
    with client.computers.create(name="desk") as pc:
        assert isinstance(pc, miosa_native.ComputerHandle)
        pc.start()
        clear_log(fresh)
        client.exec.run(pc.id, command="echo flat")
        client.desktop.click(pc.id, 1, 2)
        client.computer.env.list(pc.id)
        expected = routes(fresh)
        clear_log(fresh)
        pc.exec.run(command="echo flat")
        pc.desktop.click(1, 2)
        pc.env.list()
        assert routes(fresh) == expected
        ident = pc.id
    assert ("DELETE", f"/api/v1/computers/{ident}") in [(m, p) for m, p, _ in routes(fresh)]


def test_user_agent_names_package_runtime_and_platform(client: miosa_native.Client, fresh: Emulator) -> None:
    client.credits.balance()
    agent = fresh.last_request()["headers"]["user-agent"]
    v = sys.version_info
    machine = platform.machine()
    assert agent == f"miosa-native/{miosa_native.__version__} python/{v.major}.{v.minor}.{v.micro} linux {machine}"
