// The same user program as Misspelt.kt with the fields spelt right: it must compile,
// so that Misspelt.kt is refused for its misspellings and nothing else.
package typecheck

import ai.miosa.Client
import ai.miosa.SandboxFilesListParams
import ai.miosa.SandboxesCreateParams

suspend fun spelt(client: Client): String {
    val sandbox = client.sandboxes().create(SandboxesCreateParams(name = "typo"))
    val entries = client.sandbox().files().list(sandbox.id, SandboxFilesListParams(path = "/workspace"))
    return sandbox.id + entries.first().path
}
