"""The seed's "First request": create a sandbox, start it, run a command,
print its output (2), destroy it.

    python examples/python/quickstart.py

Talks to MIOSA when ``MIOSA_API_KEY`` is set, otherwise to a local miosa-emulator.
"""

from __future__ import annotations

from local_emulator import api_settings

from miosa_native import Client


def main() -> None:
    with api_settings() as (api_key, base_url), Client(api_key, base_url=base_url) as client:
        sandbox = client.sandboxes.create(name="quick-exec")
        client.computer.start(sandbox.id)
        result = client.exec.run(sandbox.id, command="python3 -c 'print(1 + 1)'")
        print(result.output, end="")
        client.computer.destroy(sandbox.id)


if __name__ == "__main__":
    main()
