// The seed's "First request" in Node: create a sandbox, run a command in it,
// print its output, destroy it. With MIOSA_API_KEY set it talks to
// MIOSA; without it, to a local miosa-emulator it starts for the run.
//
//   node examples/node/quickstart.mjs      # prints 2

import { Client } from 'miosa-native'
import { connect } from './connect.mjs'

const { client, close } = await connect(Client)
try {
  // A handle: every `sandbox.*` operation with this sandbox's id bound.
  // (TypeScript, and runtimes with explicit resource management, can write
  // `await using sandbox = ...` and drop the destroy; see white-label.ts.)
  const sandbox = await client.sandboxes.create({ name: 'quick-exec', wait: true })
  try {
    const { stdout } = await sandbox.exec.run({ command: "python3 -c 'print(1 + 1)'" })
    process.stdout.write(stdout)
  } finally {
    await sandbox.destroy()
  }
} finally {
  await close()
}
