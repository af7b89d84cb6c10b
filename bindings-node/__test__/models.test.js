'use strict'

// Model objects: the table's fields at the top, unknown ones under `extra`, and
// util.inspect/toString hiding every secret and URL token the model table marks,
// while the values stay readable as properties. Also: results from the emulator
// come back as these models (lists as lists, exec results alike on both routes).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const { Client } = require('miosa-native')
const { MODELS } = require('../lib/models.js')
const { toModel } = require('../lib/model.js')
const { startEmulator } = require('./helpers.js')

const canary = (model, field) => `canary-${model}-${field}-0c4f`

const SECRET_MODELS = Object.entries(MODELS).filter(([, spec]) => spec.secret.length + spec.tokenUrls.length > 0)

test('the model table has secrets and token URLs to hide', () => {
  const names = SECRET_MODELS.map(([name]) => name)
  for (const expected of ['ApiKey', 'DatabaseCredentials', 'PreviewToken', 'Share', 'Webhook']) assert.ok(names.includes(expected), expected)
})

for (const [name, spec] of SECRET_MODELS) {
  test(`${name}: inspect and toString hide secrets and URL tokens, properties keep them`, () => {
    const raw = { api_key: canary(name, 'extra'), brand_new: 1 }
    for (const f of spec.secret) raw[f] = canary(name, f)
    for (const f of spec.tokenUrls) raw[f] = `https://p.example.test/${f}?token=${canary(name, f)}`
    const model = toModel(name, raw)
    for (const shown of [util.inspect(model, { depth: 5 }), String(model), `${model}`]) {
      assert.doesNotMatch(shown, /canary-/, shown)
      assert.match(shown, new RegExp(`^${name} `))
      for (const f of spec.tokenUrls) assert.ok(shown.includes(`https://p.example.test/${f}?<redacted>`), shown)
    }
    for (const f of spec.secret) assert.equal(model[f], canary(name, f))
    for (const f of spec.tokenUrls) assert.ok(model[f].endsWith(canary(name, f)))
    assert.equal(model.extra.api_key, canary(name, 'extra'))
    assert.equal(model.extra.brand_new, 1)
    assert.equal('brand_new' in model, false, 'unknown fields live in extra only')
  })
}

test('nested models are models, with their secrets hidden', () => {
  const update = toModel('EnvUpdate', { updated: ['DB_PASSWORD'], vars: [{ key: 'DB_PASSWORD', value: 'canary-nested-0c4f' }] })
  assert.equal(update.vars[0].value, 'canary-nested-0c4f')
  assert.doesNotMatch(util.inspect(update, { depth: 5 }), /canary-nested/)
})

let emu
let client
before(async () => {
  emu = await startEmulator()
  client = new Client(emu.apiKey, { baseUrl: emu.baseUrl })
})
after(() => emu && emu.stop())

test('answers are models: unknown fields in extra, lists as lists, secrets hidden when printed', async () => {
  const sb = await client.sandboxes.get('sbx_fixture')
  assert.equal(sb.id, 'sbx_fixture')
  assert.ok('resource_contract' in sb.extra && !('resource_contract' in sb))
  const env = await client.sandbox.env.list('sbx_fixture')
  assert.ok(Array.isArray(env) && env.length > 0 && env.every((v) => typeof v.key === 'string'))
  const key = await client.apiKeys.create({ name: 'printed' })
  assert.match(key.token, /^msk_/)
  assert.ok(!util.inspect(key).includes(key.token), util.inspect(key))
  const creds = await client.databases.credentials('db_fixture')
  assert.ok(creds.password && !util.inspect(creds).includes(creds.password))
})

test('exec results have the same fields whichever route ran them', async () => {
  for (const result of [
    await client.sandbox.exec.run('sbx_fixture', { command: 'echo same' }),
    await client.exec.run('sbx_fixture', { command: 'echo same' }),
  ]) {
    assert.equal(result.stdout, 'same\n')
    assert.equal(result.output, 'same\n')
    assert.equal(result.exit_code, 0)
  }
})

test('a missing required parameter is refused before the network, naming it', async () => {
  await assert.rejects(client.exec.run('sbx_fixture', {}), (err) => err.kind === 'invalid_argument' && /`command` is required/.test(err.message))
})

test('the type-checked seed flows (typecheck/flows.ts) run against the emulator', async () => {
  const fs = require('node:fs')
  const path = require('node:path')
  const { spawnSync } = require('node:child_process')
  const { PACKAGE } = require('./helpers.js')
  // Emitted inside the package, so `require('miosa-native')` resolves to this checkout.
  const out = path.join(__dirname, 'typecheck', '.out')
  const tsc = path.join(PACKAGE, 'node_modules', 'typescript', 'bin', 'tsc')
  const built = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'typecheck', 'tsconfig.json'), '--noEmit', 'false', '--rootDir', path.join(__dirname, 'typecheck'), '--outDir', out], { encoding: 'utf8' })
  try {
    assert.equal(built.status, 0, built.stdout)
    const seen = await require(path.join(out, 'flows.js')).flows(client)
    assert.ok(seen[0].startsWith('sbx_') && ['creating', 'running'].includes(seen[1]), seen.join(' | '))
    for (const expected of ['hi', 'same/same', '/workspace/notes.txt', '/workspace/a.txt', 'GREETING=set', 'demo,typed', 'deleted']) {
      assert.ok(seen.includes(expected), `${expected} in ${seen.join(' | ')}`)
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
})
