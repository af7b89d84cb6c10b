'use strict'

// `onState` on the waits: each new lifecycle state seen while polling is
// reported once, and the sequence ends in the ready state.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('miosa-native')
const { startEmulator } = require('./helpers.js')

let emu
let client
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
})
after(() => emu && emu.stop())

const noRepeats = (states) => states.every((s, i) => i === 0 || s !== states[i - 1])

test('a booting sandbox reports each state once, ending running', async () => {
  const sb = await client.sandboxes.create({ name: 'watched' })
  const seen = []
  const ready = await client.sandboxes.waitUntilReady(sb.id, { timeout: 10 }, { onState: (s) => seen.push(s) })
  assert.equal(ready, true)
  assert.equal(seen[0], 'creating', seen.join())
  assert.equal(seen.at(-1), 'running', seen.join())
  assert.ok(noRepeats(seen), seen.join())
})

test('a computer handle reports its statuses up to running', async () => {
  const computer = await client.computers.create({ name: 'watched' })
  const seen = []
  const running = await client.computer.waitUntilRunning(computer.id, { timeout: 10 }, { onState: (s) => seen.push(s) })
  assert.equal(running, true)
  assert.ok(seen.length >= 2 && seen.at(-1) === 'running' && noRepeats(seen), seen.join())
})

test('onState on a call that does not wait is refused', async () => {
  await assert.rejects(client.sandboxes.list({}, { onState: () => {} }), /sandboxes.list does not wait/)
  await assert.rejects(client.sandboxes.waitUntilReady('sbx_x', {}, { onState: 'running' }), /options.onState must be a function/)
})
