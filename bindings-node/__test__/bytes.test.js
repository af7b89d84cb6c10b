'use strict'

// Bytes inside nested parameters: `writeMany` items whose content is a Buffer or a
// Uint8Array reach the emulator as base64 and read back as the same bytes.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('miosa-native')
const { startEmulator } = require('./helpers.js')

let emu
let client
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
})
after(() => emu && emu.stop())

test('writeMany takes Buffer and Uint8Array content', async () => {
  const sb = await client.sandboxes.create({ name: 'bytes', wait: true })
  const blobs = {
    '/workspace/a.bin': Buffer.from([0, 255, 1, 2, 3]),
    '/workspace/b.bin': new Uint8Array([127, 128, 0, 10, 13]),
    '/workspace/c.bin': new Uint8Array([9, 8, 7, 6, 5, 4]).subarray(2),
  }
  const written = await client.sandbox.files.writeMany(
    sb.id,
    Object.entries(blobs).map(([path, content]) => ({ path, content_base64: content })),
  )
  assert.equal(written.written.length, 3)
  for (const [path, content] of Object.entries(blobs)) {
    assert.deepEqual(await client.sandbox.files.read(sb.id, path), Buffer.from(content))
  }
})
