'use strict'

// Calls beyond the seed that take more than one request to prove: a streamed
// command's lines arrive while it runs, and multipart uploads (from bytes and
// from a local file) download byte for byte.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Client, InvalidArgumentError } = require('miosa-native')
const { startEmulator } = require('./helpers.js')

// `alpha`, then a bounded wait for a file the test writes only after reading
// `alpha`: `beta` follows only if `alpha` arrived while the command ran.
const HANDSHAKE =
  'echo alpha; i=0; while [ ! -f go ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; [ -f go ] && echo beta'

let emu
let client
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
})
after(() => emu && emu.stop())

function sample(size) {
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i += 1) out[i] = (i * 7 + Math.floor(i / 256)) % 256
  return out
}

test('streamed exec delivers alpha while the command runs, then beta', async () => {
  const seen = []
  const stream = client.sandbox.exec.stream('sbx_fixture', { command: HANDSHAKE, timeout: 30 })
  for await (const event of stream) {
    seen.push([event.event, JSON.parse(event.data)])
    if (event.event === 'stdout' && seen.at(-1)[1].line === 'alpha') {
      await client.sandbox.files.write('sbx_fixture', '/workspace/go', 'go')
    }
    if (event.event === 'exit' || seen.length > 10) break
  }
  assert.deepEqual(
    seen.map(([name, data]) => [name, data.line ?? data.exit_code]),
    [
      ['stdout', 'alpha'],
      ['stdout', 'beta'],
      ['exit', 0],
    ],
  )
})

test('a multipart upload and the download return the same bytes', async () => {
  const bytes = sample(70_000)
  const written = await client.files.write('cmp_fixture', '/home/user/rt/from-bytes.bin', bytes)
  assert.ok(written.path.endsWith('/rt/from-bytes.bin'))
  assert.ok(bytes.equals(await client.files.download('cmp_fixture', '/home/user/rt/from-bytes.bin')))

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'miosa-upload-'))
  const local = path.join(dir, 'upload.bin')
  const onDisk = sample(300_000)
  fs.writeFileSync(local, onDisk)
  try {
    await client.files.upload('cmp_fixture', local, '/home/user/rt/from-disk.bin')
    assert.ok(onDisk.equals(await client.files.download('cmp_fixture', '/home/user/rt/from-disk.bin')))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('uploading a missing local file names the parameter', async () => {
  await assert.rejects(
    client.files.upload('cmp_fixture', '/nonexistent/miosa/file.bin', '/home/user/x.bin'),
    (err) => err instanceof InvalidArgumentError && err.message.includes('`local_path`'),
  )
})

test('the preview URL of a port is computed without a request', async () => {
  const url = await client.computer.previewUrl('cmp_fixture', 3000, { path: '/health' })
  assert.equal(url.url, 'https://3000-cmp_fixture.sandbox.miosa.app/health')
  assert.equal(url.public_url, 'https://cmp_fixture.sandbox.miosa.app')
})
