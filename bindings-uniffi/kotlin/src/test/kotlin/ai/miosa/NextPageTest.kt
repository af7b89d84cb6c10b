// `client.nextPage(page)`: a page a list call returned fetches the one after
// it with the same call, for a cursor list (the audit log) and a list paged by
// number (`usage.sessions`), and answers null after the last page.
package ai.miosa

import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class NextPageTest {
    @Test
    fun aCursorListWalksThreePagesWithNextPage() = runBlocking {
        Emulator().use { emu ->
            val client = emu.client()
            repeat(5) { client.webhooks().create(WebhooksCreateParams(url = "https://example.com/h/$it", events = listOf("sandbox.ready"))) }
            val admin = emu.client(admin = true)
            val everything = admin.auditLog().iter().asFlow().toList().map { it.id }
            assertTrue(everything.size in 5..60, everything.toString())
            val limit = (everything.size + 2) / 3L
            val first = admin.auditLog().list(AuditLogListParams(limit = limit))
            val second = admin.nextPage(first)!!
            val third = admin.nextPage(second)!!
            assertEquals(everything, (first.items + second.items + third.items).map { it.id })
            assertNull(third.nextCursor)
            assertNull(admin.nextPage(third))
            val limits = emu.requests(10)
                .filter { it["path"]?.jsonPrimitive?.content == "/api/v1/audit-log" }
                .map { it["query"]?.jsonObject?.get("limit")?.jsonPrimitive?.content }
            assertTrue(limits.takeLast(3).all { it == limit.toString() }, "the next pages keep the parameters: $limits")
        }
    }

    @Test
    fun aPageNumberedListWalksThreePagesWithNextPage() = runBlocking {
        Emulator().use { emu ->
            val client = emu.client()
            repeat(3) { client.sandboxes().create(SandboxesCreateParams(name = "billed-$it")) }
            val everything = client.usage().sessionsIter().asFlow().toList().map { it.id }
            val perPage = (everything.size + 2) / 3L
            val first = client.usage().sessions(UsageSessionsParams(perPage = perPage))
            val second = client.nextPage(first)!!
            val third = client.nextPage(second)!!
            assertEquals(everything, (first.items + second.items + third.items).map { it.id })
            assertNull(client.nextPage(third))
            val pages = emu.requests(10)
                .filter { it["path"]?.jsonPrimitive?.content == "/api/v1/usage/sessions" }
                .takeLast(3)
                .map { it["query"]?.jsonObject?.get("page")?.jsonPrimitive?.content }
            assertEquals(listOf(null, "2", "3"), pages)

            val byHand = UsageSessionPage(items = listOf(), nextCursor = "2")
            val refused = assertThrows<MiosaException.Usage> { client.nextPage(byHand) }
            assertTrue(refused.errorMessage.contains("not fetched by a list call"), refused.errorMessage)
        }
    }
}
