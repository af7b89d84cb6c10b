'use strict'

// `require('miosa-native')` loads only the errors; each other export loads
// what it needs when first read, and is then the same object on every read.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')

const ENTRY = path.join(__dirname, '..', 'lib', 'index.js')

/** The files a fresh process has loaded after running `code` with `m` the package. */
function loadedAfter(code) {
  const script = `const m = require(${JSON.stringify(ENTRY)}); ${code};
    console.log(JSON.stringify(Object.keys(require.cache).map((p) => require('node:path').basename(p)).sort()))`
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 }))
}

test('require loads neither the addon nor the generated namespaces', () => {
  assert.deepEqual(loadedAfter(''), ['errors.js', 'index.js'])
})

test('an error class needs nothing more; the first Client read loads the addon', () => {
  assert.deepEqual(loadedAfter('new m.NotFoundError("x")'), ['errors.js', 'index.js'])
  const loaded = loadedAfter('m.Client')
  assert.ok(loaded.includes('api.js') && loaded.includes('client.js'), loaded.join(' '))
  assert.ok(
    loaded.some((file) => file.endsWith('.node')),
    loaded.join(' '),
  )
})

test('every export is enumerable, in the order of the typings, and stable across reads', () => {
  const m = require('miosa-native')
  const names = Object.keys(m)
  assert.deepEqual(names.slice(0, 8), ['Client', 'EventStream', 'Pager', 'Socket', 'SocketMessage', 'webhooks', 'parseSse', 'version'])
  assert.ok(names.includes('MiosaError') && names.includes('NotFoundError'))
  for (const name of names) {
    assert.notEqual(m[name], undefined, name)
    assert.equal(m[name], m[name], name)
  }
  assert.equal(m.version, require('../package.json').version)
  assert.equal(typeof m.webhooks.verify, 'function')
})

test('the ESM entry serves the same objects', async () => {
  const esm = await import('miosa-native')
  const cjs = require('miosa-native')
  assert.equal(esm.Client, cjs.Client)
  assert.equal(esm.webhooks, cjs.webhooks)
  assert.equal(esm.NotFoundError, cjs.NotFoundError)
})
