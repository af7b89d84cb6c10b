'use strict'

// MIOSA_LOG: one record per request on stderr, naming the route, never the key.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startEmulator, runNode } = require('./helpers.js')

let emu
before(async () => {
  emu = await startEmulator()
})
after(() => emu && emu.stop())

test('MIOSA_LOG=info prints one record per request without the key', async () => {
  const program = `
    const { Client } = require('miosa-native')
    const client = new Client(${JSON.stringify(emu.apiKey)}, { baseUrl: ${JSON.stringify(emu.baseUrl)}, maxRetries: 0 })
    client.sandboxes.list().then(() => console.log('done'))
  `
  const run = await runNode(['-e', program], { env: { MIOSA_LOG: 'info' }, timeoutMs: 30_000 })
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout.trim(), 'done')
  const records = run.stderr.split('\n').filter((line) => line.startsWith('miosa info: GET /sandboxes -> 200'))
  assert.equal(records.length, 1, run.stderr)
  assert.match(records[0], /request_id=req_/)
  assert.ok(!run.stderr.includes(emu.apiKey), 'the key leaked')
})

test('without MIOSA_LOG nothing is printed', async () => {
  const program = `
    const { Client } = require('miosa-native')
    const client = new Client(${JSON.stringify(emu.apiKey)}, { baseUrl: ${JSON.stringify(emu.baseUrl)}, maxRetries: 0 })
    client.sandboxes.list().then(() => console.log('done'))
  `
  const env = { MIOSA_LOG: '' }
  const run = await runNode(['-e', program], { env, timeoutMs: 30_000 })
  assert.equal(run.code, 0, run.stderr)
  assert.ok(!run.stderr.includes('miosa info'), run.stderr)
})
