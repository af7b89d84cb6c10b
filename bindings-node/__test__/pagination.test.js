'use strict'

// Cursor pagination: one page with `list`, every item with `iter`.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client, Pager, AbortError, PermissionDeniedError } = require('miosa-native')
const { startEmulator } = require('./helpers.js')

let emu
let client
let admin
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  admin = new Client(emu.adminKey, { baseUrl: emu.baseUrl, maxRetries: 0 })
  // Mutations are what the audit log records.
  for (let i = 0; i < 7; i++) await client.sandboxes.create({ name: `audited-${i}` })
})
after(() => emu && emu.stop())

test('auditLog.iter walks every page, lazily, and matches a manual cursor walk', async () => {
  const manual = []
  let cursor
  let firstCursor
  let pages = 0
  for (;;) {
    const page = await admin.auditLog.list({ limit: 3, cursor })
    assert.ok(Array.isArray(page.items))
    assert.ok(page.items.length <= 3)
    manual.push(...page.items)
    pages += 1
    if (!page.next_cursor) break
    cursor = page.next_cursor
    firstCursor ??= cursor
  }
  assert.ok(pages >= 3, `several pages (${pages})`)

  const before = (await emu.requests(1))[0].seq
  const walked = []
  for await (const entry of admin.auditLog.iter({ limit: 3 })) walked.push(entry)
  assert.deepEqual(walked.map((e) => e.id), manual.map((e) => e.id))
  assert.equal(new Set(walked.map((e) => e.id)).size, walked.length, 'no entry twice')
  assert.ok(walked.length >= 7)
  assert.ok(walked.every((e) => typeof e.action === 'string' && typeof e.created_at === 'string'))
  const pageRequests = (await emu.control('GET', 'requests?path=/api/v1/audit-log')).filter((r) => r.seq > before)
  assert.equal(pageRequests.length, pages, 'one request per page')
  assert.equal(pageRequests[0].query.after, undefined)
  assert.equal(pageRequests[1].query.after, firstCursor)
  assert.equal(pageRequests[0].query.limit, '3')
})

test('iter fetches nothing until the loop asks, and stops fetching on break', async () => {
  const before = (await emu.requests(1))[0].seq
  const it = admin.auditLog.iter({ limit: 2 })
  assert.equal((await emu.requests(1))[0].seq, before, 'creating the iterator sent nothing')
  let n = 0
  for await (const _ of it) if (++n === 3) break
  const sent = (await emu.control('GET', 'requests?path=/api/v1/audit-log')).filter((r) => r.seq > before)
  assert.equal(sent.length, 2, 'two pages of two were enough for three items')
})

test('iter errors and aborts reach the loop', async () => {
  await assert.rejects(async () => {
    for await (const _ of client.auditLog.iter()) assert.fail('a user key may not read the audit log')
  }, PermissionDeniedError)
  const controller = new AbortController()
  controller.abort()
  await assert.rejects(async () => {
    for await (const _ of admin.auditLog.iter({ limit: 2 }, { signal: controller.signal })) assert.fail('aborted')
  }, AbortError)
})

test('other paginated lists offer list and iter too', async () => {
  for (let i = 0; i < 3; i++) await client.webhooks.create({ url: `http://127.0.0.1:9/h${i}`, events: ['sandbox.created'] })
  const first = await client.webhooks.list({ limit: 2 })
  assert.equal(first.items.length, 2)
  assert.equal(typeof first.next_cursor, 'string')
  const all = []
  for await (const hook of client.webhooks.iter({ limit: 2 })) all.push(hook.id)
  assert.ok(all.length >= 3)
  assert.equal(new Set(all).size, all.length)
})

test('page-numbered lists (usage.sessions) walk every page, not just the first', async () => {
  const everything = []
  for await (const s of client.usage.sessionsIter()) everything.push(s.id)
  assert.ok(everything.length >= 3, `sessions: ${everything.length}`)
  const perPage = Math.ceil(everything.length / 3)
  const first = await client.usage.sessions({ per_page: perPage })
  assert.equal(first.next_cursor, '2')
  const before = (await emu.requests(1))[0].seq
  const walked = []
  for await (const s of client.usage.sessionsIter({ per_page: perPage })) walked.push(s.id)
  assert.deepEqual(walked, everything, 'every page, in order, nothing twice')
  const sent = (await emu.control('GET', 'requests?path=/api/v1/usage/sessions')).filter((r) => r.seq > before)
  assert.deepEqual(sent.map((r) => r.query.page), [undefined, '2', '3'])
})

test('nextPage() follows the cursor and ends with null; iterPages() walks whole pages', async () => {
  const manual = []
  for await (const entry of admin.auditLog.iter({ limit: 3 })) manual.push(entry.id)
  const viaNext = []
  let pages = 0
  for (let page = await admin.auditLog.list({ limit: 3 }); page !== null; page = await page.nextPage()) {
    viaNext.push(...page.items.map((e) => e.id))
    assert.ok(++pages <= manual.length, 'nextPage() must end')
  }
  assert.deepEqual(viaNext, manual)
  const walked = []
  for await (const page of admin.auditLog.iter({ limit: 3 }).iterPages()) {
    assert.ok(page.items.length > 0 && page.items.length <= 3)
    walked.push(page)
  }
  assert.equal(walked.length, pages)
  assert.deepEqual(walked.flatMap((p) => p.items.map((e) => e.id)), manual)
  assert.equal(walked.at(-1).next_cursor, null)
  assert.equal(await walked.at(-1).nextPage(), null)
  const second = await walked[0].nextPage()
  assert.deepEqual(second.items.map((e) => e.id), walked[1].items.map((e) => e.id))
})

test('close() and await using end a walk', async () => {
  const pager = admin.auditLog.iter({ limit: 2 })
  assert.ok(pager instanceof Pager)
  const first = await pager.next()
  assert.equal(first.done, false)
  assert.equal(pager.closed, false)
  pager.close()
  assert.equal(pager.closed, true)
  assert.deepEqual(await pager.next(), { done: true, value: undefined })
  assert.equal(await pager.nextPage(), null)
  const disposed = admin.auditLog.iter({ limit: 2 })
  await disposed.next()
  await disposed[Symbol.asyncDispose]()
  assert.equal(disposed.closed, true)
})

test('a page-numbered list of three pages, page by page, and the cursor keyword', async () => {
  const everything = []
  for await (const s of client.usage.sessionsIter()) everything.push(s.id)
  const perPage = Math.ceil(everything.length / 3)
  const pages = []
  for await (const page of client.usage.sessionsIter({ per_page: perPage }).iterPages()) pages.push(page)
  assert.equal(pages.length, 3)
  assert.deepEqual(pages.flatMap((p) => p.items.map((s) => s.id)), everything)
  const third = await client.usage.sessions({ per_page: perPage, cursor: '3' })
  assert.deepEqual(third.items.map((s) => s.id), pages[2].items.map((s) => s.id))
  assert.equal(await third.nextPage(), null)
})
