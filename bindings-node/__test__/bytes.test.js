'use strict'

// Bytes inside `writeMany` items: the core sends each item's content (a Buffer,
// Uint8Array or ArrayBuffer, or a string) base64-encoded. `tests/files/write_many.json`
// holds the cases every language replays.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { Client, InvalidArgumentError } = require('miosa-native')
const { startEmulator } = require('./helpers.js')

const VECTORS = require(path.join(__dirname, '..', '..', 'tests', 'files', 'write_many.json'))

/** A vector value in Node's own types: `{ $hex }` becomes a Buffer. */
function native(value) {
  if (Array.isArray(value)) return value.map(native)
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
    if (keys.length === 1 && keys[0] === '$hex') return Buffer.from(value.$hex, 'hex')
    return Object.fromEntries(keys.map((k) => [k, native(value[k])]))
  }
  return value
}

let emu
let client
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
})
after(() => emu && emu.stop())

for (const c of VECTORS.cases) {
  test(`writeMany vector: ${c.name}`, async () => {
    const sb = await client.sandboxes.create({ name: 'vectors', wait: true })
    const files = native(c.files)
    if (c.error !== undefined) {
      await assert.rejects(client.sandbox.files.writeMany(sb.id, files), (err) => {
        assert.ok(err instanceof InvalidArgumentError, String(err))
        assert.ok(err.message.includes(c.error), err.message)
        return true
      })
      return
    }
    await client.sandbox.files.writeMany(sb.id, files)
    for (const [p, hex] of Object.entries(c.read)) {
      assert.deepEqual(await client.sandbox.files.read(sb.id, p), Buffer.from(hex, 'hex'), p)
    }
  })
}

test('writeMany takes Buffer, Uint8Array and ArrayBuffer content', async () => {
  const sb = await client.sandboxes.create({ name: 'bytes', wait: true })
  const blobs = {
    '/workspace/a.bin': Buffer.from([0, 255, 1, 2, 3]),
    '/workspace/b.bin': new Uint8Array([127, 128, 0, 10, 13]),
    '/workspace/c.bin': new Uint8Array([9, 8, 7, 6, 5, 4]).subarray(2),
    '/workspace/d.bin': new Uint8Array([1, 0, 2]).buffer,
  }
  const written = await client.sandbox.files.writeMany(
    sb.id,
    Object.entries(blobs).map(([p, content]) => ({ path: p, content })),
  )
  assert.equal(written.written.length, 4)
  for (const [p, content] of Object.entries(blobs)) {
    assert.deepEqual(await client.sandbox.files.read(sb.id, p), Buffer.from(content))
  }
  // The handle takes the same items.
  const handle = client.sandboxes.connect(sb.id)
  await handle.files.writeMany([{ path: '/workspace/e.bin', content: Buffer.from([0, 101]) }])
  assert.deepEqual(await client.sandbox.files.read(sb.id, '/workspace/e.bin'), Buffer.from([0, 101]))
})
