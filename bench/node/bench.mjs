// Node benchmarks for scripts/bench.sh: miosa-native vs Node's own fetch
// (undici) doing the same requests, against one running miosa-emulator.
//
//   node bench/node/bench.mjs --pkg DIR --base-url URL --api-key KEY \
//        [--runs 3] [--scale 1] [--only require,rss,get,download,sse,inflight] [--json OUT]
//
// --pkg is the miosa-native package folder (scripts/bench.sh stages the release
// build in target/bench/node-pkg). Numbers are printed, never asserted.

import { spawnSync } from 'node:child_process'
import { writeFileSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const SANDBOX = 'sbx_fixture'
const DOWNLOAD_PATH = 'bench-1mib.bin'
const MIB = 1 << 20
const SELF = fileURLToPath(import.meta.url)

function parseArgs(argv) {
  const o = { runs: 3, scale: 1, only: '', sseEvents: 1_000_000, inflight: 1000 }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const v = () => argv[++i]
    if (a === '--pkg') o.pkg = path.resolve(v())
    else if (a === '--base-url') o.baseUrl = v()
    else if (a === '--api-key') o.apiKey = v()
    else if (a === '--runs') o.runs = Number(v())
    else if (a === '--scale') o.scale = Number(v())
    else if (a === '--only') o.only = v()
    else if (a === '--json') o.json = v()
    else if (a === '--sse-events') o.sseEvents = Number(v())
    else if (a === '--inflight') o.inflight = Number(v())
    else if (a === '--child') o.child = argv.slice(i + 1)
    else throw new Error(`unknown argument ${a}`)
    if (o.child) break
  }
  return o
}

const median = (xs) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  if (!s.length) return NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const pct = (sorted, p) => (sorted.length ? sorted[Math.min(Math.floor((sorted.length * p) / 100), sorted.length - 1)] : NaN)

function statusKb(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) : 0
}

async function load(call, concurrency, total) {
  const lat = []
  let remaining = total
  let errors = 0
  let firstError = null
  const worker = async () => {
    while (remaining > 0) {
      remaining -= 1
      const t = process.hrtime.bigint()
      try {
        await call()
      } catch (err) {
        errors += 1
        firstError ??= String(err)
      }
      lat.push(Number(process.hrtime.bigint() - t) / 1e3)
    }
  }
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  lat.sort((a, b) => a - b)
  return {
    calls_per_s: lat.length / secs,
    p50_us: pct(lat, 50),
    p99_us: pct(lat, 99),
    cpu_us_per_call: (cpu.user + cpu.system) / total,
    errors,
    first_error: firstError,
  }
}

async function measure(call, concurrency, total, runs) {
  await load(call, concurrency, Math.max(concurrency * 2, 50)) // warm-up: pool, JIT
  const rs = []
  for (let i = 0; i < runs; i++) rs.push(await load(call, concurrency, total))
  return {
    concurrency,
    calls_per_run: total,
    calls_per_s: median(rs.map((r) => r.calls_per_s)),
    p50_us: median(rs.map((r) => r.p50_us)),
    p99_us: median(rs.map((r) => r.p99_us)),
    cpu_us_per_call: median(rs.map((r) => r.cpu_us_per_call)),
    runs_calls_per_s: rs.map((r) => Math.round(r.calls_per_s * 10) / 10),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    first_error: rs.find((r) => r.first_error)?.first_error ?? null,
  }
}

function row(label, v) {
  const f = (x, w, d = 1) => x.toFixed(d).padStart(w)
  console.log(
    `  ${label.padEnd(28)} c=${String(v.concurrency).padEnd(5)} ${f(v.calls_per_s, 8, 0)} calls/s  p50 ${f(v.p50_us, 9)} µs  p99 ${f(v.p99_us, 10)} µs  cpu/call ${f(v.cpu_us_per_call, 7)} µs  runs ${JSON.stringify(v.runs_calls_per_s)}  errors ${v.errors}`,
  )
  if (v.first_error) console.log(`    first error: ${v.first_error}`)
}

const headers = (key) => ({ authorization: `Bearer ${key}`, accept: 'application/json' })

async function fetchJson(url, key) {
  const res = await fetch(url, { headers: headers(key) })
  if (!res.ok) throw new Error(`HTTP ${res.status}`)
  return res.json()
}

async function fetchBytes(url, key) {
  const res = await fetch(url, { headers: headers(key) })
  if (!res.ok) throw new Error(`HTTP ${res.status}`)
  return Buffer.from(await res.arrayBuffer())
}

function checkLen(b) {
  if (b.length !== MIB) throw new Error(`got ${b.length} bytes`)
}

async function route(name, calls, plan, o) {
  console.log(name)
  const out = {}
  for (const c of plan.concurrency) {
    const total = Math.max(Math.round((c === 1 ? plan.nSeq : plan.nConc) * o.scale), c)
    for (const [who, call] of Object.entries(calls)) {
      const v = await measure(call, c, total, o.runs)
      row(who, v)
      out[`${who}_c${c}`] = v
    }
  }
  return out
}

function childRun(o, args) {
  const r = spawnSync(process.execPath, [SELF, '--pkg', o.pkg, '--base-url', o.baseUrl, '--api-key', o.apiKey, '--child', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  })
  if (r.status !== 0) throw new Error(`child ${args} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

function mediansOf(runs, keys) {
  const out = {}
  for (const k of keys) out[k] = median(runs.map((r) => Number(r[k])))
  out.runs = runs
  return out
}

async function child(o) {
  const [kind, arg] = o.child
  const require = createRequire(path.join(o.pkg, 'package.json'))
  if (kind === 'idle') return { rss_kb: statusKb('VmRSS') }
  if (kind === 'rss-native') {
    const { Client } = require(o.pkg)
    const client = new Client(o.apiKey, { baseUrl: o.baseUrl })
    await client.sandboxes.get(SANDBOX)
    globalThis.gc?.()
    return { rss_kb: statusKb('VmRSS'), hwm_kb: statusKb('VmHWM') }
  }
  if (kind === 'rss-fetch') {
    await fetchJson(`${o.baseUrl}/sandboxes/${SANDBOX}`, o.apiKey)
    globalThis.gc?.()
    return { rss_kb: statusKb('VmRSS'), hwm_kb: statusKb('VmHWM') }
  }
  if (kind === 'inflight-native' || kind === 'inflight-fetch') {
    const n = Number(arg)
    let call
    if (kind === 'inflight-native') {
      const { Client } = require(o.pkg)
      const client = new Client(o.apiKey, { baseUrl: o.baseUrl })
      call = () => client.sandboxes.get(SANDBOX)
    } else {
      call = () => fetchJson(`${o.baseUrl}/sandboxes/${SANDBOX}`, o.apiKey)
    }
    await call()
    const rssBefore = statusKb('VmRSS')
    const t = process.hrtime.bigint()
    const results = await Promise.allSettled(Array.from({ length: n }, call))
    const secs = Number(process.hrtime.bigint() - t) / 1e9
    const errs = results.filter((r) => r.status === 'rejected')
    return {
      who: kind.slice(9),
      n,
      secs,
      errors: errs.length,
      first_error: errs.length ? String(errs[0].reason) : null,
      rss_before_kb: rssBefore,
      hwm_kb: statusKb('VmHWM'),
      rss_after_kb: statusKb('VmRSS'),
    }
  }
  if (kind === 'sse') {
    const n = Number(arg)
    const { Client } = require(o.pkg)
    const client = new Client(o.apiKey, { baseUrl: o.baseUrl })
    await client.sandboxes.get(SANDBOX)
    const rssBefore = statusKb('VmRSS')
    const step = Math.max(Math.floor(n / 10), 1)
    const samples = []
    let count = 0
    let bytes = 0
    const t = process.hrtime.bigint()
    for await (const ev of client.streamSse('/_emulator/stream', { extraQuery: { count: n } })) {
      bytes += ev.data.length
      count += 1
      if (count % step === 0) samples.push(statusKb('VmRSS'))
    }
    const secs = Number(process.hrtime.bigint() - t) / 1e9
    return {
      events: count,
      data_bytes: bytes,
      secs,
      events_per_s: count / secs,
      rss_before_kb: rssBefore,
      rss_after_kb: statusKb('VmRSS'),
      hwm_kb: statusKb('VmHWM'),
      rss_samples_kb: samples,
    }
  }
  throw new Error(`unknown child ${kind}`)
}

async function main() {
  const o = parseArgs(process.argv.slice(2))
  if (o.child) {
    console.log(JSON.stringify(await child(o)))
    return
  }
  const only = new Set(o.only.split(',').filter(Boolean))
  const wants = (s) => only.size === 0 || only.has(s)
  const require = createRequire(path.join(o.pkg, 'package.json'))
  const result = { node: process.versions.node, runs: o.runs, scale: o.scale }
  console.log(`node ${process.versions.node}; package ${o.pkg}`)

  if (wants('require')) {
    const script = `const t = process.hrtime.bigint(); require(${JSON.stringify(o.pkg)}); console.log(Number(process.hrtime.bigint() - t) / 1e6)`
    const ts = []
    for (let i = 0; i < 20; i++) {
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
      ts.push(Number(r.stdout.trim()))
    }
    result.require = { median_ms: median(ts), min_ms: Math.min(...ts), max_ms: Math.max(...ts), processes: 20 }
    console.log(`require('miosa-native'): median ${median(ts).toFixed(2)} ms (min ${Math.min(...ts).toFixed(2)}, max ${Math.max(...ts).toFixed(2)}, 20 processes)`)
  }
  if (wants('rss')) {
    const rss = {}
    for (const k of ['idle', 'rss-native', 'rss-fetch']) {
      rss[k.replace('rss-', '')] = mediansOf([0, 1, 2].map(() => childRun(o, [k])), ['rss_kb'])
    }
    result.rss = rss
    console.log(`RSS holding one client after one call: idle node ${rss.idle.rss_kb} kB, miosa-native ${rss.native.rss_kb} kB, fetch ${rss.fetch.rss_kb} kB`)
  }
  const { Client } = require(o.pkg)
  const client = new Client(o.apiKey, { baseUrl: o.baseUrl })
  if (wants('get')) {
    const url = `${o.baseUrl}/sandboxes/${SANDBOX}`
    result.sandboxes_get = await route(
      'sandboxes.get (GET /sandboxes/sbx_fixture)',
      { 'miosa-native': () => client.sandboxes.get(SANDBOX), 'fetch (undici)': () => fetchJson(url, o.apiKey) },
      { nSeq: 2000, nConc: 4000, concurrency: [1, 16, 1000] },
      o,
    )
  }
  if (wants('download')) {
    await client.sandbox.files.write(SANDBOX, DOWNLOAD_PATH, Buffer.alloc(MIB, 'x'))
    const url = `${o.baseUrl}/sandboxes/${SANDBOX}/fs/download?path=${DOWNLOAD_PATH}`
    result.download_1mib = await route(
      'sandbox.files.read 1 MiB',
      {
        'miosa-native': async () => checkLen(await client.sandbox.files.read(SANDBOX, DOWNLOAD_PATH)),
        'fetch (undici)': async () => checkLen(await fetchBytes(url, o.apiKey)),
      },
      { nSeq: 200, nConc: 400, concurrency: [1, 16] },
      o,
    )
  }
  if (wants('sse')) {
    const runs = [0, 1, 2].slice(0, Math.min(o.runs, 3)).map(() => childRun(o, ['sse', String(o.sseEvents)]))
    result.sse = mediansOf(runs, ['events_per_s', 'rss_before_kb', 'rss_after_kb', 'hwm_kb'])
    console.log(
      `SSE through miosa-native (${o.sseEvents} events, own process): ${result.sse.events_per_s.toFixed(0)} events/s; RSS before ${result.sse.rss_before_kb} kB, after ${result.sse.rss_after_kb} kB, peak ${result.sse.hwm_kb} kB; samples ${JSON.stringify(runs.at(-1).rss_samples_kb)}`,
    )
  }
  if (wants('inflight')) {
    result.inflight = {}
    for (const who of ['native', 'fetch']) {
      const runs = Array.from({ length: o.runs }, () => childRun(o, [`inflight-${who}`, String(o.inflight)]))
      const v = mediansOf(runs, ['secs', 'errors', 'rss_before_kb', 'hwm_kb'])
      result.inflight[who] = v
      console.log(
        `${o.inflight} in flight (${who}, own process): ${v.secs.toFixed(3)} s, errors ${v.errors}, RSS before ${v.rss_before_kb} kB, peak ${v.hwm_kb} kB${runs[0].first_error ? `; first error: ${runs[0].first_error}` : ''}`,
      )
    }
  }
  if (o.json) {
    writeFileSync(o.json, JSON.stringify(result, null, 2) + '\n')
    console.log(`wrote ${o.json}`)
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
