'use strict'

// WebSockets through the binding, against the emulator's real terminal:
// typing `echo hi-term` and reading it back, resizing, interactive exec with
// its exit code, closing from elsewhere while a read waits, AbortSignal and
// `Symbol.asyncDispose`.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client, Socket, NotFoundError, InvalidArgumentError } = require('miosa-native')
const { startEmulator } = require('./helpers.js')

const FIXTURE = 'sbx_fixture'

let emu
let client
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
})
after(() => emu && emu.stop())

test('terminal round trip: type, read back, resize, close', async () => {
  const term = await client.sandbox.terminal.stream(FIXTURE, { cols: 80, rows: 24 })
  assert.ok(term instanceof Socket)
  assert.equal(term.frames, 'terminal')
  await term.send('echo hi-term\n')
  // Once in the echoed input line, once as the command's output line.
  await readUntilKeepOpen(term, 'hi-term\r\n', 2)
  await term.resize(132, 43)
  await term.send(Buffer.from('stty size\n'))
  await readUntilKeepOpen(term, '43 132')
  term.close()
  assert.equal(await term.receive(), null)
  await assert.rejects(term.send('ls\n'))
})

/** Reads until `want` appears, failing after `ms`; the socket stays open. */
async function readUntilKeepOpen(socket, want, times = 1, ms = 10_000) {
  let seen = ''
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), deadline - Date.now()))
    const message = await Promise.race([socket.receive(), timeout])
    if (message === 'timeout' || message === null) break
    seen += message.text
    if (seen.split(want).length - 1 >= times) return seen
  }
  assert.fail(`${JSON.stringify(want)} never arrived ${times} time(s); got ${JSON.stringify(seen)}`)
}

test('a bad size is a typed error naming the parameters', async () => {
  const term = await client.sandbox.terminal.stream(FIXTURE)
  try {
    await assert.rejects(term.resize(0, 10), (err) => err instanceof InvalidArgumentError && /cols and rows/.test(err.message))
  } finally {
    term.close()
  }
})

test('interactive exec returns its exit code', async () => {
  const exec = await client.exec.spawn(FIXTURE, 'read who; echo hello-$who; echo warn >&2; exit 3')
  await exec.send('node\n')
  const out = { stdout: '', stderr: '' }
  for await (const message of exec) out[message.channel] += message.text
  assert.deepEqual(out, { stdout: 'hello-node\n', stderr: 'warn\n' })
  assert.equal(exec.exitCode, 3)
})

test('close() ends a pending read at once', async () => {
  const exec = await client.exec.spawn(FIXTURE, 'sleep 20')
  const started = Date.now()
  setTimeout(() => exec.close(), 300)
  assert.equal(await exec.receive(), null)
  const waited = Date.now() - started
  assert.ok(waited >= 250 && waited < 5000, `waited ${waited} ms`)
  assert.equal(exec.exitCode, null)
})

test('an aborted signal closes the socket', async () => {
  const controller = new AbortController()
  const exec = await client.exec.spawn(FIXTURE, 'sleep 20', undefined, { signal: controller.signal })
  setTimeout(() => controller.abort(), 200)
  assert.equal(await exec.receive(), null)
  assert.ok(exec.closed)
})

test('Symbol.asyncDispose closes the socket', async () => {
  const term = await client.sandbox.terminal.stream(FIXTURE)
  assert.equal(typeof Symbol.asyncDispose, 'symbol')
  await term[Symbol.asyncDispose]()
  assert.ok(term.closed)
})

test('a missing sandbox rejects with NotFoundError', async () => {
  await assert.rejects(client.sandbox.terminal.stream('sbx_missing'), NotFoundError)
})

test('events.subscribe delivers file events', async () => {
  const events = await client.events.subscribe(FIXTURE, { subscribe: 'file' })
  await new Promise((resolve) => setTimeout(resolve, 300))
  await client.exec.run(FIXTURE, { command: 'echo x > /home/user/node-event.txt' })
  const timer = setTimeout(() => events.close(), 10_000)
  let found = null
  for await (const message of events) {
    const event = message.json()
    if (event.type === 'file.created' && event.payload.path === '/home/user/node-event.txt') {
      found = event
      break
    }
  }
  clearTimeout(timer)
  assert.ok(found, 'no file.created event')
  assert.ok(events.closed, 'leaving the loop closed the socket')
})
