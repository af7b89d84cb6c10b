'use strict'

// webhooks.verify against the shared signature vectors, and against a real
// signed delivery from the emulator.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { Client, webhooks, WebhookVerificationError, InvalidArgumentError, MiosaError } = require('miosa-native')
const { startEmulator, ROOT } = require('./helpers.js')

const V = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'webhooks', 'signature_vectors.json'), 'utf8'))

function refusal(fn) {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof WebhookVerificationError)
    assert.ok(err instanceof MiosaError)
    return err.code
  }
  return assert.fail('the signature was accepted')
}

test('current scheme: valid, wrong secret, tampered body, bytes payload', () => {
  assert.equal(webhooks.verify(V.body, V.current_scheme.header, V.secret), true)
  assert.equal(webhooks.verify(Buffer.from(V.body), V.current_scheme.header, V.secret), true)
  assert.equal(webhooks.verify(new Uint8Array(Buffer.from(V.body)), V.current_scheme.header, V.secret), true)
  assert.equal(refusal(() => webhooks.verify(V.body, V.wrong_secret_header, V.secret)), 'invalid_signature')
  assert.equal(refusal(() => webhooks.verify(`${V.body} `, V.current_scheme.header, V.secret)), 'invalid_signature')
})

test('legacy scheme with its timestamp tolerance', () => {
  const legacy = V.legacy_scheme
  const opts = { now: legacy.valid_when_now_is, tolerance: legacy.tolerance_seconds }
  assert.equal(webhooks.verify(V.body, legacy.header, V.secret, opts), true)
  const old = { now: legacy.too_old_when_now_is, tolerance: legacy.tolerance_seconds }
  assert.equal(refusal(() => webhooks.verify(V.body, legacy.header, V.secret, old)), 'timestamp_too_old')
  // Against the real clock the vector's 2026 timestamp is far off.
  assert.equal(refusal(() => webhooks.verify(V.body, legacy.header, V.secret)), 'timestamp_too_old')
})

test('malformed headers', () => {
  for (const header of V.malformed_headers) {
    const code = refusal(() => webhooks.verify(V.body, header, V.secret))
    assert.ok(['malformed_header', 'invalid_signature'].includes(code), `${header}: ${code}`)
  }
  assert.equal(refusal(() => webhooks.verify(V.body, 'malformed', V.secret)), 'malformed_header')
})

// A vector's `now`/`tolerance`: a number, or the name of a non-finite one.
const seconds = (v) => (typeof v === 'string' ? Number(v) : v)
// The vectors' null means absent, which JavaScript spells `undefined`.
const absent = (v) => (v === null ? undefined : v)

function refusedAs(fn, expect, name) {
  let thrown
  try {
    fn()
  } catch (err) {
    thrown = err
  }
  assert.ok(thrown, `${name}: accepted`)
  if (expect.error === 'invalid_argument') {
    assert.ok(thrown instanceof InvalidArgumentError, `${name}: ${thrown}`)
    assert.ok(thrown.message.includes(expect.parameter), `${name}: ${thrown.message}`)
  } else {
    assert.ok(thrown instanceof WebhookVerificationError, `${name}: ${thrown}`)
    assert.equal(thrown.code, expect.code, name)
  }
}

test('bad input from the shared vectors is refused with a typed error', () => {
  assert.ok(V.bad_input.length >= 10)
  for (const c of V.bad_input) {
    const opts = {}
    if ('now' in c) opts.now = seconds(c.now)
    if ('tolerance' in c) opts.tolerance = seconds(c.tolerance)
    refusedAs(() => webhooks.verify(V.body, absent(c.signature), absent(c.secret), opts), c.expect, c.name)
    const headers = c.signature === null ? {} : { 'x-miosa-signature': c.signature }
    refusedAs(() => webhooks.unwrap(V.body, headers, absent(c.secret), opts), c.expect, `unwrap: ${c.name}`)
  }
})

test('an unset secret never verifies a signature made with the key "undefined"', () => {
  const forged = V.bad_input[0].signature
  refusedAs(() => webhooks.verify(V.body, forged, process.env.MIOSA_SURELY_UNSET_SECRET), { error: 'invalid_argument', parameter: 'secret' }, 'unset')
})

test('payload forms: string, Buffer, Uint8Array, ArrayBuffer, DataView; a parsed object is refused', () => {
  const buf = Buffer.from(V.body)
  const forms = [V.body, buf, new Uint8Array(buf), buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), new DataView(Uint8Array.from(buf).buffer)]
  for (const payload of forms) {
    assert.equal(webhooks.verify(payload, V.current_scheme.header, V.secret), true)
    assert.deepEqual(webhooks.unwrap(payload, { 'x-miosa-signature': V.current_scheme.header }, V.secret), V.unwrap.event)
  }
  const expect = V.payload_forms.parsed_payload_expect
  for (const parsed of [JSON.parse(V.body), undefined, null, 42]) {
    refusedAs(() => webhooks.verify(parsed, V.current_scheme.header, V.secret), expect, `payload ${parsed}`)
  }
})

test('wrong option and argument types are argument errors, not internal ones', () => {
  const h = V.current_scheme.header
  const arg = (parameter) => ({ error: 'invalid_argument', parameter })
  refusedAs(() => webhooks.verify(V.body, h, V.secret, { now: 'x' }), arg('now'), 'now: x')
  refusedAs(() => webhooks.verify(V.body, h, V.secret, { tolerance: '300' }), arg('tolerance'), 'tolerance: string')
  refusedAs(() => webhooks.verify(V.body, h, 12345), arg('secret'), 'numeric secret')
  refusedAs(() => webhooks.verify(V.body, ['a', 'b'], V.secret), arg('signature'), 'array signature')
  refusedAs(() => webhooks.unwrap(V.body, 'x-miosa-signature', V.secret), arg('headers'), 'string headers')
})

test('unwrap: header names in any case, Map and Headers, refusals from the vectors', () => {
  const u = V.unwrap
  for (const headers of u.valid_headers) {
    assert.deepEqual(webhooks.unwrap(V.body, headers, V.secret), u.event)
    assert.deepEqual(webhooks.unwrap(V.body, new Map(Object.entries(headers)), V.secret), u.event)
    assert.deepEqual(webhooks.unwrap(V.body, new Headers(headers), V.secret), u.event)
  }
  for (const c of u.refused) {
    refusedAs(() => webhooks.unwrap(c.body, c.headers, V.secret), c.expect, c.name)
  }
  // Two signature values (a duplicated header) are not trusted.
  const twice = { 'x-miosa-signature': [V.current_scheme.header, V.current_scheme.header] }
  refusedAs(() => webhooks.unwrap(V.body, twice, V.secret), { code: 'malformed_header' }, 'duplicated header')
})

let emu
before(async () => {
  emu = await startEmulator()
})
after(() => emu && emu.stop())

test('a signed test delivery from the emulator verifies with the secret from create', async () => {
  const received = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) })
      res.end('ok')
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
    const hook = await client.webhooks.create({ url: `http://127.0.0.1:${server.address().port}/hook`, events: ['sandbox.created'] })
    await client.webhooks.test(hook.id)
    const deadline = Date.now() + 5000
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    assert.equal(received.length, 1, 'the emulator delivered the test event')
    const { headers, body } = received[0]
    const signature = headers['x-miosa-signature']
    assert.equal(typeof signature, 'string')
    assert.equal(client.webhooks.verify(body, signature, hook.secret), true)
    assert.deepEqual(client.webhooks.unwrap(body, headers, hook.secret), JSON.parse(body.toString()))
    assert.equal(refusal(() => client.webhooks.verify(body, signature, 'whsec_wrong')), 'invalid_signature')
  } finally {
    server.close()
  }
})
