"""A user program with misspelt fields: every strict type checker must reject it."""

from __future__ import annotations

from miosa_native import Client


def run(client: Client) -> str:
    sandbox = client.sandboxes.create(name="typo")
    entries = client.sandbox.files.list(sandbox.id)
    return sandbox.idd + str(len(entries.entriez))
