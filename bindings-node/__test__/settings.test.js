'use strict'

// The client contract: settings and per-call options as the core checks them
// (the shared vectors in tests/settings, replayed with Node's names and units),
// the environment, retries on by default, explicit nulls, bad input as rejected
// promises, secrets kept out of every text, and property tests with fast-check.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const util = require('node:util')
const path = require('node:path')
const fc = require('fast-check')
const { Client, MiosaError, InvalidArgumentError, APIConnectionError, ServerError } = require('miosa-native')
const { startEmulator, ROOT } = require('./helpers.js')

const VECTORS = path.join(ROOT, 'tests', 'settings')
const CLOSED = 'http://127.0.0.1:9/api/v1'

let emu
before(async () => {
  emu = await startEmulator()
})
after(() => emu && emu.stop())

const camel = (name) => name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

/** A vector value as Node has it: tags become NaN, BigInt, functions. */
function nativeValue(value) {
  if (Array.isArray(value)) return value.map(nativeValue)
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
    if (keys.length === 1 && keys[0] === '$float') return Number(value.$float)
    if (keys.length === 1 && keys[0] === '$int') return BigInt(value.$int)
    if (keys.length === 1 && keys[0] === '$type') return () => {}
    return Object.fromEntries(keys.map((k) => [k, nativeValue(value[k])]))
  }
  return value
}

/** A case's input with Node's names, and durations in milliseconds. */
function localise(input, durations) {
  return Object.fromEntries(
    Object.entries(input).map(([name, value]) => {
      const scaled = durations.includes(name) && typeof value === 'number' ? value * 1000 : value
      return [camel(name), nativeValue(scaled)]
    }),
  )
}

function check(c, outcome, key) {
  if (c.expect[key]) {
    assert.ok(!(outcome instanceof Error), `${c.name}: refused: ${outcome && outcome.message}`)
    for (const [name, want] of Object.entries(c.expect[key])) {
      const got = outcome[name]
      if (typeof want === 'number') assert.ok(Math.abs(got - want) < 1e-9, `${c.name}: ${name} is ${got}, expected ${want}`)
      else assert.deepEqual(got, want, `${c.name}: ${name}`)
    }
    return
  }
  const error = c.expect.error
  assert.ok(outcome instanceof InvalidArgumentError, `${c.name}: ${outcome}`)
  assert.equal(outcome.kind, error.kind)
  const param = error.param.split('.').map((part, i) => (i === 0 ? camel(part) : part)).join('.')
  assert.ok(outcome.message.includes(`\`${param}\``), `${c.name}: ${outcome.message}`)
  for (const text of error.message_includes ?? []) assert.ok(outcome.message.includes(text), `${c.name}: ${outcome.message}`)
  for (const text of error.message_excludes ?? []) assert.ok(!outcome.message.includes(text), `${c.name}: ${outcome.message}`)
}

function withoutEnv(body) {
  const saved = { key: process.env.MIOSA_API_KEY, url: process.env.MIOSA_BASE_URL }
  delete process.env.MIOSA_API_KEY
  delete process.env.MIOSA_BASE_URL
  try {
    return body()
  } finally {
    if (saved.key !== undefined) process.env.MIOSA_API_KEY = saved.key
    if (saved.url !== undefined) process.env.MIOSA_BASE_URL = saved.url
  }
}

test('client settings vectors', () => {
  const file = JSON.parse(fs.readFileSync(path.join(VECTORS, 'client.json'), 'utf8'))
  withoutEnv(() => {
    for (const c of file.cases) {
      const { apiKey, ...options } = localise(c.input, file.durations)
      let outcome
      try {
        outcome = new Client(apiKey, options).settings
      } catch (err) {
        outcome = err
      }
      check(c, outcome, 'settings')
    }
  })
})

test('per-call option vectors', async () => {
  const file = JSON.parse(fs.readFileSync(path.join(VECTORS, 'call_options.json'), 'utf8'))
  const client = new Client('msk_u_vectors', { baseUrl: CLOSED })
  const { toJson } = require('../lib/core.js')
  for (const c of file.cases) {
    const options = localise(c.input, file.durations)
    let outcome
    try {
      outcome = JSON.parse(client._c.native.callOptions(toJson(options, 'the options')))
    } catch (err) {
      outcome = require('../lib/errors.js').fromNative(err)
    }
    check(c, outcome, 'options')
    if (c.expect.error) {
      // The same options on a real call: a rejected promise, never a synchronous throw.
      const pending = client.sandboxes.get('sbx_fixture', options)
      assert.ok(pending instanceof Promise, c.name)
      await assert.rejects(pending, InvalidArgumentError, c.name)
    }
  }
})

test('the environment configures a bare client; explicit values win', async () => {
  await withoutEnv(async () => {
    assert.throws(() => new Client(), (err) => err instanceof InvalidArgumentError && err.message.includes('MIOSA_API_KEY'))
    process.env.MIOSA_API_KEY = emu.apiKey
    process.env.MIOSA_BASE_URL = emu.baseUrl
    try {
      const sandbox = await new Client().sandboxes.get('sbx_fixture')
      assert.equal(sandbox.id, 'sbx_fixture')
      assert.equal(new Client({ maxRetries: 0 }).settings.max_retries, 0)
      assert.equal(Client.fromEnv().baseUrl, emu.baseUrl)
      assert.equal(new Client({ baseUrl: CLOSED }).baseUrl, CLOSED)
      process.env.MIOSA_BASE_URL = 'ftp://nowhere'
      assert.throws(() => new Client(), (err) => err instanceof InvalidArgumentError && err.message.includes('MIOSA_BASE_URL'))
    } finally {
      delete process.env.MIOSA_API_KEY
      delete process.env.MIOSA_BASE_URL
    }
  })
})

test('retries are on by default: a 503 on create is absorbed, one sandbox made', async () => {
  const client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, retryBaseDelay: 10 })
  assert.equal(client.settings.max_retries, 2)
  const before = (await client.sandboxes.list()).length
  await emu.fault({ path: '/sandboxes', method: 'POST', status: 503, times: 1 })
  const created = await client.sandboxes.create({ name: 'absorbed' })
  assert.equal(created.name, 'absorbed')
  assert.equal((await client.sandboxes.list()).length, before + 1)
  const off = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  await emu.fault({ path: '/sandboxes/sbx_fixture', method: 'GET', status: 503, times: 1 })
  await assert.rejects(off.sandboxes.get('sbx_fixture'), ServerError)
})

test('null reaches the wire; undefined is left out', async () => {
  const client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  await client.sandboxes.update('sbx_fixture', { slug: null, name: undefined, tags: ['a'] })
  const [last] = await emu.requests(1)
  assert.deepEqual(last.body, { slug: null, tags: ['a'] })
  await client.sandboxes.update('sbx_fixture', { tags: ['b'] }, { extraBody: { name: null } })
  const [again] = await emu.requests(1)
  assert.deepEqual(again.body, { tags: ['b'], name: null })
})

test('absurd numbers are rejected promises, never a crash or a synchronous throw', async () => {
  const client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  for (const options of [{ timeout: 1e25 }, { timeout: Infinity }, { timeout: NaN }, { timeout: -1 }, { timeout: 10n ** 40n }]) {
    const pending = client.sandboxes.get('sbx_fixture', options)
    await assert.rejects(pending, InvalidArgumentError)
  }
  await assert.rejects(client.sandboxes.update('sbx_fixture', { tags: [NaN] }), InvalidArgumentError)
  await assert.rejects(client.sandboxes.get('\ud800'), MiosaError)
})

test('plain http to a remote host needs allowInsecureHttp', () => {
  withoutEnv(() => {
    assert.throws(() => new Client('msk_u_x', { baseUrl: 'http://api.example.com/v1' }), /allowInsecureHttp/)
    const client = new Client('msk_u_x', { baseUrl: 'http://api.example.com/v1', allowInsecureHttp: true })
    assert.equal(client.settings.allow_insecure_http, true)
  })
})

test('no secret in settings, base URL or errors', async () => {
  const client = new Client('msk_u_x', { baseUrl: 'http://user:pw_secret@127.0.0.1:9/api/v1', maxRetries: 0 })
  for (const text of [client.baseUrl, JSON.stringify(client.settings)]) {
    assert.ok(!text.includes('pw_secret') && !text.includes('msk_u_x'), text)
  }
  const err = await client.sandboxes.get('sbx_fixture', { extraQuery: { token: 'tok_query_secret' } }).catch((e) => e)
  assert.ok(err instanceof APIConnectionError, String(err))
  assert.ok(!err.message.includes('pw_secret') && !err.message.includes('tok_query_secret'), err.message)
})

const anything = fc.oneof(
  fc.constantFrom(undefined, null, NaN, Infinity, -Infinity, -1, 0, 1e25, 2 ** 64, '', '\ud800', 'msk_', () => {}, Symbol('s')),
  fc.bigInt(),
  fc.double(),
  fc.integer(),
  fc.string(),
  fc.boolean(),
  fc.array(fc.anything(), { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
)

test('property: any setting value is accepted or an InvalidArgumentError', () => {
  const names = ['apiKey', 'baseUrl', 'connectTimeout', 'timeout', 'operationTimeout', 'maxRetries', 'retryBaseDelay',
    'retryMaxDelay', 'maxResponseBytes', 'maxDownloadBytes', 'maxEventBytes', 'allowInsecureHttp', 'headers']
  fc.assert(
    fc.property(fc.constantFrom(...names), anything, (name, value) => {
      const { apiKey, ...options } = { apiKey: 'msk_u_property', baseUrl: CLOSED, [name]: value }
      try {
        new Client(apiKey, options).settings
      } catch (err) {
        // inspect, not String(): a generated value may have a broken toString.
        assert.ok(err instanceof MiosaError, `${name}=${util.inspect(value)}: ${util.inspect(err)}`)
      }
    }),
    { numRuns: 300 },
  )
})

test('property: any argument, param or option of a call rejects with a MiosaError', async () => {
  const client = new Client('msk_u_property', { baseUrl: CLOSED, maxRetries: 0, connectTimeout: 1000 })
  const calls = [
    (a, b) => client.sandboxes.get(a, b),
    (a, b) => client.sandboxes.update('sbx_fixture', { name: a, tags: b }),
    (a, b) => client.sandboxes.list({ limit: a, cursor: b }),
    (a, b) => client.sandbox.files.write('sbx_fixture', a, b),
    (a, b) => client.sandboxes.get('sbx_fixture', { timeout: a, extraHeaders: b }),
    (a, b) => client.exec.run(a, { command: b, timeout: a }),
  ]
  await fc.assert(
    fc.asyncProperty(fc.nat(calls.length - 1), anything, anything, async (which, a, b) => {
      let pending
      try {
        pending = calls[which](a, b)
      } catch (err) {
        assert.fail(`call ${which} threw synchronously: ${err}`)
      }
      assert.ok(pending instanceof Promise)
      try {
        await pending
      } catch (err) {
        assert.ok(err instanceof MiosaError, `call ${which}: ${err}`)
      }
    }),
    { numRuns: 200 },
  )
})
