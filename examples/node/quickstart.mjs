// The seed's "First request" in Node: create a sandbox, start it, run a
// command, print its output, destroy it. With MIOSA_API_KEY set it talks to
// MIOSA; without it, to a local miosa-emulator it starts for the run.
//
//   node examples/node/quickstart.mjs      # prints 2

import { Client } from 'miosa-native'
import { connect } from './connect.mjs'

const { client, close } = await connect(Client)
try {
  const sandbox = await client.sandboxes.create({ name: 'quick-exec' })
  await client.computer.start(sandbox.id)
  const { output } = await client.exec.run(sandbox.id, { command: "python3 -c 'print(1 + 1)'" })
  process.stdout.write(output)
  await client.computer.destroy(sandbox.id)
} finally {
  await close()
}
