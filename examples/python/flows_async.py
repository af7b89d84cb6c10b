"""The seed's "First request" with asyncio and handles: `async with` destroys
the sandbox when the block ends, normally or by an exception. Type-checks under
`mypy --strict` and runs against the emulator.

    python examples/python/flows_async.py      # prints 2
"""

from __future__ import annotations

import asyncio
from typing import Optional

from local_emulator import api_settings

from miosa_native import AsyncClient, ExecResult


async def main(api_key: str, base_url: Optional[str]) -> None:
    async with AsyncClient(api_key, base_url=base_url) as client:
        async with client.sandboxes.create(name="quick-exec", wait=True) as sandbox:
            await sandbox.files.write("/workspace/calc.py", b"print(1 + 1)\n")
            result: ExecResult = await sandbox.exec.run(command="python3 /workspace/calc.py")
            print(result.stdout, end="")


if __name__ == "__main__":
    with api_settings() as (key, url):
        asyncio.run(main(key, url))
