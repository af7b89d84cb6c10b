'use strict'

// Numbers for the issue note: addon size, `require` time (median of 20
// processes), `new Client()` time, and calls/s of `client.sandboxes.get`
// against a local emulator (sequential, and with 16 calls in flight).
//
//   node bindings-node/bench/bench.js

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { startEmulator, PACKAGE } = require('../__test__/helpers.js')

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function requireTimes(runs) {
  const script =
    "const t = process.hrtime.bigint(); const m = require('miosa-native'); const r = Number(process.hrtime.bigint() - t) / 1e6;" +
    "const t2 = process.hrtime.bigint(); new m.Client('msk_bench_key'); const c = Number(process.hrtime.bigint() - t2) / 1e6;" +
    'console.log(r, c)'
  const req = []
  const ctor = []
  for (let i = 0; i < runs; i++) {
    const out = spawnSync(process.execPath, ['-e', script], { cwd: PACKAGE, encoding: 'utf8' })
    const [r, c] = out.stdout.trim().split(' ').map(Number)
    req.push(r)
    ctor.push(c)
  }
  return { require: median(req), ctor: median(ctor) }
}

async function callsPerSecond(client, total, inFlight) {
  let next = 0
  const worker = async () => {
    while (next < total) {
      next += 1
      await client.sandboxes.get('sbx_fixture')
    }
  }
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: inFlight }, worker))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return total / seconds
}

async function main() {
  const addon = fs.readdirSync(PACKAGE).find((f) => /^miosa\..*\.node$/.test(f))
  const size = fs.statSync(path.join(PACKAGE, addon)).size
  console.log(`addon ${addon}: ${(size / 1e6).toFixed(2)} MB`)
  const t = requireTimes(20)
  console.log(`require('miosa-native'): median ${t.require.toFixed(2)} ms; new Client(): median ${t.ctor.toFixed(2)} ms`)

  const { Client } = require('miosa-native')
  const emu = await startEmulator()
  try {
    const client = new Client(emu.apiKey, { baseUrl: emu.baseUrl })
    await callsPerSecond(client, 300, 1) // warm-up: connection pool, JIT
    for (const inFlight of [1, 16]) {
      const rates = []
      for (let run = 0; run < 3; run++) rates.push(await callsPerSecond(client, 2000, inFlight))
      console.log(`client.sandboxes.get, ${inFlight} in flight: ${rates.map((r) => r.toFixed(0)).join(' / ')} calls/s`)
    }
  } finally {
    await emu.stop()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
