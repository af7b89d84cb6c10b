'use strict'

// `using` (Symbol.dispose) closes streams, sockets and pagers at once, beside
// `await using` (Symbol.asyncDispose); `await using` on a handle destroys it.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('miosa-native')
const { startEmulator } = require('./helpers.js')

let emu
let client
let sb
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  sb = await client.sandboxes.create({ name: 'dispose', wait: true })
})
after(() => emu && emu.stop())

test('Symbol.dispose closes an event stream, and so does Symbol.asyncDispose', async () => {
  const stream = client.sandbox.events.stream(sb.id)
  await stream.open()
  assert.equal(stream.closed, false)
  stream[Symbol.dispose]()
  assert.equal(stream.closed, true)
  assert.deepEqual(await stream.next(), { done: true, value: undefined })
  const other = sb.files.watch({ path: '/workspace' })
  await other.open()
  await other[Symbol.asyncDispose]()
  assert.equal(other.closed, true)
})

test('Symbol.dispose closes a socket', async () => {
  const term = await sb.terminal.stream()
  assert.equal(term.closed, false)
  term[Symbol.dispose]()
  assert.equal(term.closed, true)
  assert.equal(await term.receive(), null)
})

test('Symbol.dispose ends a walk', async () => {
  await client.webhooks.create({ url: 'https://example.com/hook', events: ['sandbox.ready'] })
  const pager = client.webhooks.iter({ limit: 1 })
  assert.equal(pager.closed, false)
  pager[Symbol.dispose]()
  assert.equal(pager.closed, true)
  assert.deepEqual(await pager.next(), { done: true, value: undefined })
})
