// The seed's flows as a Kotlin user writes them: no `!!`, no casts, no `?:`
// fallbacks for fields the API always sends. Compiled with warnings as errors
// (an unneeded `!!` or `?.` would fail the build), then run against the emulator.
package ai.miosa

import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class TypedFlowsTest {
    private suspend fun flows(client: Client): List<String> {
        val seen = mutableListOf<String>()
        val sandbox: Sandbox = client.sandboxes().create(SandboxesCreateParams(name = "typed-flows", tags = listOf("demo")))
        seen += sandbox.id
        client.computer().start(sandbox.id)

        val result: ExecResult = client.sandbox().exec().run(sandbox.id, SandboxExecRunParams(command = "echo hi", timeout = 30))
        seen += result.stdout.trim()
        val onComputer = client.exec().run(sandbox.id, ExecRunParams(command = "echo same"))
        seen += "${onComputer.output.trim()}/${onComputer.stdout.trim()}"

        val written: FileWritten = client.sandbox().files().write(sandbox.id, "/workspace/notes.txt", "typed\n".toByteArray())
        seen += written.path
        val entries: List<FileEntry> = client.sandbox().files().list(sandbox.id, SandboxFilesListParams(path = "/workspace"))
        seen += entries.map { it.path }
        val tags: List<String> = client.sandbox().tags().add(sandbox.id, listOf("typed"))
        seen += tags.sorted().joinToString(",")
        for (v in client.sandbox().env().list(sandbox.id)) seen += v.key

        val token: PreviewToken = client.sandboxes().previewToken(sandbox.id, SandboxesPreviewTokenParams(expiresIn = 600, scope = "read"))
        seen += token.url.substringBefore('?')
        val hook: Webhook = client.webhooks().create(WebhooksCreateParams(url = "http://127.0.0.1:9/hook", events = listOf("sandbox.ready")))
        seen += hook.id
        val key: ApiKey = client.apiKeys().create(ApiKeysCreateParams(name = "ci", scopes = listOf("sandboxes:read")))
        seen += key.id
        seen += client.webhooks().iter(WebhooksListParams(limit = 1)).asFlow().toList().map { it.url }
        seen += client.credits().balance().balance.toString()
        seen += if (client.sandboxes().delete(sandbox.id).ok == true) "deleted" else "kept"
        return seen
    }

    @Test
    fun seedFlowsTypeCheckAndRun() = runBlocking {
        Emulator().use { emu ->
            val seen = flows(emu.client())
            assertTrue(seen[0].startsWith("sbx_"), seen.toString())
            for (expected in listOf("hi", "same/same", "/workspace/notes.txt", "demo,typed", "http://127.0.0.1:9/hook", "deleted")) {
                assertTrue(expected in seen, "$expected in $seen")
            }
        }
    }

    @Test
    fun pageNumberedListsWalkEveryPage() = runBlocking {
        Emulator().use { emu ->
            val client = emu.client()
            repeat(3) { client.sandboxes().create(SandboxesCreateParams(name = "billed-$it")) }
            val everything = client.usage().sessionsIter().asFlow().toList().map { it.id }
            assertTrue(everything.size >= 3, everything.toString())
            val perPage = (everything.size + 2) / 3L
            assertEquals("2", client.usage().sessions(UsageSessionsParams(perPage = perPage)).nextCursor)
            val walked = client.usage().sessionsIter(UsageSessionsParams(perPage = perPage)).asFlow().toList().map { it.id }
            assertEquals(everything, walked)
            val pages = emu.requests(50)
                .filter { it["path"]?.jsonPrimitive?.content == "/api/v1/usage/sessions" }
                .takeLast(3)
                .map { it["query"]?.jsonObject?.get("page")?.jsonPrimitive?.content }
            assertEquals(listOf(null, "2", "3"), pages)
        }
    }

    @Test
    fun pagesOneByOneWithTheCursorKeyword() = runBlocking {
        Emulator().use { emu ->
            val client = emu.client()
            repeat(3) { client.sandboxes().create(SandboxesCreateParams(name = "paged-$it")) }
            val everything = client.usage().sessionsIter().asFlow().toList().map { it.id }
            val perPage = (everything.size + 2) / 3L
            val pages = client.usage().sessionsIter(UsageSessionsParams(perPage = perPage)).pagesFlow().toList()
            assertEquals(3, pages.size)
            assertEquals(everything, pages.flatMap { page -> page.items.map { it.id } })
            val third = client.usage().sessions(UsageSessionsParams(perPage = perPage, cursor = "3"))
            assertEquals(pages[2].items.map { it.id }, third.items.map { it.id })
            assertEquals(null, third.nextCursor)

            val walk = client.usage().sessionsIter(UsageSessionsParams(perPage = perPage))
            assertTrue(walk.next() != null)
            walk.cancel()
            assertEquals(null, walk.next())
            assertEquals(null, walk.nextPage())
            walk.close()
        }
    }
}
