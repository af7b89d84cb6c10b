'use strict'

// Raw responses (`withResponse()`), request ids on results, a client's own
// logger, and streamed file transfers with progress, against the emulator.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const { pathToFileURL } = require('node:url')
const { Client, InvalidArgumentError, NotFoundError } = require('miosa-native')
const { startEmulator, runNode } = require('./helpers.js')

let emu
let client
let dir
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'miosa-raw-'))
})
after(() => {
  if (emu) emu.stop()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

async function lastRequestId() {
  const [last] = await emu.requests(1)
  return last.request_id
}

test('withResponse() gives the status, headers and request id beside the data', async () => {
  const sb = await client.sandboxes.create({ name: 'raw', wait: true })
  const { data, response } = await client.sandboxes.withResponse().get(sb.id)
  assert.equal(response.status, 200)
  assert.match(response.requestId, /^req_/)
  assert.equal(response.headers.get('X-Request-Id'), response.requestId)
  assert.match(response.headers.get('content-type'), /application\/json/)
  assert.equal(await lastRequestId(), response.requestId)
  // The data is what the plain call gives: a handle, carrying the same request id.
  assert.equal(data.constructor.name, 'SandboxHandle')
  assert.equal(data.id, sb.id)
  assert.equal(data._request_id, response.requestId)
  await data.files.write('/workspace/a.txt', 'hi')
  assert.equal((await client.sandbox.files.read(sb.id, '/workspace/a.txt')).toString(), 'hi')
})

test('withResponse() works on flat, nested and handle namespaces, and leaves them unchanged', async () => {
  const sb = await client.sandboxes.create({ name: 'raw-nested', wait: true })
  const flat = await client.sandbox.files.withResponse().write(sb.id, '/workspace/b.txt', 'bee')
  assert.equal(flat.response.status, 200)
  assert.ok(flat.data.path.endsWith('b.txt'))
  const bytes = await sb.files.withResponse().read('/workspace/b.txt')
  assert.ok(Buffer.isBuffer(bytes.data))
  assert.equal(bytes.data.toString(), 'bee')
  assert.match(bytes.response.requestId, /^req_/)
  const run = await client.sandbox.withResponse().exec.run(sb.id, { command: 'echo hi', timeout: 30 })
  assert.equal(run.data.stdout.trim(), 'hi')
  assert.equal(run.response.status, 200)
  // The plain namespaces still resolve to the data alone.
  const plain = await sb.files.read('/workspace/b.txt')
  assert.ok(Buffer.isBuffer(plain))
  const page = await client.sandboxes.withResponse().list()
  assert.ok(Array.isArray(page.data) && page.data.every((s) => s.constructor.name === 'SandboxHandle'))
  assert.equal(page.data._request_id, page.response.requestId)
})

test('a failed raw call rejects with the usual error, which names the request id', async () => {
  await assert.rejects(client.sandboxes.withResponse().get('sb_missing'), (err) => {
    assert.ok(err instanceof NotFoundError)
    assert.match(err.requestId, /^req_/)
    return true
  })
})

test('every result carries its request id, without changing its JSON or inspect output', async () => {
  const sb = await client.sandboxes.create({ name: 'rid', wait: true })
  assert.match(sb._request_id, /^req_/)
  const written = await client.sandbox.files.write(sb.id, '/workspace/c.txt', 'c')
  assert.equal(written._request_id, await lastRequestId())
  assert.ok(!Object.keys(written).includes('_request_id'))
  assert.ok(!JSON.stringify(written).includes('_request_id'))
  assert.ok(!util.inspect(written).includes('req_'))
  assert.ok(!JSON.stringify(sb).includes('_request_id'))
  const refreshed = await sb.refresh()
  assert.equal(refreshed._request_id, await lastRequestId())
})

test('a logger receives one record per request, without the key or a token', async () => {
  const canary = 'canary-token-0f3c9a'
  const records = []
  const logger = {
    debug: (message, record) => records.push(['debug', message, record]),
    info: (message, record) => records.push(['info', message, record]),
    warn: (message, record) => records.push(['warn', message, record]),
    error: (message, record) => records.push(['error', message, record]),
  }
  const logged = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0, logger })
  const sb = await logged.sandboxes.create({ name: canary }, { extraHeaders: { 'X-Api-Token': canary } })
  records.length = 0
  const { response } = await logged.sandboxes
    .withResponse()
    .get(sb.id, { extraHeaders: { 'X-Api-Token': canary } })
  // Records reach the event loop through a queue: wait for the one of this call.
  for (let i = 0; i < 50 && records.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(records.length, 1, util.inspect(records))
  const [level, message, record] = records[0]
  assert.equal(level, 'info')
  assert.equal(record.method, 'GET')
  assert.equal(record.route, '/sandboxes/{id}')
  assert.equal(record.status, 200)
  assert.equal(record.attempt, 1)
  assert.equal(record.requestId, response.requestId)
  assert.ok(record.durationMs >= 0)
  assert.match(message, /^miosa info: GET \/sandboxes\/\{id\} -> 200/)
  const text = message + JSON.stringify(record)
  assert.ok(!text.includes(emu.apiKey) && !text.includes(canary), text)

  // A token in the query stays out of the record too (a strict server refuses the
  // unknown parameter; a tolerant one answers 200).
  records.length = 0
  await logged.sandboxes.get(sb.id, { extraQuery: { token: canary } }).catch(() => {})
  for (let i = 0; i < 50 && records.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(records.length, 1, util.inspect(records))
  assert.ok(!JSON.stringify(records).includes(canary), util.inspect(records))

  // A failed attempt is a warning; another client's calls never reach this logger.
  records.length = 0
  await assert.rejects(logged.sandboxes.get('sb_missing'), NotFoundError)
  await client.sandboxes.list()
  for (let i = 0; i < 50 && records.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
  await new Promise((r) => setTimeout(r, 50))
  assert.deepEqual(
    records.map(([lvl, , r]) => [lvl, r.route, r.status]),
    [['warn', '/sandboxes/{id}', 404]],
  )
})

test('two clients with loggers never see each other’s records', async () => {
  const seen = { a: [], b: [] }
  const make = (name) =>
    new Client(emu.apiKey, {
      baseUrl: emu.baseUrl,
      maxRetries: 0,
      logger: { debug() {}, info: (m, r) => seen[name].push(r.route), warn() {} },
    })
  const a = make('a')
  const b = make('b')
  await Promise.all([
    ...Array.from({ length: 5 }, () => a.sandboxes.list()),
    ...Array.from({ length: 5 }, () => b.sandboxTemplates.list()),
  ])
  for (let i = 0; i < 50 && seen.a.length + seen.b.length < 10; i++) await new Promise((r) => setTimeout(r, 10))
  assert.deepEqual(seen.a, Array(5).fill('/sandboxes'))
  assert.deepEqual(seen.b, Array(5).fill('/sandbox-templates'))
})

test('bad logger options are refused by name', () => {
  assert.throws(() => new Client(emu.apiKey, { baseUrl: emu.baseUrl, logger: {} }), (err) => {
    assert.ok(err instanceof InvalidArgumentError)
    assert.match(err.message, /`logger`/)
    return true
  })
  assert.throws(() => new Client(emu.apiKey, { baseUrl: emu.baseUrl, logLevel: 'loud' }), /`logLevel`/)
})

test('a logger that throws does not fail the call', async () => {
  const program = `
    const { Client } = require('miosa-native')
    const boom = () => { throw new Error('logger broke') }
    const client = new Client(${JSON.stringify(emu.apiKey)}, { baseUrl: ${JSON.stringify(emu.baseUrl)}, maxRetries: 0,
      logger: { debug: boom, info: boom, warn: boom } })
    client.sandboxes.list().then(() => client.sandboxes.list()).then(() => setTimeout(() => console.log('done'), 50))
  `
  const run = await runNode(['-e', program], { timeoutMs: 30_000 })
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout.trim(), 'done')
  assert.equal(run.stderr.split('logger broke').length - 1, 1, run.stderr)
})

test('files.upload and files.download stream through local paths with progress', async () => {
  const sb = await client.sandboxes.create({ name: 'transfer', wait: true })
  const source = path.join(dir, 'up.bin')
  const content = Buffer.alloc(3 * 1024 * 1024 + 11)
  for (let i = 0; i < content.length; i++) content[i] = (i * 31) & 0xff
  fs.writeFileSync(source, content)
  const steps = []
  const written = await client.sandbox.files.upload(sb.id, '/workspace/big.bin', source, {
    onProgress: (done, total) => steps.push([done, total]),
  })
  assert.equal(written.size_bytes, content.length)
  assert.match(written._request_id, /^req_/)
  assert.deepEqual(steps[0], [0, content.length])
  assert.deepEqual(steps.at(-1), [content.length, content.length])
  steps.length = 0
  const target = path.join(dir, 'down.bin')
  const n = await sb.files.download('/workspace/big.bin', pathToFileURL(target), {
    onProgress: (done, total) => steps.push([done, total]),
  })
  assert.equal(n, content.length)
  assert.ok(fs.readFileSync(target).equals(content))
  assert.ok(steps.length >= 3, util.inspect(steps))
  assert.deepEqual(steps.at(-1), [n, n])
  assert.ok(steps.every(([done], i) => i === 0 || done >= steps[i - 1][0]))
})

test('transfers refuse bad arguments by name', async () => {
  await assert.rejects(client.sandbox.files.upload('sb_x', '/workspace/x', path.join(dir, 'absent')), (err) => {
    assert.ok(err instanceof InvalidArgumentError)
    assert.match(err.message, /local_path/)
    return true
  })
  await assert.rejects(client.sandbox.files.download('sb_x', '/x', 42), /`localPath`/)
  await assert.rejects(client.sandbox.files.download('sb_x', '/x', 'y', { onProgress: 'no' }), /`onProgress`/)
  await assert.rejects(client.sandbox.files.download(undefined, '/x', 'y'), /`id`/)
  await assert.rejects(client.sandbox.files.download('sb_missing', '/x', path.join(dir, 'z')), NotFoundError)
})

const TRANSFER_64_MIB = `
const fs = require('node:fs')
const path = require('node:path')
const { Client } = require('miosa-native')
const [baseUrl, key, folder] = process.argv.slice(1)
const size = 64 << 20
const source = path.join(folder, 'up64.bin')
const chunk = Buffer.alloc(1 << 20)
const fd = fs.openSync(source, 'w')
for (let i = 0; i < 64; i++) { chunk.fill(i); fs.writeSync(fd, chunk) }
fs.closeSync(fd)
const seen = { up: 0, down: 0 }
async function main() {
  const client = new Client(key, { baseUrl, maxRetries: 0, timeout: 120000 })
  const sb = await client.sandboxes.create({ name: 'big', wait: true })
  await sb.files.upload('/workspace/big.bin', source, { onProgress: (d) => { seen.up = d } })
  const target = path.join(folder, 'down64.bin')
  const n = await sb.files.download('/workspace/big.bin', target, { onProgress: (d) => { seen.down = d } })
  if (n !== size || seen.up !== size || seen.down !== size) throw new Error(JSON.stringify({ n, seen }))
  const a = fs.openSync(source, 'r'); const b = fs.openSync(target, 'r')
  const x = Buffer.alloc(1 << 20); const y = Buffer.alloc(1 << 20)
  for (let i = 0; i < 64; i++) {
    fs.readSync(a, x, 0, x.length, i << 20); fs.readSync(b, y, 0, y.length, i << 20)
    if (!x.equals(y)) throw new Error('chunk ' + i + ' differs')
  }
  // VmHWM is this process's own peak resident memory.
  const status = fs.readFileSync('/proc/self/status', 'utf8')
  console.log(Math.floor(Number(/VmHWM:\\s+(\\d+)/.exec(status)[1]) / 1024))
}
main().catch((err) => { console.error(err); process.exit(1) })
`

test('64 MiB up and down through paths stays below 100 MB', async () => {
  const run = await runNode(['-e', TRANSFER_64_MIB, emu.baseUrl, emu.apiKey, dir], { timeoutMs: 300_000 })
  assert.equal(run.code, 0, run.stderr)
  const peakMb = Number(run.stdout.trim().split('\n').at(-1))
  console.log(`64 MiB upload + download through paths: client peak RSS ${peakMb} MB`)
  assert.ok(peakMb < 100, `peak RSS ${peakMb} MB`)
})
