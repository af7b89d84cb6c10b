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
