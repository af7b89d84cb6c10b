// The seed's flows as a user writes them against the typings: no casts, no `!`,
// no `any`. typings.test.js compiles it with `tsc --strict`.

import { Client, type ApiKey, type ExecResult, type FileEntry, type SandboxHandle, type Webhook } from 'miosa-native'

export async function flows(client: Client): Promise<string[]> {
  const seen: string[] = []
  const sandbox: SandboxHandle = await client.sandboxes.create({ name: 'typed-flows', tags: ['demo'], env: { GREETING: 'hi' } })
  seen.push(sandbox.id, sandbox.state)
  await client.computer.start(sandbox.id)

  const result: ExecResult = await client.sandbox.exec.run(sandbox.id, { command: 'echo $GREETING', timeout: 30 })
  seen.push(result.stdout.trim())
  if (result.exit_code !== 0) throw new Error(result.stderr ?? 'the command failed')
  const onComputer = await client.exec.run(sandbox.id, { command: 'echo same' })
  seen.push(`${onComputer.output.trim()}/${onComputer.stdout.trim()}`)

  const written = await client.sandbox.files.write(sandbox.id, '/workspace/notes.txt', Buffer.from('typed\n'))
  seen.push(written.path)
  const many = await client.sandbox.files.writeMany(sandbox.id, [
    { path: '/workspace/a.txt', content: Buffer.from('a') },
    { path: '/workspace/b.txt', content: new Uint8Array([98]) },
  ])
  seen.push(...many.written.map((f) => f.path))
  const entries: FileEntry[] = await client.sandbox.files.list(sandbox.id, { path: '/workspace' })
  seen.push(...entries.map((e) => e.name ?? e.path).sort())
  seen.push((await client.sandbox.files.read(sandbox.id, '/workspace/notes.txt')).toString().trim())

  for (const v of await client.sandbox.env.list(sandbox.id)) seen.push(`${v.key}=${v.value ? 'set' : 'masked'}`)
  const tags: string[] = await client.sandbox.tags.add(sandbox.id, ['typed'])
  seen.push(tags.sort().join(','))

  const token = await client.sandboxes.previewToken(sandbox.id, { expires_in: 600, scope: 'read' })
  seen.push(token.url.split('?')[0] ?? '')
  const share = await client.sandbox.share.create(sandbox.id, { scope: 'read' })
  seen.push(share.share_id)

  const hook: Webhook = await client.webhooks.create({ url: 'http://127.0.0.1:9/hook', events: ['sandbox.ready'] })
  seen.push(hook.id + (hook.secret ? ' with a secret' : ''))
  const key: ApiKey = await client.apiKeys.create({ name: 'ci', scopes: ['sandboxes:read'] })
  seen.push(key.prefix ?? key.id)
  for await (const listed of client.webhooks.iter({ limit: 1 })) seen.push(listed.url)
  const balance = await client.credits.balance()
  seen.push(String(balance.balance))
  const unknownToThisVersion: unknown = sandbox.extra['resource_contract']
  seen.push(typeof unknownToThisVersion)

  const gone = await client.sandboxes.delete(sandbox.id)
  seen.push(gone.ok ? 'deleted' : 'kept')
  return seen
}
