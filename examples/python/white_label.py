"""The seed's "White-label integrator flow", on the asyncio client: brand the
tenant, point previews at a custom domain, subscribe a webhook, cap an end
user's quota, create a sandbox attributed to that user, wait for it, write
files, mint a preview token and a share link, read usage, destroy.

    python examples/python/white_label.py

Talks to MIOSA when ``MIOSA_API_KEY`` is set, otherwise to a local miosa-emulator.
"""

from __future__ import annotations

import asyncio

from local_emulator import api_settings

from miosa_native import AsyncClient


async def main() -> None:
    with api_settings() as (api_key, base_url):
        # White-label proxies route on a tenant header sent with every request.
        async with AsyncClient(api_key, base_url=base_url, headers={"x-tenant-id": "acme-corp"}) as client:
            end_user = "usr_123"

            await client.tenant.set_branding(branding={"product_name": "Acme Cloud", "primary_color": "#0050ff"})
            await client.tenant.set_preview_domain("preview.acme.dev")

            webhook = await client.webhooks.create(
                url="https://hooks.acme.dev/miosa", events=["sandbox.ready", "sandbox.destroyed"]
            )
            print(f"webhook {webhook.id} (secret shown once: {len(webhook.secret or '')} chars)")

            await client.quotas.set(end_user, max_sandboxes=5)

            sandbox = await client.sandboxes.create(
                name="acme-user-workspace", external_user_id=end_user, external_workspace_id="ws_acme"
            )
            ready = await client.sandboxes.wait_until_ready(sandbox.id, timeout=60.0)
            print(f"sandbox {sandbox.id} ready: {ready}")

            written = await client.sandbox.files.write_many(
                sandbox.id,
                [
                    # Content is text or bytes; the client does the base64.
                    {"path": "/workspace/index.html", "content": "<h1>Acme</h1>\n"},
                    {"path": "/workspace/app.py", "content": b"print('hi')\n"},
                ],
            )
            print(f"written: {len(written.written)}")

            token = await client.sandboxes.preview_token(sandbox.id, expires_in=3600, scope="read")
            print(f"preview url: {token.url}")
            share = await client.sandbox.share.create(sandbox.id, scope="read")
            print(f"share url: {share.share_url}")

            usage = await client.usage.get(group_by="external_user_id")
            print(f"usage rows: {len(usage.results)}")

            await client.sandboxes.delete(sandbox.id)
            print(f"destroyed {sandbox.id}")


if __name__ == "__main__":
    asyncio.run(main())
