'use strict'

// Server-sent events through the binding: async iteration, `break` closing the
// connection, the seed's callback form, AbortSignal, resumption after a cut,
// and the shared SSE parsing vectors run through the native parser.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { Client, EventStream, NotFoundError, AbortError, parseSse } = require('miosa-native')
const { startEmulator, ROOT } = require('./helpers.js')

let emu
let client
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
})
after(() => emu && emu.stop())

/** Client-side TCP connections of this machine that are established to `port`. */
function connectionsTo(port) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  let count = 0
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols[2].endsWith(`:${hexPort}`) && cols[3] === '01') count += 1
    }
  }
  return count
}

async function waitFor(check, ms = 3000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return check()
}

test('for await reads events; break closes the connection', async () => {
  const port = Number(new URL(emu.baseUrl).port)
  const sb = await client.sandboxes.create({ name: 'streamer' })
  const stream = client.sandbox.events.stream(sb.id)
  assert.ok(stream instanceof EventStream)
  const seen = []
  let during = 0
  for await (const event of stream) {
    seen.push(event)
    during = connectionsTo(port)
    if (seen.length === 2) break
  }
  assert.ok(during >= 1, 'the stream holds a connection while read')
  assert.equal(seen[0].event, 'sandbox.created')
  assert.equal(JSON.parse(seen[0].data).sandbox_id, sb.id)
  assert.equal(typeof seen[0].id, 'string')
  assert.equal(stream.closed, true)
  assert.deepEqual(await stream.next(), { done: true, value: undefined })
  // The stream's connection is gone (a finished ordinary call would have stayed pooled).
  assert.ok(await waitFor(() => connectionsTo(port) < during), 'break closed the SSE connection')
})

test("the seed's callback form stops when the callback says so", async () => {
  const seen = []
  const done = client.sandbox.events.stream('sbx_fixture', (event) => {
    seen.push(event.event)
    return seen.length >= 2 ? 'stop' : 'continue'
  })
  assert.ok(done instanceof Promise)
  assert.equal(await done, undefined)
  assert.equal(seen.length, 2)

  // The generic stream_sse, callback returning false.
  let count = 0
  await client.streamSse('/sandboxes/sbx_fixture/events', () => {
    count += 1
    return false
  })
  assert.equal(count, 1)
})

test('a stream that ends by itself ends the loop ([DONE] sentinel)', async () => {
  const deltas = []
  const stream = client.completions.stream({
    model: 'miosa-chat',
    stream: true,
    messages: [{ role: 'user', content: 'hello there' }],
  })
  for await (const event of stream) {
    const chunk = JSON.parse(event.data)
    deltas.push(chunk.choices[0].delta.content ?? '')
  }
  assert.ok(deltas.length >= 2)
  assert.match(deltas.join(''), /hello there/)
  assert.equal(stream.closed, true)
})

test('file watch delivers real changes', async () => {
  const watch = client.sandbox.files.watch(
    'sbx_fixture',
    { path: '/workspace', recursive: true },
    { signal: AbortSignal.timeout(10_000) },
  )
  await watch.open()
  await client.sandbox.files.write('sbx_fixture', '/workspace/watched.txt', 'hello')
  let change
  for await (const event of watch) {
    const data = JSON.parse(event.data)
    if (data.path === '/workspace/watched.txt') {
      change = data
      break
    }
  }
  assert.equal(change.event, 'created')
  assert.equal(change.is_dir, false)
  assert.equal(watch.closed, true)
})

test('opening errors surface from open() and from the loop', async () => {
  const missing = client.sandbox.events.stream('sbx_missing')
  await assert.rejects(missing.open(), NotFoundError)
  await assert.rejects(async () => {
    for await (const _ of client.sandbox.events.stream('sbx_missing')) assert.fail('no events')
  }, NotFoundError)
  // A failing stream nobody reads must not crash the process (no unhandled rejection).
  client.sandbox.events.stream('sbx_missing_unread')
  await new Promise((r) => setTimeout(r, 200))
})

test('an AbortSignal ends a stream mid-iteration with AbortError', async () => {
  const controller = new AbortController()
  const stream = client.sandbox.events.stream('sbx_fixture', { signal: controller.signal })
  await assert.rejects(async () => {
    for await (const _ of stream) controller.abort()
  }, AbortError)
  assert.equal(stream.closed, true)
})

test('a stream cut mid-way resumes with Last-Event-ID, losing and repeating nothing', async () => {
  const sb = await client.sandboxes.create({ name: 'cut-stream' })
  assert.equal(await client.sandboxes.waitUntilReady(sb.id, { timeout: 10 }), true)
  // Events 1-2 (created, ready) exist; the connection is cut when the server tries to send a third.
  await emu.fault({ path: `/sandboxes/${sb.id}/events`, method: 'GET', cut_after_events: 2 })
  const stream = client.sandbox.events.stream(sb.id)
  const seen = []
  for await (const event of stream) {
    seen.push([event.id, event.event])
    if (seen.length === 2) {
      await client.computers.update(sb.id, { name: 'cut-stream-2' })
      await client.computers.update(sb.id, { name: 'cut-stream-3' })
    }
    if (seen.length === 4) break
  }
  assert.deepEqual(seen.map(([id]) => id), ['1', '2', '3', '4'])
  assert.deepEqual(seen.map(([, name]) => name).slice(2), ['sandbox.updated', 'sandbox.updated'])
  const opened = await emu.control('GET', `requests?path=/api/v1/sandboxes/${sb.id}/events`)
  assert.equal(opened.length, 2, 'one reconnection')
  assert.equal(opened[1].headers['last-event-id'], '2')
})

test('the shared SSE vectors, whole, byte by byte and split at every position', () => {
  const { vectors } = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'sse', 'vectors.json'), 'utf8'))
  assert.ok(vectors.length > 0)
  const normalise = (events) =>
    events.map((e) => {
      const out = { event: e.event, data: e.data }
      if (e.id !== undefined && e.id !== null) out.id = e.id
      if (e.retry !== undefined && e.retry !== null) out.retry = e.retry
      return out
    })
  let runs = 0
  for (const vector of vectors) {
    const bytes = Buffer.from(vector.input, 'utf8')
    const expected = normalise(vector.expected)
    assert.deepEqual(normalise(parseSse([vector.input])), expected, `${vector.name}: whole`)
    const single = [...bytes].map((b) => Buffer.from([b]))
    assert.deepEqual(normalise(parseSse(single)), expected, `${vector.name}: byte by byte`)
    for (let i = 0; i <= bytes.length; i++) {
      assert.deepEqual(normalise(parseSse([bytes.subarray(0, i), bytes.subarray(i)])), expected, `${vector.name}: split at ${i}`)
      runs += 1
    }
  }
  assert.ok(runs > vectors.length)
})
