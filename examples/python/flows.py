"""The seed's flows as a user writes them, with nothing but the typed API: no
casts, no `assert x is not None`, no `# type: ignore`. It type-checks under
`mypy --strict` and pyright strict, and runs against the emulator.

    python examples/python/flows.py
"""

from __future__ import annotations

from typing import List

from local_emulator import api_settings

from miosa_native import ApiKey, Client, ExecResult, FileEntry, Sandbox, Webhook


def run(client: Client) -> List[str]:
    seen: List[str] = []
    sandbox: Sandbox = client.sandboxes.create(name="typed-flows", tags=["demo"], env={"GREETING": "hi"})
    seen.append(sandbox.id)
    client.computer.start(sandbox.id)

    result: ExecResult = client.sandbox.exec.run(sandbox.id, command="echo $GREETING", timeout=30)
    seen.append(result.stdout.strip())
    if result.exit_code != 0:
        raise SystemExit(result.stderr or "the command failed")
    computer_run = client.exec.run(sandbox.id, command="echo same")
    seen.append(computer_run.output.strip() + "/" + computer_run.stdout.strip())

    written = client.sandbox.files.write(sandbox.id, "/workspace/notes.txt", b"typed\n")
    seen.append(written.path)
    many = client.sandbox.files.write_many(
        sandbox.id, [{"path": "/workspace/a.txt", "content_base64": b"a"}, {"path": "/workspace/b.txt", "content_base64": b"b"}]
    )
    seen.extend(f.path for f in many.written)
    entries: List[FileEntry] = client.sandbox.files.list(sandbox.id, path="/workspace")
    seen.extend(sorted(e.name or e.path for e in entries))
    seen.append(client.sandbox.files.read(sandbox.id, "/workspace/notes.txt").decode().strip())

    for var in client.sandbox.env.list(sandbox.id):
        seen.append(f"{var.key}={'set' if var.value else 'masked'}")
    tags: List[str] = client.sandbox.tags.add(sandbox.id, ["typed"])
    seen.append(",".join(sorted(tags)))

    token = client.sandboxes.preview_token(sandbox.id, expires_in=600, scope="read")
    seen.append(token.url.split("?")[0])
    share = client.sandbox.share.create(sandbox.id, scope="read")
    seen.append(share.share_id)

    hook: Webhook = client.webhooks.create(url="http://127.0.0.1:9/hook", events=["sandbox.ready"])
    seen.append(hook.id + (" with a secret" if hook.secret else ""))
    key: ApiKey = client.api_keys.create(name="ci", scopes=["sandboxes:read"])
    seen.append(key.prefix or key.id)
    for listed in client.webhooks.iter(limit=1):
        seen.append(listed.url)
    balance = client.credits.balance()
    seen.append(str(balance.balance))

    gone = client.sandboxes.delete(sandbox.id)
    seen.append("deleted" if gone.ok else "kept")
    return seen


def main() -> None:
    with api_settings() as (api_key, base_url), Client(api_key, base_url=base_url) as client:
        for line in run(client):
            print(line)


if __name__ == "__main__":
    main()
