// Upload a local file into a sandbox and download it back, each with a text
// progress bar; the client streams both, so the file is never held in memory.
// With MIOSA_API_KEY set it talks to MIOSA; without it, to a local
// miosa-emulator it starts for the run.
//
//   node examples/node/transfer_progress.mjs      # prints "copy matches: 16777216 bytes"

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Client } from 'miosa-native'
import { connect } from './connect.mjs'

/** An `onProgress` callback drawing `label [#####.....]  42%` on stderr. */
function bar(label) {
  return (done, total) => {
    const share = total ? done / total : 0
    const filled = Math.round(share * 30)
    process.stderr.write(`\r${label.padEnd(8)} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`)
    if (total !== null && done >= total) process.stderr.write('\n')
  }
}

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'miosa-transfer-'))
const { client, close } = await connect(Client)
try {
  const source = path.join(folder, 'data.bin')
  const chunk = Buffer.alloc(1 << 20)
  const out = fs.openSync(source, 'w')
  for (let i = 0; i < 16; i++) fs.writeSync(out, chunk.fill(i))
  fs.closeSync(out)

  const sandbox = await client.sandboxes.create({ name: 'transfer', wait: true })
  try {
    await sandbox.files.upload('/workspace/data.bin', source, { onProgress: bar('upload') })
    const copy = path.join(folder, 'copy.bin')
    const bytes = await sandbox.files.download('/workspace/data.bin', copy, { onProgress: bar('download') })
    const same = fs.readFileSync(source).equals(fs.readFileSync(copy))
    console.log(same ? `copy matches: ${bytes} bytes` : 'copy differs')
  } finally {
    await sandbox.destroy()
  }
} finally {
  await close()
  fs.rmSync(folder, { recursive: true, force: true })
}
