"""`on_state=` on the waits: each new lifecycle state seen while polling is
reported once, and the sequence ends in the ready state."""

from __future__ import annotations

import asyncio
import sys
from typing import List

import pytest

import miosa_native


def _no_repeats(states: List[str]) -> bool:
    return all(a != b for a, b in zip(states, states[1:]))


def test_a_booting_sandbox_reports_its_states(client: miosa_native.Client) -> None:
    sb = client.sandboxes.create(name="watched")
    seen: List[str] = []
    assert client.sandboxes.wait_until_ready(sb.id, timeout=10, on_state=seen.append) is True
    assert seen[0] == "creating" and seen[-1] == "running", seen
    assert _no_repeats(seen), seen


def test_a_handle_and_a_computer_report_their_states(client: miosa_native.Client) -> None:
    computer = client.computers.create(name="watched")
    seen: List[str] = []
    assert client.computer.wait_until_running(computer.id, timeout=10, on_state=seen.append) is True
    assert len(seen) >= 2 and seen[-1] == "running", seen
    assert _no_repeats(seen), seen

    handle = client.sandboxes.create(name="watched-handle")
    states: List[str] = []
    assert handle.wait_until_ready(timeout=10, on_state=states.append) is True
    assert states[-1] == "running" and _no_repeats(states), states


def test_the_async_wait_reports_states_too(aclient: miosa_native.AsyncClient) -> None:
    async def main() -> List[str]:
        sb = await aclient.sandboxes.create(name="watched-async")
        seen: List[str] = []
        assert await aclient.sandboxes.wait_until_ready(sb.id, timeout=10, on_state=seen.append) is True
        return seen

    seen = asyncio.run(main())
    assert seen[0] == "creating" and seen[-1] == "running", seen
    assert _no_repeats(seen), seen


def test_a_raising_callback_does_not_stop_the_wait(
    client: miosa_native.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = client.sandboxes.create(name="watched-raising")
    reported: List[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))

    def boom(state: str) -> None:
        raise RuntimeError(f"callback failed at {state}")

    assert client.sandboxes.wait_until_ready(sb.id, timeout=10, on_state=boom) is True
    assert [str(e) for e in reported][-1] == "callback failed at running"
