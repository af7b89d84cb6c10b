'use strict'

// Reliability through the Node binding (issue #8), the same proof as
// core/tests/reliability.rs: each fault the emulator injects, with retries on
// (the call succeeds) and off (the right error class, with its attempts), one
// sandbox created by a retried create, a stream cut five times delivering
// every event once and in order, per-call timeouts, and AbortSignal freeing
// the connection as the server sees it. Each test owns a fresh emulator so
// faults and counters never leak between tests; backoff is 10 ms.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const {
  Client,
  MiosaError,
  RateLimitError,
  ServerError,
  InsufficientCreditsError,
  APIConnectionError,
  APITimeoutError,
  AbortError,
} = require('miosa-native')
const { startEmulator } = require('./helpers.js')

const SANDBOX = '/sandboxes/sbx_fixture'

/** Runs `body(emu)` against a fresh emulator, stopped afterwards. */
async function withEmulator(body) {
  const emu = await startEmulator()
  try {
    await body(emu)
  } finally {
    await emu.stop()
  }
}

/** A client with retries on: `maxAttempts` attempts, 10 ms backoff base, 50 ms cap. */
function retrying(emu, maxAttempts, extra = {}) {
  return new Client(emu.apiKey, {
    baseUrl: emu.baseUrl,
    maxRetries: maxAttempts - 1,
    retryBaseDelay: 10,
    retryMaxDelay: 50,
    ...extra,
  })
}

function plain(emu, extra = {}) {
  return new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0, ...extra })
}

/** The recorded requests whose path is exactly `/api/v1{path}` (and `method`, when given). */
async function logFor(emu, path, method) {
  const all = await emu.control('GET', `requests?path=${encodeURIComponent(`/api/v1${path}`)}`)
  return all.filter((e) => e.path === `/api/v1${path}` && (!method || e.method === method))
}

const stats = (emu) => emu.control('GET', 'stats')

/** Polls the emulator's stats until `check` holds (or 5 s pass); the last stats. */
async function statsUntil(emu, check) {
  const deadline = Date.now() + 5000
  let seen = await stats(emu)
  while (!check(seen) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20))
    seen = await stats(emu)
  }
  return seen
}

/** Awaits a rejection of exactly `Class` and returns the error. */
async function rejectsWith(promise, Class) {
  let caught
  await assert.rejects(promise, (err) => {
    caught = err
    return true
  })
  assert.ok(caught instanceof Class, `expected ${Class.name}, got ${caught && caught.constructor.name}: ${caught}`)
  assert.ok(caught instanceof MiosaError)
  return caught
}

// ------------------------------------------------------------ 429 and 5xx

test('429 with Retry-After: retries on wait for it and succeed', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: SANDBOX, method: 'GET', status: 429, retry_after: '1', body: { error: 'slow down', code: 'RATE_LIMITED' } })
    const client = retrying(emu, 3, { retryMaxDelay: 5000 })
    const started = Date.now()
    const sandbox = await client.sandboxes.get('sbx_fixture')
    const waited = Date.now() - started
    assert.equal(sandbox.id, 'sbx_fixture')
    assert.ok(waited >= 950 && waited < 4000, `waited ${waited} ms for Retry-After: 1`)
    assert.deepEqual((await logFor(emu, SANDBOX, 'GET')).map((e) => e.status), [429, 200])
  }))

test('429 with retries off is a RateLimitError carrying Retry-After', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: SANDBOX, method: 'GET', status: 429, retry_after: '7' })
    const err = await rejectsWith(plain(emu).sandboxes.get('sbx_fixture'), RateLimitError)
    assert.equal(err.kind, 'rate_limited')
    assert.equal(err.status, 429)
    assert.equal(err.retryAfter, 7)
    assert.equal(err.attempts, 1)
    assert.equal((await logFor(emu, SANDBOX, 'GET')).length, 1)
  }))

test('5xx within max attempts ends in success', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: SANDBOX, method: 'GET', status: 503, times: 2 })
    const sandbox = await retrying(emu, 3).sandboxes.get('sbx_fixture')
    assert.equal(sandbox.id, 'sbx_fixture')
    assert.deepEqual((await logFor(emu, SANDBOX, 'GET')).map((e) => e.status), [503, 503, 200])
  }))

test('5xx beyond max attempts is a ServerError with the attempt count', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: SANDBOX, method: 'GET', status: 500, times: 5 })
    const err = await rejectsWith(retrying(emu, 3).sandboxes.get('sbx_fixture'), ServerError)
    assert.equal(err.kind, 'server')
    assert.equal(err.status, 500)
    assert.equal(err.attempts, 3)
    assert.equal((await logFor(emu, SANDBOX, 'GET')).length, 3)

    // Retries off: one attempt only.
    await emu.control('DELETE', 'faults')
    await emu.fault({ path: SANDBOX, method: 'GET', status: 503, times: 5 })
    const once = await rejectsWith(plain(emu).sandboxes.get('sbx_fixture'), ServerError)
    assert.equal(once.attempts, 1)
    assert.equal((await logFor(emu, SANDBOX, 'GET')).length, 4)
  }))

test('402 is never retried: exactly one request', () =>
  withEmulator(async (emu) => {
    await emu.control('PUT', 'credits', { balance: 0 })
    const err = await rejectsWith(retrying(emu, 5).sandboxes.create({ name: 'no-credits' }), InsufficientCreditsError)
    assert.equal(err.status, 402)
    assert.equal(err.code, 'INSUFFICIENT_CREDITS')
    assert.equal(err.attempts, 1)
    const posts = await logFor(emu, '/sandboxes', 'POST')
    assert.equal(posts.length, 1, JSON.stringify(posts))
    assert.equal(posts[0].status, 402)
  }))

// --------------------------------------------------- mutations and their keys

test('a create hit by two 503s is retried with one key and creates one sandbox', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: '/sandboxes', method: 'POST', status: 503, times: 2 })
    const created = await retrying(emu, 3).sandboxes.create({ name: 'retried' })
    assert.equal(created.name, 'retried')
    const posts = await logFor(emu, '/sandboxes', 'POST')
    assert.equal(posts.length, 3, JSON.stringify(posts))
    assert.deepEqual(posts.slice(0, 2).map((e) => e.status), [503, 503])
    assert.ok(posts[2].status >= 200 && posts[2].status < 300, `last attempt answered ${posts[2].status}`)
    const keys = posts.map((e) => e.headers['idempotency-key'])
    assert.equal(typeof keys[0], 'string')
    assert.ok(keys[0].length > 0)
    assert.ok(keys.every((k) => k === keys[0]), `one key: ${keys}`)
    assert.equal((await stats(emu)).created.sandbox, 1)
  }))

test('a create whose answer is lost (reset mid-body) is replayed, not repeated', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: '/sandboxes', method: 'POST', reset_body: true })
    const created = await retrying(emu, 3).sandboxes.create({ name: 'lost' })
    const posts = await logFor(emu, '/sandboxes', 'POST')
    assert.equal(posts.length, 2)
    assert.equal(posts[0].fault, 'reset_body')
    assert.equal(posts[0].headers['idempotency-key'], posts[1].headers['idempotency-key'])
    const lost = (await plain(emu).sandboxes.list()).filter((s) => s.name === 'lost')
    assert.deepEqual(lost.map((s) => s.id), [created.id])
    assert.equal((await stats(emu)).created.sandbox, 1)
  }))

test('a mutation with retries off is sent once', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: '/computers/sbx_fixture/exec', status: 503, times: 3 })
    const err = await rejectsWith(plain(emu).exec.run('sbx_fixture', { command: 'true' }), ServerError)
    assert.equal(err.attempts, 1)
    const log = await logFor(emu, '/computers/sbx_fixture/exec')
    assert.equal(log.length, 1)
    assert.equal(log[0].headers['idempotency-key'], undefined)
  }))

// ------------------------------------------------------------ connection reset

test('a connection reset: APIConnectionError with retries off, success with them on', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: SANDBOX, method: 'GET', reset: true })
    const err = await rejectsWith(plain(emu).sandboxes.get('sbx_fixture'), APIConnectionError)
    assert.equal(err.kind, 'connection')
    assert.equal(err.status, null)
    assert.equal(err.attempts, 1)

    await emu.fault({ path: SANDBOX, method: 'GET', reset: true })
    const sandbox = await retrying(emu, 3).sandboxes.get('sbx_fixture')
    assert.equal(sandbox.id, 'sbx_fixture')
    assert.deepEqual((await logFor(emu, SANDBOX, 'GET')).map((e) => e.status), [null, null, 200])
  }))

test('a body cut mid-way: APIConnectionError with retries off, success with them on', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: SANDBOX, method: 'GET', reset_body: true })
    const err = await rejectsWith(plain(emu).sandboxes.get('sbx_fixture'), APIConnectionError)
    assert.equal(err.attempts, 1)
    await emu.fault({ path: SANDBOX, method: 'GET', reset_body: true })
    const sandbox = await retrying(emu, 3).sandboxes.get('sbx_fixture')
    assert.equal(sandbox.id, 'sbx_fixture')
  }))

// ------------------------------------------------------------------- timeouts

test('a stall beyond the per-call timeout is an APITimeoutError, fast', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: SANDBOX, method: 'GET', delay_ms: 5000, times: 3 })
    const client = plain(emu)
    let started = Date.now()
    const err = await rejectsWith(client.sandboxes.get('sbx_fixture', { timeout: 150 }), APITimeoutError)
    assert.equal(err.kind, 'timeout')
    assert.equal(err.status, null)
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`)

    // The client's receive timeout does the same.
    started = Date.now()
    await rejectsWith(plain(emu, { timeout: 200 }).sandboxes.get('sbx_fixture'), APITimeoutError)
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`)

    // Retries on: the stalled attempt is abandoned, the next one answers.
    const sandbox = await retrying(emu, 3).sandboxes.get('sbx_fixture', { timeout: 200 })
    assert.equal(sandbox.id, 'sbx_fixture')
    const seen = await statsUntil(emu, (s) => s.abandoned === 3)
    assert.equal(seen.abandoned, 3, `the server saw each stalled call go: ${JSON.stringify(seen)}`)
  }))

test('the operation timeout bounds all retries', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: SANDBOX, method: 'GET', status: 503, times: 1000 })
    const client = plain(emu, { maxRetries: 100, retryBaseDelay: 20, retryMaxDelay: 40, operationTimeout: 400 })
    const started = Date.now()
    const err = await rejectsWith(client.sandboxes.get('sbx_fixture'), APITimeoutError)
    const took = Date.now() - started
    assert.ok(took >= 380 && took < 1500, `took ${took} ms`)
    assert.ok(err.attempts > 1, `attempts ${err.attempts}`)
  }))

// -------------------------------------------------------------------- streams

test('a stream cut five times delivers every event exactly once, in order', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: '/_emulator/stream', cut_after_events: 7, times: 5 })
    const ids = []
    const stream = plain(emu).streamSse('/_emulator/stream', { extraQuery: { count: 50, retry_ms: 10 } })
    for await (const event of stream) {
      assert.equal(event.data, event.id)
      ids.push(Number(event.id))
    }
    assert.deepEqual(ids, Array.from({ length: 50 }, (_, i) => i + 1))
    const log = await logFor(emu, '/_emulator/stream')
    assert.deepEqual(log.map((e) => e.headers['last-event-id'] ?? null), [null, '7', '14', '21', '28', '35'])
    assert.deepEqual(log.slice(0, 5).map((e) => e.fault), Array(5).fill('cut_after_events'))
  }))

test('a stalled stream ends with APITimeoutError at the idle limit', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: '/_emulator/stream', stall_after_events: 3, delay_ms: 5000 })
    const stream = plain(emu, { timeout: 500 }).streamSse('/_emulator/stream', { extraQuery: { count: 10 } })
    const seen = []
    const started = Date.now()
    await rejectsWith(
      (async () => {
        for await (const event of stream) seen.push(event.id)
      })(),
      APITimeoutError,
    )
    const took = Date.now() - started
    assert.deepEqual(seen, ['1', '2', '3'])
    assert.ok(took >= 450 && took < 2500, `took ${took} ms`)
  }))

test('an error buffered behind events is thrown after them, in order', () =>
  withEmulator(async (emu) => {
    await emu.fault({ path: '/_emulator/stream', stall_after_events: 3, delay_ms: 5000 })
    const stream = plain(emu, { timeout: 300 }).streamSse('/_emulator/stream', { extraQuery: { count: 10 } })
    await stream.open()
    // Let the events and the idle timeout all arrive before reading, so the
    // native side hands them over in one batch.
    await new Promise((r) => setTimeout(r, 900))
    const seen = []
    await rejectsWith(
      (async () => {
        for await (const event of stream) seen.push(event.id)
      })(),
      APITimeoutError,
    )
    assert.deepEqual(seen, ['1', '2', '3'])
    assert.equal(stream.closed, true)
    assert.deepEqual(await stream.next(), { done: true, value: undefined })
  }))

// --------------------------------------------------------------- cancellation

test('aborting a stream closes its connection on the server', () =>
  withEmulator(async (emu) => {
    const client = plain(emu)
    const controller = new AbortController()
    const stream = client.streamSse('/_emulator/stream', { extraQuery: { count: 100_000_000 }, signal: controller.signal })
    const ids = []
    await rejectsWith(
      (async () => {
        for await (const event of stream) {
          ids.push(event.id)
          if (ids.length === 10) {
            assert.equal((await stats(emu)).streams.open, 1)
            controller.abort()
          }
        }
      })(),
      AbortError,
    )
    assert.deepEqual(ids, Array.from({ length: 10 }, (_, i) => String(i + 1)))
    assert.equal(stream.closed, true)
    let after = await statsUntil(emu, (s) => s.streams.open === 0)
    assert.equal(after.streams.open, 0, JSON.stringify(after))

    // Leaving a for-await loop does the same.
    for await (const _ of client.streamSse('/_emulator/stream', { extraQuery: { count: 100_000_000 } })) break
    after = await statsUntil(emu, (s) => s.streams.open === 0)
    assert.equal(after.streams.open, 0, JSON.stringify(after))
    assert.equal(after.streams.opened, 2)
  }))

test('aborting a call in flight abandons it on the server', () =>
  withEmulator(async (emu) => {
    const before = await stats(emu)
    const controller = new AbortController()
    const call = plain(emu).exec.run('sbx_fixture', { command: 'sleep 5' }, { signal: controller.signal })
    const answering = await statsUntil(emu, (s) => s.in_flight === 1)
    assert.equal(answering.in_flight, 1, 'the server is answering the call')
    const started = Date.now()
    controller.abort()
    const err = await rejectsWith(call, AbortError)
    assert.equal(err.kind, 'cancelled')
    const after = await statsUntil(emu, (s) => s.abandoned === 1 && s.in_flight === 0)
    assert.equal(after.abandoned, 1, JSON.stringify(after))
    assert.equal(after.in_flight, 0, JSON.stringify(after))
    assert.equal(after.exec_count, before.exec_count, 'the command never finished')
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`)
  }))

// ------------------------------------------------- shared retry vectors

const RETRY_VECTORS = require('../../tests/retry/vectors.json').vectors

test('the shared retry vectors hold end to end (GETs and keyed POSTs)', async () => {
  // With retries on every mutation carries a key, so a call can produce GETs and keyed POSTs.
  const reachable = RETRY_VECTORS.filter((v) => v.method === 'GET' || v.idempotency_key)
  assert.ok(reachable.length >= 8)
  for (const v of reachable) {
    await withEmulator(async (emu) => {
      const client = retrying(emu, 2)
      const path = v.method === 'GET' ? SANDBOX : '/sandboxes'
      const call = () =>
        v.method === 'GET'
          ? client.sandboxes.get('sbx_fixture')
          : client.sandboxes.create({ name: 'vector', idempotency_key: 'vector-key' })
      await emu.fault({ method: v.method, path, status: v.status, body: v.body, times: 1 })
      if (v.retried) {
        await call()
      } else {
        await assert.rejects(call(), (err) => err instanceof MiosaError && err.status === v.status && err.attempts === 1, v.name)
      }
      const sent = await logFor(emu, path, v.method)
      assert.equal(sent.length, v.retried ? 2 : 1, v.name)
    })
  }
})

test('a command sent while the sandbox starts waits for it (409 SANDBOX_STARTING is retried)', async () => {
  await withEmulator(async (emu) => {
    const client = retrying(emu, 30)
    const sb = await client.sandboxes.create({ name: 'fresh' })
    const out = await client.sandbox.exec.run(sb.id, { command: 'echo ready' })
    assert.equal(out.stdout.trim(), 'ready')
    const log = await logFor(emu, `/sandboxes/${sb.id}/exec`)
    assert.equal(log[0].status, 409)
    assert.equal(log.at(-1).status, 200)
    const once = plain(emu)
    const other = await once.sandboxes.create({ name: 'fresh-too' })
    await assert.rejects(
      once.sandbox.exec.run(other.id, { command: 'true' }),
      (err) => err.code === 'SANDBOX_STARTING' && err.attempts === 1,
    )
  })
})

test('a stream outlives the client that opened it', () =>
  withEmulator(async (emu) => {
    const v8 = require('node:v8')
    const vm = require('node:vm')
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc')
    // The client is garbage the moment the stream is open.
    const stream = plain(emu).streamSse('/_emulator/stream', { extraQuery: { count: 5 } })
    await stream.open()
    // Let the whole stream arrive (its reader then ends), and collect the client.
    await new Promise((r) => setTimeout(r, 300))
    for (let i = 0; i < 3; i++) {
      gc()
      await new Promise((r) => setTimeout(r, 50))
    }
    const ids = []
    for await (const event of stream) ids.push(event.id)
    assert.deepEqual(ids, ['1', '2', '3', '4', '5'])
  }))

test('a socket outlives the client that opened it', () =>
  withEmulator(async (emu) => {
    const v8 = require('node:v8')
    const vm = require('node:vm')
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc')
    const socket = await plain(emu).exec.spawn('cmp_fixture', 'read line; echo got-$line')
    for (let i = 0; i < 3; i++) {
      gc()
      await new Promise((r) => setTimeout(r, 50))
    }
    await socket.send('hi\n')
    let out = ''
    for await (const message of socket) out += message.text ?? ''
    assert.match(out, /got-hi/)
  }))
