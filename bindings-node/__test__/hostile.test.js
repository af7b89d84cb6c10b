'use strict'

// Hostile servers: small misbehaving HTTP servers on loopback, each bounded in
// bytes and seconds, and the typed error every case ends with.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const {
  Client,
  LimitExceededError,
  APITimeoutError,
  APIConnectionError,
  MiosaError,
} = require('miosa-native')
const { startEmulator } = require('./helpers.js')

// Upper bound on what any hostile server writes, whatever the client does.
const MAX_SERVED = 128 << 20
const SSE_HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n'

/** A loopback server answering each connection with `handler(index, headers, socket)`. */
async function serve(handler) {
  const requests = []
  const sockets = new Set()
  let index = 0
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    const mine = index++
    let head = ''
    const onData = (chunk) => {
      head += chunk.toString('latin1')
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      const lines = head.slice(0, end).split('\r\n')
      const headers = { ':path': lines[0].split(' ')[1] }
      for (const line of lines.slice(1)) {
        const at = line.indexOf(':')
        headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim()
      }
      requests.push(headers)
      handler(mine, headers, socket)
    }
    socket.on('data', onData)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}/api/v1`,
    requests,
    client(options = {}) {
      // Retries off unless a test turns them on: each case counts its requests.
      return new Client('msk_test_hostile', { baseUrl: this.baseUrl, maxRetries: 0, ...options })
    },
    close() {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}

/** Writes `chunk` until `MAX_SERVED` bytes, the client leaves, or the socket closes. */
function writeEndlessly(socket, chunk) {
  let served = 0
  const pump = () => {
    while (served < MAX_SERVED && !socket.destroyed) {
      served += chunk.length
      if (!socket.write(chunk)) {
        socket.once('drain', pump)
        return
      }
    }
  }
  pump()
}

function events(first, last) {
  let out = ''
  for (let n = first; n <= last; n++) out += `id: ${n}\ndata: ${n}\n\n`
  return out
}

async function withServer(handler, body) {
  const server = await serve(handler)
  try {
    await body(server)
  } finally {
    server.close()
  }
}

async function drain(stream) {
  const seen = []
  for await (const event of stream) seen.push(event.data)
  return seen
}

test('an endless JSON body stops at max_response_bytes', () =>
  withServer(
    (_i, _h, socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[')
      writeEndlessly(socket, Buffer.from('1,'.repeat(32768)))
    },
    async (server) => {
      const err = await server.client().sandboxes.get('sbx_1').then(
        () => assert.fail('resolved'),
        (e) => e,
      )
      assert.ok(err instanceof LimitExceededError, String(err))
      assert.equal(err.kind, 'limit_exceeded')
      assert.match(err.message, /max_response_bytes/)
    },
  ))

test('an absurd Content-Length is refused before reading', () =>
  withServer(
    (_i, _h, socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000000000\r\n\r\n{')
    },
    async (server) => {
      const started = Date.now()
      await assert.rejects(server.client().sandboxes.get('sbx_1'), LimitExceededError)
      assert.ok(Date.now() - started < 3000)
    },
  ))

test('a server answering after 3 s fails a 1 s client in about 1 s', () =>
  withServer(
    (_i, _h, socket) => {
      setTimeout(() => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}'), 3000)
    },
    async (server) => {
      const started = Date.now()
      await assert.rejects(server.client({ timeout: 1000 }).sandboxes.get('sbx_1'), APITimeoutError)
      assert.ok(Date.now() - started < 2500, `${Date.now() - started} ms`)
    },
  ))

test('a 4 s command with its own timeout of 20 outlives a 2 s client timeout', async () => {
  const emu = await startEmulator()
  try {
    const client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, timeout: 2000, maxRetries: 0 })
    const out = await client.sandbox.exec.run('sbx_fixture', { command: 'sleep 4; echo done', timeout: 20 })
    assert.equal(out.stdout, 'done\n')
  } finally {
    emu.stop()
  }
})

test('a never-ending SSE line stops at max_event_bytes', () =>
  withServer(
    (_i, _h, socket) => {
      socket.write(SSE_HEAD + 'data: ')
      writeEndlessly(socket, Buffer.alloc(65536, 'x'))
    },
    async (server) => {
      await assert.rejects(drain(server.client().streamSse('/stream')), (err) => {
        assert.ok(err instanceof LimitExceededError, String(err))
        assert.match(err.message, /max_event_bytes/)
        return true
      })
    },
  ))

test('one huge event stops at max_event_bytes', () =>
  withServer(
    (_i, _h, socket) => {
      socket.write(SSE_HEAD + 'data: small\n\n')
      writeEndlessly(socket, Buffer.from('data: ' + 'y'.repeat(16384) + '\n'))
    },
    async (server) => {
      const seen = []
      await assert.rejects(async () => {
        for await (const event of server.client().streamSse('/stream')) seen.push(event.data)
      }, LimitExceededError)
      assert.deepEqual(seen, ['small'])
    },
  ))

test('a clean close mid-stream with ids resumes from the last id', () =>
  withServer(
    (index, headers, socket) => {
      if (index === 0) socket.end(SSE_HEAD + 'retry: 10\n\n' + events(1, 7))
      else if (headers['last-event-id'] === '7') socket.end(SSE_HEAD + events(8, 30) + 'data: [DONE]\n\n')
      else socket.destroy()
    },
    async (server) => {
      const seen = await drain(server.client().streamSse('/stream'))
      assert.deepEqual(
        seen,
        Array.from({ length: 30 }, (_, i) => String(i + 1)),
      )
      assert.deepEqual(
        server.requests.map((r) => r['last-event-id']),
        [undefined, '7'],
      )
    },
  ))

test('a POST stream cut is not replayed with retries off', () =>
  withServer(
    (_i, _h, socket) => {
      socket.end(SSE_HEAD + 'retry: 10\n\n' + events(1, 3))
    },
    async (server) => {
      const seen = []
      await assert.rejects(async () => {
        for await (const event of server.client({ maxRetries: 0 }).completions.stream({ model: 'm', messages: [] })) {
          seen.push(event.data)
        }
      }, APIConnectionError)
      assert.deepEqual(seen, ['1', '2', '3'])
      assert.equal(server.requests.length, 1)
    },
  ))

test('a cursor cycle is a typed error, not a loop', () =>
  withServer(
    (_i, headers, socket) => {
      const body = headers[':path'].includes('cursor=B')
        ? '{"data":[{"id":"w2","url":"https://h.example/2"}],"next_cursor":"A"}'
        : '{"data":[{"id":"w1","url":"https://h.example/1"}],"next_cursor":"B"}'
      socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`)
    },
    async (server) => {
      const ids = []
      await assert.rejects(
        async () => {
          for await (const hook of server.client().webhooks.iter()) {
            ids.push(hook.id)
            assert.ok(ids.length < 10, 'the pager loops')
          }
        },
        (err) => err instanceof MiosaError && err.kind === 'decode' && /cursor/.test(err.message),
      )
      assert.deepEqual(ids, ['w1', 'w2'])
    },
  ))

function heldOpen(count) {
  return (_i, _h, socket) => {
    socket.write(SSE_HEAD + events(1, count) + (count ? 'data: [DONE]\n\n' : ''))
  }
}

test('seven overlapping next() on a five-event stream lose nothing', () =>
  withServer(heldOpen(5), async (server) => {
    const stream = server.client().streamSse('/stream')
    const results = await Promise.all(Array.from({ length: 7 }, () => stream.next()))
    const values = results.filter((r) => !r.done).map((r) => r.value.data)
    assert.deepEqual(values, ['1', '2', '3', '4', '5'])
    assert.equal(results.filter((r) => r.done).length, 2)
  }))

test('close() wakes a pending next() at once', () =>
  withServer(heldOpen(0), async (server) => {
    const stream = server.client().streamSse('/stream')
    await stream.open()
    const pending = stream.next()
    await new Promise((resolve) => setTimeout(resolve, 300))
    const closedAt = Date.now()
    stream.close()
    const result = await pending
    assert.equal(result.done, true)
    assert.ok(Date.now() - closedAt < 500, `${Date.now() - closedAt} ms`)
  }))
