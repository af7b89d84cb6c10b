"""Upload a local file into a sandbox and download it back, each with a tqdm
progress bar; the client streams both, so the file is never held in memory.

    pip install tqdm
    python examples/python/transfer_progress.py

Talks to MIOSA when ``MIOSA_API_KEY`` is set, otherwise to a local miosa-emulator.
"""

from __future__ import annotations

import filecmp
import os
import pathlib
import tempfile
from typing import Optional

from local_emulator import api_settings
from tqdm import tqdm  # type: ignore[import-untyped, import-not-found, unused-ignore]

from miosa_native import Client, ProgressCallback


def bar(description: str) -> tuple[tqdm, ProgressCallback]:
    """A tqdm bar and the `on_progress` callback that moves it."""
    shown = tqdm(desc=description, unit="B", unit_scale=True, unit_divisor=1024)

    def on_progress(done: int, total: Optional[int]) -> None:
        if total is not None:
            shown.total = total
        shown.update(done - shown.n)

    return shown, on_progress


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = pathlib.Path(folder) / "data.bin"
        with open(source, "wb") as out:
            for _ in range(16):
                out.write(os.urandom(1 << 20))
        with api_settings() as (api_key, base_url), Client(api_key, base_url=base_url) as client:
            sandbox = client.sandboxes.create(name="transfer")
            client.sandboxes.wait_until_ready(sandbox.id, timeout=60.0)
            shown, on_progress = bar("upload")
            with shown:
                client.sandbox.files.upload(sandbox.id, "/workspace/data.bin", source, on_progress=on_progress)
            target = pathlib.Path(folder) / "copy.bin"
            shown, on_progress = bar("download")
            with shown:
                client.sandbox.files.download(sandbox.id, "/workspace/data.bin", target, on_progress=on_progress)
            client.computer.destroy(sandbox.id)
        print("identical" if filecmp.cmp(source, target, shallow=False) else "different")


if __name__ == "__main__":
    main()
