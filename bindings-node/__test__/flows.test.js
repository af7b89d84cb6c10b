'use strict'

// The seed's two end-to-end flows, written as a Node user would write them.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client, NotFoundError } = require('miosa-native')
const { startEmulator } = require('./helpers.js')

let emu
before(async () => {
  emu = await startEmulator()
})
after(() => emu && emu.stop())

test('First request: create, start, exec, destroy', async () => {
  const client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  const sb = await client.sandboxes.create({ name: 'quick-exec' })
  assert.match(sb.id, /^sbx_/)
  assert.equal(sb.name, 'quick-exec')
  await client.computer.start(sb.id)
  const { output, exit_code } = await client.exec.run(sb.id, { command: "python3 -c 'print(1 + 1)'" })
  assert.equal(output, '2\n')
  assert.equal(exit_code, 0)
  await client.computer.destroy(sb.id)
  await assert.rejects(client.sandboxes.get(sb.id), NotFoundError)
})

test('White-label integrator flow', async () => {
  const client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0, headers: { 'x-tenant-id': 'acme-corp' } })

  // Branding and a custom preview domain for the integrator's own product.
  const branding = { product_name: 'Acme Cloud', primary_color: '#ff6600', support_email: 'help@acme.test' }
  await client.tenant.setBranding({ branding })
  const shown = await client.tenant.getBranding()
  assert.equal(JSON.stringify(shown).includes('Acme Cloud'), true)
  const [brandingRequest] = await emu.requests(1)
  assert.equal(brandingRequest.headers['x-tenant-id'], 'acme-corp')

  await client.tenant.setPreviewDomain('preview.acme.test')
  const domain = await client.tenant.getPreviewDomain()
  assert.equal(JSON.stringify(domain).includes('preview.acme.test'), true)
  const verified = await client.tenant.verifyPreviewDomain()
  assert.equal(typeof verified, 'object')

  // A webhook for lifecycle events; its secret is shown once, next to the record.
  const hook = await client.webhooks.create({ url: 'http://127.0.0.1:9/hooks', events: ['sandbox.created', 'sandbox.ready'] })
  assert.match(hook.id, /\S/)
  assert.equal(typeof hook.secret, 'string')
  assert.deepEqual(hook.events, ['sandbox.created', 'sandbox.ready'])

  // A quota for one end user, then a sandbox attributed to that user.
  const quota = await client.quotas.set('usr_123', { max_sandboxes: 5, max_concurrent: 2 })
  assert.equal(quota.max_sandboxes, 5)
  const sb = await client.sandboxes.create({
    name: 'acme-usr-123',
    external_user_id: 'usr_123',
    external_workspace_id: 'ws_789',
    external_project_id: 'proj_456',
    metadata: { plan: 'pro' },
  })
  assert.equal(sb.external_user_id, 'usr_123')
  assert.equal(await client.sandboxes.waitUntilReady(sb.id, { timeout: 30 }), true)

  // The user's files, a preview token and a read-only share link.
  const page = Buffer.from('<h1>Hello from Acme</h1>\n')
  const written = await client.sandbox.files.writeMany(sb.id, [
    { path: '/workspace/index.html', content_base64: page.toString('base64') },
    { path: '/workspace/app.py', content_base64: Buffer.from('print("hi")\n').toString('base64') },
  ])
  assert.equal(JSON.stringify(written).includes('/workspace/index.html'), true)
  assert.deepEqual(await client.sandbox.files.read(sb.id, '/workspace/index.html'), page)
  const token = await client.sandboxes.previewToken(sb.id, { expires_in: 3600, scope: 'read' })
  assert.equal(typeof token.token, 'string')
  assert.match(token.url, /^https?:\/\//)
  const share = await client.sandbox.share.create(sb.id, { scope: 'read' })
  assert.match(share.share_url, /^https?:\/\//)
  const shares = await client.sandbox.share.list(sb.id)
  assert.equal(shares.some((s) => s.share_id === share.share_id), true)

  // Usage attributed to the end user.
  const usage = await client.usage.get({ group_by: 'external_user_id', external_user_id: 'usr_123' })
  assert.equal(Array.isArray(usage.results), true)
  const report = await client.usage.report('2026-01-01', '2026-12-31')
  assert.equal(typeof report, 'object')

  // Tear down.
  await client.sandboxes.delete(sb.id)
  await assert.rejects(client.sandboxes.get(sb.id), NotFoundError)
  await client.webhooks.delete(hook.id)
  await client.quotas.delete('usr_123')
})
