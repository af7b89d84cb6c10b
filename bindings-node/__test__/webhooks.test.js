'use strict'

// webhooks.verify against the shared signature vectors, and against a real
// signed delivery from the emulator.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const path = require('node:path')
const { Client, webhooks, WebhookVerificationError, MiosaError } = require('miosa-native')
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
    assert.equal(refusal(() => client.webhooks.verify(body, signature, 'whsec_wrong')), 'invalid_signature')
  } finally {
    server.close()
  }
})
