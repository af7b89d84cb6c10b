// The seed's "First request" from a project that depends on the published
// artefact only: no -Djna.library.path, the native library comes from the jar.
import ai.miosa.Client
import ai.miosa.ClientOptions
import ai.miosa.ExecRunParams
import ai.miosa.SandboxesCreateParams
import kotlinx.coroutines.runBlocking

fun main(): Unit = runBlocking {
    val client = Client(System.getenv("MIOSA_API_KEY"), ClientOptions(baseUrl = System.getenv("MIOSA_BASE_URL")))
    val sandbox = client.sandboxes().create(SandboxesCreateParams(name = "quick-exec"))
    val id = checkNotNull(sandbox.id)
    client.computer().start(id)
    val result = client.exec().run(id, ExecRunParams(command = "python3 -c 'print(1 + 1)'"))
    println(result.output.trim())
    client.computer().destroy(id)
}
