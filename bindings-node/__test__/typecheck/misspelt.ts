// A user program with misspelt fields: `tsc --strict` must reject it.

import { Client } from 'miosa-native'

export async function misspelt(client: Client): Promise<string> {
  const sandbox = await client.sandboxes.create({ name: 'typo' })
  const entries = await client.sandbox.files.list(sandbox.id)
  return sandbox.idd + String(entries.entriez)
}
