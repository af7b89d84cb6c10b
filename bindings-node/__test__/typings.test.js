'use strict'

// The typings: a strict TypeScript program using them compiles, and the
// generated files (lib/api.js, lib/index.d.ts) match the operation table.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { PACKAGE, ROOT } = require('./helpers.js')

test('a TypeScript program using the typings compiles with --strict', () => {
  const tsc = path.join(PACKAGE, 'node_modules', 'typescript', 'bin', 'tsc')
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`)
})

test('the seed flows type-check strictly with no cast, and a misspelt field does not', () => {
  const tsc = path.join(PACKAGE, 'node_modules', 'typescript', 'bin', 'tsc')
  const flows = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'typecheck', 'tsconfig.json')], { encoding: 'utf8' })
  assert.equal(flows.status, 0, `${flows.stdout}${flows.stderr}`)
  const source = require('node:fs')
    .readFileSync(path.join(__dirname, 'typecheck', 'flows.ts'), 'utf8')
    .replace(/^\s*\/\/.*$/gm, '')
  assert.doesNotMatch(source, /\bas\s+[A-Za-z{]|!\.|!\)|\bany\b/, 'the user program needs no cast, `!` or `any`')
  const misspelt = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'typecheck', 'tsconfig.misspelt.json')], { encoding: 'utf8' })
  assert.equal(misspelt.status, 2, misspelt.stdout)
  assert.match(misspelt.stdout, /Property 'idd' does not exist on type 'SandboxHandle'/)
  assert.match(misspelt.stdout, /Property 'entriez' does not exist on type 'FileEntry\[\]'/)
})

test('the generated API and typings are up to date with the operation table', () => {
  const check = [
    'import sys',
    "sys.path.insert(0, 'codegen')",
    'from table import ROOT, load_table',
    'from targets import node',
    'stale = [p for p, text in node.render(load_table()).items() if (ROOT / p).read_text() != text]',
    "print('\\n'.join(stale))",
    'sys.exit(1 if stale else 0)',
  ].join('\n')
  const run = spawnSync('python3', ['-c', check], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(run.status, 0, `stale generated files (run python3 codegen/generate.py): ${run.stdout}${run.stderr}`)
})
