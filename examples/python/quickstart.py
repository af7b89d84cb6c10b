"""The seed's "First request": create a sandbox, run a command in it, print
its output (2); leaving the `with` block destroys the sandbox.

    python examples/python/quickstart.py

Talks to MIOSA when ``MIOSA_API_KEY`` is set, otherwise to a local miosa-emulator.
"""

from __future__ import annotations

from local_emulator import api_settings

from miosa_native import Client


def main() -> None:
    with api_settings() as (api_key, base_url), Client(api_key, base_url=base_url) as client:
        with client.sandboxes.create(name="quick-exec", wait=True) as sandbox:
            result = sandbox.exec.run(command="python3 -c 'print(1 + 1)'")
            print(result.stdout, end="")


if __name__ == "__main__":
    main()
