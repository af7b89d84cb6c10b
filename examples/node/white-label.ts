// The seed's "White-label integrator flow" in TypeScript: brand the tenant,
// point previews at a custom domain, subscribe a webhook, cap an end user's
// quota, create a sandbox attributed to that user, wait for it, write files,
// mint a preview token and a share link, read usage, destroy. Against MIOSA
// when MIOSA_API_KEY is set, else a local emulator.
//
//   bindings-node/node_modules/.bin/tsc -p examples/node && node examples/node/white-label.js

import { Client, MiosaError } from 'miosa-native'
import { connect } from './connect.mjs'

const END_USER = 'usr_123'

async function main(): Promise<void> {
  // Requests carry the integrator's tenant header, as behind a white-label proxy.
  const { client, close } = await connect(Client, { headers: { 'x-tenant-id': 'acme-corp' } })
  try {
    await client.tenant.setBranding({ branding: { product_name: 'Acme Cloud', primary_color: '#0050ff' } })
    await client.tenant.setPreviewDomain('preview.acme.dev')

    const webhook = await client.webhooks.create({
      url: 'https://hooks.acme.dev/miosa',
      events: ['sandbox.ready', 'sandbox.destroyed'],
    })
    console.log(`webhook ${webhook.id} (secret shown once: ${webhook.secret?.length ?? 0} chars)`)

    await client.quotas.set(END_USER, { max_sandboxes: 5 })

    // A handle: every `sandbox.*` operation with this sandbox's id bound;
    // `await using` destroys it when the block ends, normally or by an error.
    await using sandbox = await client.sandboxes.create({
      name: 'acme-user-workspace',
      external_user_id: END_USER,
      external_workspace_id: 'ws_acme',
    })
    const id = sandbox.id
    const ready = await sandbox.waitUntilReady({ timeout: 60 })
    console.log(`sandbox ${id} ready: ${ready}`)

    // Content is text or bytes (Buffer, Uint8Array); the client does the base64.
    const written = await sandbox.files.writeMany([
      { path: '/workspace/index.html', content: '<h1>Acme</h1>\n' },
      { path: '/workspace/app.py', content: Buffer.from("print('hi')\n") },
    ])
    console.log(`written: ${written.written?.length ?? 0}`)

    const token = await sandbox.previewToken({ expires_in: 3600, scope: 'read' })
    console.log(`preview url: ${token.url}`)
    const share = await sandbox.share.create({ scope: 'read' })
    console.log(`share url: ${share.share_url}`)

    const usage = await client.usage.get({ group_by: 'external_user_id' })
    console.log(`usage rows: ${usage.results?.length ?? 0}`)

    const result = await sandbox.exec.run({ command: 'python3 app.py', cwd: '/workspace' })
    console.log(`app.py printed: ${result.stdout.trim()}`)
    console.log(`destroying ${id} when the scope ends`)
  } finally {
    await close()
  }
}

main().catch((err: unknown) => {
  if (err instanceof MiosaError) console.error(`MIOSA error ${err.status ?? ''} ${err.code ?? ''}: ${err.message}`)
  else console.error(err)
  process.exitCode = 1
})
