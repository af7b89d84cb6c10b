// Compiled with `tsc --noEmit --strict` by typings.test.js: it must type-check,
// and every `@ts-expect-error` line must really be an error (so the typings
// are precise, not `any`).

import {
  Client,
  EventStream,
  MiosaError,
  NotFoundError,
  RateLimitError,
  WebhookVerificationError,
  parseSse,
  webhooks,
  type AuditEntry,
  type ExecResult,
  type Page,
  type Sandbox,
  type SandboxHandle,
  type SseEvent,
  type Webhook,
} from 'miosa-native'

async function main(): Promise<void> {
  const client = new Client('msk_live_example', { baseUrl: 'http://127.0.0.1:1/api/v1', maxRetries: 1, headers: { 'x-tenant-id': 'acme' } })
  const fromEnv: Client = Client.fromEnv()
  const base: string = fromEnv.baseUrl

  const sb: SandboxHandle = await client.sandboxes.create({ name: 'quick-exec', tags: ['a'], idempotency_key: 'k1' })
  const id: string | undefined = sb.id
  const state: string | undefined = sb.state
  const unknownField: unknown = sb.extra['brand_new_field']
  await client.computer.start(sb.id ?? '')
  const out: ExecResult = await client.exec.run('sbx_1', { command: "python3 -c 'print(1 + 1)'" }, { timeout: 5000 })
  const code: number | undefined = out.exit_code

  const list: SandboxHandle[] = await client.sandboxes.list({ external_user_id: 'usr_1' })
  const page: Page<AuditEntry> = await client.auditLog.list({ limit: 50 })
  const next: string | null = page.next_cursor
  for await (const entry of client.auditLog.iter({ limit: 50 })) {
    const action: string | null | undefined = entry.action
  }
  const hooks: Page<Webhook> = await client.webhooks.list()
  const png: Buffer = await client.desktop.screenshot('cmp_1')
  const ready: boolean = await client.sandboxes.waitUntilReady('sbx_1', { timeout: 30 })
  await client.sandbox.files.write('sbx_1', '/workspace/a.txt', Buffer.from('x'))
  await client.sandbox.files.write('sbx_1', '/workspace/b.txt', 'text works too')
  await client.sandbox.files.writeMany('sbx_1', [{ path: '/a', content_base64: 'eA==' }])
  const file: Buffer = await client.sandbox.files.read('sbx_1', '/workspace/a.txt')
  await client.admin.tenants.list()

  const stream: EventStream = client.sandbox.events.stream('sbx_1', { signal: AbortSignal.timeout(1000) })
  for await (const ev of stream) {
    const data: string = ev.data
    break
  }
  const done: Promise<void> = client.sandbox.events.stream('sbx_1', (ev: SseEvent) => (ev.event === 'x' ? 'stop' : undefined))
  await done
  await client.streamSse('/events/stream', () => false)
  const watch: EventStream = client.sandbox.files.watch('sbx_1', { path: '/workspace', recursive: true })
  watch.close()

  const controller = new AbortController()
  await client.sandboxes.get('sbx_1', { signal: controller.signal, extraHeaders: { a: 'b' }, extraQuery: { q: 1 }, extraBody: { b: true } })

  try {
    await client.sandboxes.get('nope')
  } catch (err) {
    if (err instanceof RateLimitError) {
      const wait: number | null = err.retryAfter
    } else if (err instanceof NotFoundError) {
      const status: number | null = err.status
      const requestId: string | null = err.requestId
    } else if (err instanceof MiosaError) {
      const kind: string = err.kind
      const body: unknown = err.body
    }
  }

  const ok: true = webhooks.verify('{}', 'sha256=00', 'secret', { tolerance: 300 })
  try {
    client.webhooks.verify(Buffer.from('{}'), 'sha256=00', 'secret')
  } catch (err) {
    if (err instanceof WebhookVerificationError) {
      const why:
        | 'missing_signature'
        | 'malformed_header'
        | 'invalid_signature'
        | 'timestamp_too_old'
        | 'invalid_payload' = err.code
    }
  }
  const events: SseEvent[] = parseSse(['data: x\n\n'])

  // @ts-expect-error ids are strings
  await client.sandboxes.get(42)
  // @ts-expect-error unknown params are refused (use extraBody)
  await client.sandboxes.create({ nmae: 'typo' })
  // @ts-expect-error params have their types
  await client.sandboxes.create({ cpu_count: 'four' })
  // @ts-expect-error a stream is not a promise of a list
  const wrong: Sandbox[] = client.sandbox.events.stream('sbx_1')
  // @ts-expect-error options are checked too
  await client.sandboxes.get('sbx_1', { timeoutMs: 5 })
  // @ts-expect-error results are typed
  const notANumber: number = sb.name
  // @ts-expect-error unknown fields are in `extra`, not on the model
  const misspelt: unknown = sb.idd
  // @ts-expect-error required parameters are required
  await client.exec.run('sbx_1', {})
  // @ts-expect-error list elements have their types
  await client.sandbox.tags.add('sbx_1', [1, { x: 2 }])

  void [fromEnv, base, id, state, unknownField, code, list, next, hooks, png, ready, file, ok, events, wrong, notANumber, misspelt]
}

void main

// Raw responses, request ids, a logger and transfers.
export async function observe(): Promise<void> {
  const records: string[] = []
  const client = new Client('msk_test_x', {
    logger: console,
    logLevel: 'debug',
  })
  const quiet = new Client('msk_test_x', {
    logger: { debug() {}, info: (message, record) => records.push(`${message} ${record.route} ${record.durationMs}`), warn() {} },
  })
  const { data, response } = await client.sandboxes.withResponse().get('sbx_1')
  const handle: SandboxHandle = data
  const status: number = response.status
  const requestId: string | null = response.requestId
  const contentType: string | null = response.headers.get('content-type')
  const fromModel: string | null | undefined = handle._request_id
  const raw = await client.sandbox.files.withResponse().write('sbx_1', '/a', 'x')
  const bytes: number | null | undefined = raw.data.size_bytes
  const nested = await client.sandbox.withResponse().exec.run('sbx_1', { command: 'true' })
  const code: number = nested.data.exit_code
  const bound = await handle.files.withResponse().read('/a')
  const buf: Buffer = bound.data
  const stream: EventStream = client.sandbox.files.withResponse().watch('sbx_1')
  const written: number = await handle.files.download('/a', new URL('file:///tmp/a'), {
    onProgress: (done: number, total: number | null) => records.push(`${done}/${total}`),
  })
  const uploaded = await client.sandbox.files.upload('sbx_1', '/b', '/tmp/b', { timeout: 5000 })
  const size: number | null | undefined = uploaded.size_bytes
  {
    using events = client.sandbox.files.watch('sbx_1')
    void events
  }
  // @ts-expect-error the level is one of a few names
  new Client('msk_test_x', { logLevel: 'loud' })
  // @ts-expect-error a logger needs its methods
  new Client('msk_test_x', { logger: { info() {} } })
  // @ts-expect-error a raw call resolves to `{ data, response }`, not the data
  const notRaw: Sandbox = (await client.sandboxes.withResponse().get('sbx_1')).id
  // @ts-expect-error transfers are not raw
  await client.sandbox.files.withResponse().download('sbx_1', '/a', '/tmp/a')
  void [quiet, status, requestId, contentType, fromModel, bytes, code, buf, stream, written, size, notRaw]
}
