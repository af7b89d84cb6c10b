'use strict'

// Sandbox and computer handles: the same routes as the flat calls (read back
// from the emulator's request log), destroy on dispose, and the User-Agent.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const os = require('node:os')
const { Client, NotFoundError, InvalidArgumentError, version } = require('miosa-native')
const { startEmulator } = require('./helpers.js')

let emu
let client
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
})
after(() => emu && emu.stop())

async function routes() {
  const log = await emu.control('GET', 'requests')
  return log.filter((r) => !r.path.includes('/_emulator')).map((r) => [r.method, r.path, r.body])
}

async function clearLog() {
  await emu.control('DELETE', 'requests')
}

async function status(path) {
  const res = await fetch(`${emu.baseUrl}${path}`, { headers: { authorization: `Bearer ${emu.apiKey}` } })
  return res.status
}

test('handle calls hit the same routes as the flat calls', async () => {
  const sb = await client.sandboxes.create({ name: 'routes', wait: true })
  assert.equal(sb.constructor.name, 'SandboxHandle')
  await clearLog()
  await client.sandbox.exec.run(sb.id, { command: 'echo hi', timeout: 30 })
  await client.sandbox.files.write(sb.id, '/workspace/a.txt', 'a')
  await client.sandbox.files.read(sb.id, '/workspace/a.txt')
  await client.sandbox.files.list(sb.id, { path: '/workspace' })
  await client.sandbox.env.list(sb.id)
  await client.sandbox.tags.add(sb.id, ['t'])
  await client.sandbox.processes.list(sb.id)
  await client.sandboxes.get(sb.id)
  const expected = await routes()
  await clearLog()
  await sb.exec.run({ command: 'echo hi', timeout: 30 })
  await sb.files.write('/workspace/a.txt', 'a')
  await sb.files.read('/workspace/a.txt')
  await sb.files.list({ path: '/workspace' })
  await sb.env.list()
  await sb.tags.add(['t'])
  await sb.processes.list()
  await sb.refresh()
  assert.deepEqual(await routes(), expected)
  assert.ok(expected.length >= 9)
})

test('fields, the namespace that wins over a field, refresh and fork', async () => {
  const sb = await client.sandboxes.create({ name: 'fields', env: { GREETING: 'hi' }, tags: ['demo'], wait: true })
  const out = await sb.exec.run({ command: 'echo $GREETING', timeout: 30 })
  assert.equal(out.stdout.trim(), 'hi')
  assert.equal(sb.name, 'fields')
  assert.deepEqual(sb.data.tags, ['demo'])
  assert.equal(typeof sb.tags.add, 'function')
  assert.deepEqual(JSON.parse(JSON.stringify(sb)).tags, ['demo'])
  assert.equal(await sb.update({ name: 'after' }), sb)
  assert.equal(sb.name, 'after')
  const child = await sb.fork({ name: 'child' })
  assert.notEqual(child.id, sb.id)
  assert.equal(await child.waitUntilReady({ timeout: 30 }), true)
  assert.equal((await child.exec.run({ command: 'echo forked' })).stdout.trim(), 'forked')
  const listed = await client.sandboxes.list()
  assert.ok(listed.length > 0 && listed.every((s) => s.constructor.name === 'SandboxHandle'))
  assert.equal(typeof client.sandboxes.previewToken, 'function') // the other operations stay
})

test('connect makes no request', async () => {
  const sb = await client.sandboxes.create({ name: 'known', wait: true })
  await clearLog()
  const again = client.sandboxes.connect(sb.id)
  assert.deepEqual(await routes(), [])
  assert.equal((await again.exec.run({ command: 'echo connected' })).stdout.trim(), 'connected')
  assert.equal((await again.refresh()).name, 'known')
  assert.throws(() => client.sandboxes.connect(''), InvalidArgumentError)
})

test('Symbol.asyncDispose destroys on normal exit and on an exception, unless kept', async () => {
  // What `await using sb = await client.sandboxes.create()` runs at the end of the block.
  async function scoped(body, keep = false) {
    const sb = await client.sandboxes.create({ name: 'scoped', wait: true })
    if (keep) sb.keep()
    try {
      await body(sb)
    } finally {
      await sb[Symbol.asyncDispose]()
    }
    return sb.id
  }
  const normal = await scoped(async (sb) => assert.equal((await sb.exec.run({ command: 'echo in' })).stdout.trim(), 'in'))
  assert.equal(await status(`/sandboxes/${normal}`), 404)
  let failing
  await assert.rejects(scoped(async (sb) => { failing = sb.id; throw new RangeError('boom') }), RangeError)
  assert.equal(await status(`/sandboxes/${failing}`), 404)
  const kept = await scoped(async () => {}, true)
  assert.equal(await status(`/sandboxes/${kept}`), 200)
  // Destroyed inside the block: disposing is still fine.
  const early = await scoped(async (sb) => sb.destroy())
  await assert.rejects(client.sandboxes.get(early), NotFoundError)
})

test('the computer handle binds computer, desktop and exec', async () => {
  const pc = await client.computers.create({ name: 'desk' })
  assert.equal(pc.constructor.name, 'ComputerHandle')
  await pc.start()
  await clearLog()
  await client.exec.run(pc.id, { command: 'echo flat' })
  await client.desktop.click(pc.id, 1, 2)
  await client.computer.env.list(pc.id)
  const expected = await routes()
  await clearLog()
  await pc.exec.run({ command: 'echo flat' })
  await pc.desktop.click(1, 2)
  await pc.env.list()
  assert.deepEqual(await routes(), expected)
  await clearLog()
  await pc[Symbol.asyncDispose]()
  assert.deepEqual((await routes()).map(([m, p]) => `${m} ${p}`), [`DELETE /api/v1/computers/${pc.id}`])
})

test('the User-Agent names package, runtime and platform', async () => {
  await client.credits.balance()
  const [last] = await emu.control('GET', 'requests?limit=1')
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[os.arch()] || os.arch()
  assert.equal(last.headers['user-agent'], `miosa-native/${version} node/${process.versions.node} ${process.platform} ${arch}`)
})
