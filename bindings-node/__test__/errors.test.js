'use strict'

// Every error class, provoked against the emulator (or before the network for
// local mistakes), and the panic boundary.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const miosa = require('miosa-native')
const { startEmulator, runNode } = require('./helpers.js')

const {
  Client,
  MiosaError,
  AuthenticationError,
  InsufficientCreditsError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  ValidationError,
  RateLimitError,
  ServerError,
  APITimeoutError,
  APIConnectionError,
  InvalidArgumentError,
  AbortError,
} = miosa

let emu
let client
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
})
after(() => emu && emu.stop())

/** Asserts `promise` rejects with exactly `Class` (a MiosaError and an Error) and returns the error. */
async function rejectsWith(promise, Class) {
  let caught
  await assert.rejects(promise, (err) => {
    caught = err
    return true
  })
  assert.ok(caught instanceof Class, `expected ${Class.name}, got ${caught && caught.constructor.name}: ${caught}`)
  assert.ok(caught instanceof MiosaError)
  assert.ok(caught instanceof Error)
  assert.equal(caught.name, Class.name)
  assert.equal(typeof caught.message, 'string')
  assert.ok(caught.message.length > 0)
  assert.equal(typeof caught.stack, 'string')
  return caught
}

test('401 AuthenticationError, and the key never shows in the error', async () => {
  const wrong = new Client('msk_test_wrong_key_123456', { baseUrl: emu.baseUrl })
  const err = await rejectsWith(wrong.sandboxes.list(), AuthenticationError)
  assert.equal(err.status, 401)
  assert.equal(err.kind, 'authentication')
  assert.equal(JSON.stringify(err.body).length > 2, true)
  assert.equal(`${err.message} ${JSON.stringify(err)}`.includes('msk_test_wrong_key_123456'), false)
})

test('402 InsufficientCreditsError', async () => {
  await emu.control('PUT', 'credits', { balance: 0 })
  try {
    const err = await rejectsWith(client.sandboxes.create({ name: 'broke' }), InsufficientCreditsError)
    assert.equal(err.status, 402)
    assert.equal(err.code, 'INSUFFICIENT_CREDITS')
  } finally {
    await emu.control('PUT', 'credits', { balance: 100000 })
  }
})

test('403 PermissionDeniedError for an admin route with a user key', async () => {
  const err = await rejectsWith(client.admin.tenants.list(), PermissionDeniedError)
  assert.equal(err.status, 403)
})

test('404 NotFoundError with code, body and request id', async () => {
  const err = await rejectsWith(client.sandboxes.get('sbx_does_not_exist'), NotFoundError)
  assert.equal(err.status, 404)
  assert.equal(err.code, 'NOT_FOUND')
  assert.equal(typeof err.body, 'object')
  assert.match(err.requestId, /\S/)
  assert.equal(err.attempts, 1)
})

test('409 ConflictError', async () => {
  await client.computer.env.create('cmp_fixture', { name: 'DUPLICATE_ME', value: '1' })
  const err = await rejectsWith(client.computer.env.create('cmp_fixture', { name: 'DUPLICATE_ME', value: '2' }), ConflictError)
  assert.equal(err.status, 409)
  assert.equal(err.code, 'ALREADY_EXISTS')
})

test('422 ValidationError', async () => {
  const err = await rejectsWith(client.sandboxes.create({ size: 'gigantic' }), ValidationError)
  assert.equal(err.status, 422)
})

test('429 RateLimitError carries retryAfter', async () => {
  await emu.fault({ path: '/sandboxes/sbx_fixture', method: 'GET', status: 429, retry_after: 7, body: { message: 'slow down' } })
  const err = await rejectsWith(client.sandboxes.get('sbx_fixture'), RateLimitError)
  assert.equal(err.status, 429)
  assert.equal(err.retryAfter, 7)
  assert.equal(err.message, 'slow down')
})

test('5xx ServerError, and retries recover from it when enabled', async () => {
  await emu.fault({ path: '/sandboxes/sbx_fixture', method: 'GET', status: 503, body: { error: 'Service Unavailable' } })
  const err = await rejectsWith(client.sandboxes.get('sbx_fixture'), ServerError)
  assert.equal(err.status, 503)

  const retrying = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 2, retryBaseDelay: 10, retryMaxDelay: 50 })
  await emu.fault({ path: '/sandboxes/sbx_fixture', method: 'GET', status: 500, times: 2 })
  const sb = await retrying.sandboxes.get('sbx_fixture')
  assert.equal(sb.id, 'sbx_fixture')
})

test('APITimeoutError from the per-call timeout', async () => {
  await emu.fault({ path: '/sandboxes/sbx_fixture', method: 'GET', delay_ms: 3000 })
  const started = Date.now()
  const err = await rejectsWith(client.sandboxes.get('sbx_fixture', { timeout: 200 }), APITimeoutError)
  assert.equal(err.status, null)
  assert.ok(Date.now() - started < 2500, 'the timeout cut the call short')
})

test('APIConnectionError when nothing listens, or the connection resets', async () => {
  const port = await new Promise((resolve) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
  const nowhere = new Client(emu.apiKey, { baseUrl: `http://127.0.0.1:${port}/api/v1`, maxRetries: 0 })
  const err = await rejectsWith(nowhere.sandboxes.get('sbx_fixture'), APIConnectionError)
  assert.equal(err.status, null)

  await emu.fault({ path: '/sandboxes/sbx_fixture', method: 'GET', reset: true })
  await rejectsWith(client.sandboxes.get('sbx_fixture'), APIConnectionError)
})

test('InvalidArgumentError before any network use', async () => {
  assert.throws(() => new Client('sk_not_a_miosa_key'), InvalidArgumentError)
  assert.throws(() => new Client('msk_x', { baseUrl: 'ftp://example.test' }), InvalidArgumentError)
  assert.throws(() => new Client('msk_x', { nonsense: true }), InvalidArgumentError)
  const before = (await emu.requests(1))[0].seq
  await rejectsWith(client.sandboxes.get(''), InvalidArgumentError)
  await rejectsWith(client.sandboxes.get(undefined), InvalidArgumentError)
  await rejectsWith(client.sandboxes.create({ cpu_count: 'many' }), InvalidArgumentError)
  await rejectsWith(client.sandboxes.get('sbx_fixture', { extraHeaders: { 'bad header': 'x' } }), InvalidArgumentError)
  await rejectsWith(client.sandboxes.get('sbx_fixture', { bogusOption: 1 }), InvalidArgumentError)
  const after = (await emu.requests(1))[0].seq
  assert.equal(after, before, 'none of these calls reached the server')
})

test('AbortError when the signal aborts an in-flight call, and the request is dropped', async () => {
  await emu.fault({ path: '/sandboxes/sbx_fixture', method: 'GET', delay_ms: 5000 })
  const controller = new AbortController()
  const started = Date.now()
  const call = client.sandboxes.get('sbx_fixture', { signal: controller.signal })
  setTimeout(() => controller.abort(), 100)
  const err = await rejectsWith(call, AbortError)
  assert.equal(err.kind, 'cancelled')
  assert.ok(Date.now() - started < 2000, 'the abort did not wait for the server')

  const already = AbortSignal.abort()
  await rejectsWith(client.sandboxes.get('sbx_fixture', { signal: already }), AbortError)
  // A signal that never fires changes nothing.
  const sb = await client.sandboxes.get('sbx_fixture', { signal: new AbortController().signal })
  assert.equal(sb.id, 'sbx_fixture')
})

test('a Rust panic becomes a MiosaError, and the process lives on', async () => {
  // In a child process, so the panic message Rust prints stays out of this report.
  const script = `
    const native = require('./native.js')
    const { fromNative, MiosaError } = require('./lib/errors.js')
    try { native.__panicForTests('deliberate test panic') } catch (err) {
      const mapped = fromNative(err)
      if (!(mapped instanceof MiosaError) || mapped.kind !== 'internal') process.exit(3)
      console.log(mapped.message)
    }
    native.__panicForTests('deliberate background panic', true).then(
      () => process.exit(4),
      (err) => {
        const mapped = fromNative(err)
        if (!(mapped instanceof MiosaError) || mapped.kind !== 'internal') process.exit(5)
        console.log('background:', mapped.message)
        const { Client } = require('./lib/index.js')
        return new Client(process.env.KEY, { baseUrl: process.env.BASE, maxRetries: 0 }).sandboxes.get('sbx_fixture')
          .then((sb) => console.log('still alive', sb.id))
      })
  `
  const run = await runNode(['-e', script], { env: { KEY: emu.apiKey, BASE: emu.baseUrl, RUST_BACKTRACE: '0' } })
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /internal error in the native addon: .*deliberate test panic/)
  assert.match(run.stdout, /background: .*without an answer/)
  assert.match(run.stdout, /still alive sbx_fixture/)
  assert.match(run.stderr, /panicked/)
})

test('extra headers, query and body reach the server', async () => {
  const update = client.sandboxes.update(
    'sbx_fixture',
    { name: 'renamed' },
    { extraHeaders: { 'x-trace': 'abc' }, extraQuery: { dry: 'no' }, extraBody: { note: 'hi' } },
  )
  if (process.env.MIOSA_EMULATOR_STRICT === '1') {
    // A strict emulator refuses, by name, a field the API does not take.
    await assert.rejects(update, (err) => err instanceof miosa.ValidationError && /note/.test(err.message))
  } else {
    await update
  }
  const [req] = await emu.requests(1)
  assert.equal(req.method, 'PATCH')
  assert.equal(req.headers['x-trace'], 'abc')
  assert.equal(req.query.dry, 'no')
  assert.equal(req.body.note, 'hi')
  assert.equal(req.body.name, 'renamed')
  assert.match(req.headers['user-agent'], /^miosa-native\//)
})
