'use strict'

// How the package behaves as part of a Node process: scripts that use a client
// exit by themselves, ESM import works, and calls never block the event loop.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('miosa-native')
const { startEmulator, runNode } = require('./helpers.js')

let emu
before(async () => {
  emu = await startEmulator()
})
after(() => emu && emu.stop())

const env = () => ({ MIOSA_API_KEY: emu.apiKey, MIOSA_BASE_URL: emu.baseUrl })

test('a script that made calls and read a stream exits by itself', async () => {
  const script = `
    const { Client } = require('miosa-native')
    const client = Client.fromEnv()
    ;(async () => {
      const sb = await client.sandboxes.get('sbx_fixture')
      for await (const ev of client.sandbox.events.stream(sb.id)) break
      for await (const entry of client.webhooks.iter()) break
      await client.sandboxes.list()
      console.log('done')
    })()
  `
  const run = await runNode(['-e', script], { env: env(), timeoutMs: 8000 })
  assert.equal(run.timedOut, false, 'the process had to be killed: something kept it alive')
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /done/)
  assert.ok(run.ms < 5000, `exited after ${run.ms} ms`)
})

test('an idle client alone does not keep the process alive', async () => {
  const run = await runNode(['-e', "const { Client } = require('miosa-native'); globalThis.keep = Client.fromEnv(); console.log('made')"], {
    env: env(),
    timeoutMs: 8000,
  })
  assert.equal(run.timedOut, false)
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /made/)
})

test('a call in flight keeps the process alive until it answers', async () => {
  await emu.fault({ path: '/sandboxes/sbx_fixture', method: 'GET', delay_ms: 700 })
  const run = await runNode(['-e', "require('miosa-native').Client.fromEnv().sandboxes.get('sbx_fixture').then((sb) => console.log('got', sb.id))"], {
    env: env(),
    timeoutMs: 8000,
  })
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /got sbx_fixture/)
  assert.ok(run.ms >= 700, 'the process waited for the answer')
})

test('ESM import gives the same classes', async () => {
  const script = `
    import { Client, NotFoundError, MiosaError } from 'miosa-native'
    import pkg from 'miosa-native'
    const client = new Client(process.env.MIOSA_API_KEY, { baseUrl: process.env.MIOSA_BASE_URL, maxRetries: 0 })
    try { await client.sandboxes.get('sbx_nope') } catch (err) {
      console.log(err instanceof NotFoundError, err instanceof MiosaError, pkg.Client === Client)
    }
  `
  const run = await runNode(['--input-type=module', '-e', script], { env: env() })
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout.trim(), 'true true true')
})

test('calls never block the event loop', async () => {
  const client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  await emu.fault({ path: '/sandboxes/sbx_fixture', method: 'GET', delay_ms: 500 })
  let ticks = 0
  const timer = setInterval(() => {
    ticks += 1
  }, 10)
  const started = Date.now()
  const pending = client.sandboxes.get('sbx_fixture')
  assert.ok(Date.now() - started < 50, 'the call returned a promise at once')
  await pending
  clearInterval(timer)
  assert.ok(ticks >= 20, `timers kept running during the call (${ticks} ticks)`)
})

test('many concurrent calls', async () => {
  const client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  const results = await Promise.all(Array.from({ length: 200 }, () => client.sandboxes.get('sbx_fixture')))
  assert.equal(results.length, 200)
  assert.ok(results.every((sb) => sb.id === 'sbx_fixture'))
})
