'use strict'

// Test support: start a real miosa-emulator on a free loopback port, talk to its
// control routes with Node's own fetch, and run small Node scripts as separate
// processes. No HTTP is mocked anywhere.

const { spawn } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')

const PACKAGE = path.resolve(__dirname, '..')
const ROOT = path.resolve(PACKAGE, '..')
const EMULATOR_BIN =
  process.env.MIOSA_EMULATOR_BIN || path.join(ROOT, 'target', 'x86_64-unknown-linux-gnu', 'debug', 'miosa-emulator')

const FIRST_LINE = /^miosa-emulator listening base_url=(\S+) api_key=(\S+) admin_key=(\S+)$/

/** Starts an emulator and resolves once its first stdout line has been read. */
function startEmulator() {
  return new Promise((resolve, reject) => {
    const child = spawn(EMULATOR_BIN, ['--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`the emulator did not announce itself within 30 s: ${stderr}`))
    }, 30_000)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(new Error(`cannot start ${EMULATOR_BIN}: ${err.message}`))
    })
    const lines = readline.createInterface({ input: child.stdout })
    lines.once('line', (line) => {
      clearTimeout(timer)
      const m = FIRST_LINE.exec(line)
      if (!m) {
        child.kill()
        reject(new Error(`unexpected first line from the emulator: ${line}`))
        return
      }
      // Keep draining stdout so the emulator never blocks on a full pipe.
      lines.on('line', () => {})
      resolve(new Emulator(child, m[1], m[2], m[3]))
    })
  })
}

class Emulator {
  constructor(child, baseUrl, apiKey, adminKey) {
    this.child = child
    this.baseUrl = baseUrl
    this.apiKey = apiKey
    this.adminKey = adminKey
  }

  /** A request to a control route under `/_emulator/`, answered as decoded JSON. */
  async control(method, route, body) {
    const res = await fetch(`${this.baseUrl}/_emulator/${route}`, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} /_emulator/${route} -> ${res.status}: ${text}`)
    const json = JSON.parse(text)
    return json && typeof json === 'object' && 'data' in json ? json.data : json
  }

  /** The newest recorded requests, oldest first. */
  async requests(limit = 1) {
    return this.control('GET', `requests?limit=${limit}`)
  }

  /** Injects a fault (`{path, method?, status?, body?, retry_after?, delay_ms?, reset?, times?}`). */
  fault(spec) {
    return this.control('POST', 'faults', spec)
  }

  stop() {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        resolve()
        return
      }
      this.child.once('exit', () => resolve())
      this.child.kill('SIGTERM')
    })
  }
}

/**
 * Runs `node` with `args` and resolves `{code, signal, stdout, stderr, ms}`; kills
 * it after `timeoutMs` (then `timedOut` is true).
 */
function runNode(args, { env, timeoutMs = 10_000, cwd = PACKAGE } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.on('data', (c) => {
      stdout += c
    })
    child.stderr.on('data', (c) => {
      stderr += c
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      resolve({ code, signal, stdout, stderr, ms, timedOut })
    })
  })
}

module.exports = { startEmulator, runNode, PACKAGE, ROOT, EMULATOR_BIN }
