"""The seed's flows as a user writes them, with nothing but the typed API: no
casts, no `assert x is not None`, no `# type: ignore`. It type-checks under
`mypy --strict` and pyright strict, and runs against the emulator.

    python examples/python/flows.py
"""

from __future__ import annotations

from typing import List

from local_emulator import api_settings

from miosa_native import ApiKey, Client, ExecResult, FileEntry, NotFoundError, Webhook


def run(client: Client) -> List[str]:
    seen: List[str] = []
    # A handle: the sandbox record plus every `sandbox.*` operation with its id bound.
    with client.sandboxes.create(name="typed-flows", tags=["demo"], env={"GREETING": "hi"}, wait=True) as sandbox:
        seen.append(sandbox.id)

        result: ExecResult = sandbox.exec.run(command="echo $GREETING", timeout=30)
        seen.append(result.stdout.strip())
        if result.exit_code != 0:
            raise SystemExit(result.stderr or "the command failed")

        written = sandbox.files.write("/workspace/notes.txt", b"typed\n")
        seen.append(written.path)
        many = sandbox.files.write_many(
            [{"path": "/workspace/a.txt", "content": b"a"}, {"path": "/workspace/b.txt", "content": "b"}]
        )
        seen.extend(f.path for f in many.written)
        entries: List[FileEntry] = sandbox.files.list(path="/workspace")
        seen.extend(sorted(e.name or e.path for e in entries))
        seen.append(sandbox.files.read("/workspace/notes.txt").decode().strip())

        # `env` and `tags` are namespaces on a handle; the record's fields are in `sandbox.data`.
        for var in sandbox.env.list():
            seen.append(f"{var.key}={'set' if var.value else 'masked'}")
        tags: List[str] = sandbox.tags.add(["typed"])
        seen.append(",".join(sorted(tags)))

        token = sandbox.preview_token(expires_in=600, scope="read")
        seen.append(token.url.split("?")[0])
        share = sandbox.share.create(scope="read")
        seen.append(share.share_id)
    # Leaving the block destroyed the sandbox.
    try:
        client.sandboxes.get(sandbox.id)
        seen.append("kept")
    except NotFoundError:
        seen.append("deleted")

    # Computers have their own handle; `exec.run` there is the computer's exec.
    with client.computers.create(name="typed-desktop") as computer:
        computer.start()
        on_computer = computer.exec.run(command="echo same")
        seen.append(on_computer.output.strip() + "/" + on_computer.stdout.strip())

    hook: Webhook = client.webhooks.create(url="http://127.0.0.1:9/hook", events=["sandbox.ready"])
    seen.append(hook.id + (" with a secret" if hook.secret else ""))
    key: ApiKey = client.api_keys.create(name="ci", scopes=["sandboxes:read"])
    seen.append(key.prefix or key.id)
    for listed in client.webhooks.iter(limit=1):
        seen.append(listed.url)
    balance = client.credits.balance()
    seen.append(str(balance.balance))
    return seen


def main() -> None:
    with api_settings() as (api_key, base_url), Client(api_key, base_url=base_url) as client:
        for line in run(client):
            print(line)


if __name__ == "__main__":
    main()
