'use strict'

// The table-driven walk: every entry of tests/calls.json, in order, through the
// generated namespaced method against a fresh emulator. Each call must succeed
// and decode as its table row says; the request the emulator recorded must match
// `expect`. Every operation must have an entry: prints the table total
// (`241/241`) with the seed's `169/169` beside it.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { Client, EventStream, Socket } = require('miosa-native')
const { OPERATIONS } = require('../lib/api.js')
const { startEmulator, ROOT } = require('./helpers.js')

const CALLS = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'calls.json'), 'utf8'))
const BY_NAME = new Map(OPERATIONS.map((op) => [op.name, op]))

let emu
before(async () => {
  emu = await startEmulator()
})
after(() => emu && emu.stop())

function value(v) {
  return v && typeof v === 'object' && !Array.isArray(v) && '$bytes' in v ? Buffer.from(v.$bytes, 'utf8') : v
}

function checkResult(op, result) {
  switch (op.returns) {
    case 'model':
      assert.ok(result && typeof result === 'object' && !Array.isArray(result), 'a model object')
      break
    case 'list':
      assert.ok(Array.isArray(result), 'a list')
      break
    case 'page':
      assert.ok(Array.isArray(result.items), 'a page with items')
      assert.ok(result.next_cursor === null || typeof result.next_cursor === 'string')
      break
    case 'bytes':
      assert.ok(Buffer.isBuffer(result) && result.length > 0, 'non-empty bytes')
      break
    case 'bool':
      assert.equal(typeof result, 'boolean')
      break
    case 'json':
      assert.notEqual(result, undefined)
      break
    case 'socket':
      assert.ok(result instanceof Socket, 'an open Socket')
      result.close()
      break
    default:
      assert.fail(`unexpected result kind ${op.returns}`)
  }
}

async function readStream(stream, mode) {
  assert.ok(stream instanceof EventStream)
  if (mode === 'to_end') {
    const events = []
    for await (const event of stream) events.push(event)
    assert.equal(stream.closed, true)
    return events
  }
  if (mode === 'first_event') {
    const { value: event, done } = await stream.next()
    stream.close()
    assert.equal(done, false, 'the stream sent an event')
    assert.equal(typeof event.event, 'string')
    return [event]
  }
  await stream.open()
  stream.close()
  return []
}

function checkRequest(expect, req) {
  assert.equal(req.method, expect.method)
  assert.equal(req.path, expect.path)
  for (const key of expect.body_keys ?? []) {
    assert.ok(req.body && Object.hasOwn(req.body, key), `body has \`${key}\` (${JSON.stringify(req.body)})`)
  }
  for (const key of expect.query_keys ?? []) {
    assert.ok(Object.hasOwn(req.query, key), `query has \`${key}\` (${JSON.stringify(req.query)})`)
  }
  if (expect.content_type !== undefined) assert.equal(req.headers['content-type'], expect.content_type)
}

test('every operation of tests/calls.json through the generated API', async (t) => {
  const user = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  const admin = new Client(emu.adminKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  const seedOps = OPERATIONS.filter((op) => op.seed)
  assert.equal(seedOps.length, 169, 'the table has the 169 seed operations')
  const passed = new Set()
  const passedAll = new Set()

  for (const entry of CALLS) {
    await t.test(entry.op, async () => {
      const op = BY_NAME.get(entry.op)
      assert.ok(op, `\`${entry.op}\` is an operation of the table`)
      for (const name of op.positional) assert.ok(Object.hasOwn(entry.args, name), `argument \`${name}\` given`)
      const args = op.positional.map((name) => value(entry.args[name]))
      const params = entry.params ?? {}
      if (!op.params) assert.deepEqual(params, {}, `${op.name} takes no params`)
      const client = entry.auth === 'admin' ? admin : user
      const target = op.namespace.reduce((obj, key) => obj[key], client)
      const method = target[op.method]
      assert.equal(typeof method, 'function', `client.${[...op.namespace, op.method].join('.')} exists`)
      const callArgs = op.params ? [...args, params] : args

      if (op.returns === 'events') {
        const options = { signal: AbortSignal.timeout(20_000) }
        await readStream(method.call(target, ...callArgs, options), entry.stream)
      } else {
        checkResult(op, await method.call(target, ...callArgs))
      }
      const [req] = await emu.requests(1)
      checkRequest(entry.expect, req)
      if (op.seed) passed.add(op.name)
      passedAll.add(op.name)
    })
  }

  const missing = seedOps.filter((op) => !CALLS.some((c) => c.op === op.name)).map((op) => op.name)
  assert.deepEqual(missing, [], 'every seed operation has an entry in tests/calls.json')
  const unlisted = OPERATIONS.filter((op) => !CALLS.some((c) => c.op === op.name)).map((op) => op.name)
  assert.deepEqual(unlisted, [], 'every operation has an entry in tests/calls.json')
  console.log(`${passedAll.size}/${OPERATIONS.length} (${passed.size}/${seedOps.length} seed)`)
  assert.equal(passed.size, seedOps.length)
  assert.equal(passedAll.size, OPERATIONS.length)
})
