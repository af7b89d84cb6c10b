// Shared by the Node examples: a client for MIOSA when MIOSA_API_KEY is set,
// otherwise for a miosa-emulator started from this repository's build.

import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import readline from 'node:readline'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const EMULATOR =
  process.env.MIOSA_EMULATOR_BIN ?? path.join(ROOT, 'target', 'x86_64-unknown-linux-gnu', 'debug', 'miosa-emulator')

/** `{ client, close }`; `options` are extra client settings (e.g. headers). */
export async function connect(Client, options = {}) {
  if (process.env.MIOSA_API_KEY) {
    const client = new Client(process.env.MIOSA_API_KEY, {
      ...options,
      ...(process.env.MIOSA_BASE_URL ? { baseUrl: process.env.MIOSA_BASE_URL } : {}),
    })
    return { client, close: async () => {} }
  }
  const child = spawn(EMULATOR, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = readline.createInterface({ input: child.stdout })
  const first = await new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot start ${EMULATOR} (build it with cargo build -p miosa-emulator): ${err.message}`)))
    lines.once('line', resolve)
  })
  lines.on('line', () => {})
  const m = /base_url=(\S+) api_key=(\S+)/.exec(first)
  if (!m) throw new Error(`unexpected emulator output: ${first}`)
  console.error(`MIOSA_API_KEY is not set: using a local miosa-emulator at ${m[1]}`)
  const client = new Client(m[2], { ...options, baseUrl: m[1] })
  const close = () =>
    new Promise((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  return { client, close }
}
