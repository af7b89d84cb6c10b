// A user program with misspelt fields: the Kotlin compiler must reject it.
package typecheck

import ai.miosa.Client
import ai.miosa.SandboxFilesListParams
import ai.miosa.SandboxesCreateParams

suspend fun misspelt(client: Client): String {
    val sandbox = client.sandboxes().create(SandboxesCreateParams(name = "typo"))
    val entries = client.sandbox().files().list(sandbox.id, SandboxFilesListParams(path = "/workspace"))
    return sandbox.idd + entries.first().pathh
}
