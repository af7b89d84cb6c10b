// A page fetches the one after it (`page.nextPage()`), for cursor lists and
// lists paged by number; the waits tell a StateListener each new state.
package ai.miosa

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive

class PagesAndWaitsTest {
    /** Every page from [first] on, by `nextPage()`, bounded. */
    private suspend fun <P> walk(first: P, next: suspend (P) -> P?): List<P> {
        val pages = mutableListOf(first)
        while (true) {
            val page = next(pages.last()) ?: break
            pages.add(page)
            check(pages.size <= 10) { "the walk does not end" }
        }
        return pages
    }

    @Test
    fun aCursorPageFetchesTheNextUntilTheLast() = runBlocking {
        Emulator().use { emu ->
            val client = emu.client()
            repeat(7) {
                client.webhooks().create(WebhooksCreateParams(url = "https://example.com/page/$it", events = listOf("sandbox.ready")))
            }
            val all = client.webhooks().iter().asFlow().toList().map { it.id }
            val limit = (all.size + 2) / 3L
            val pages = walk(client.webhooks().list(WebhooksListParams(limit = limit))) { it.nextPage() }
            assertEquals(3, pages.size, "${all.size} webhooks by $limit")
            assertNull(pages.last().nextCursor)
            assertEquals(all, pages.flatMap { page -> page.items.map { it.id } })
        }
    }

    @Test
    fun aPageNumberedPageFetchesTheNextUntilTheLast() = runBlocking {
        Emulator().use { emu ->
            val client = emu.client()
            repeat(3) { client.sandboxes().create(SandboxesCreateParams(name = "billed-$it")) }
            val everything = client.usage().sessionsIter().asFlow().toList().map { it.id }
            val perPage = (everything.size + 2) / 3L
            val pages = walk(client.usage().sessions(UsageSessionsParams(perPage = perPage))) { it.nextPage() }
            assertEquals(3, pages.size)
            assertEquals(everything, pages.flatMap { page -> page.items.map { it.id } })
            val sent = emu.requests(50)
                .filter { it["path"]?.jsonPrimitive?.content == "/api/v1/usage/sessions" }
                .takeLast(3)
                .map { it["query"]?.jsonObject?.get("page")?.jsonPrimitive?.content }
            assertEquals(listOf(null, "2", "3"), sent)
        }
    }

    private class Recorder : StateListener {
        val states = java.util.Collections.synchronizedList(mutableListOf<String>())
        override fun onState(state: String) {
            states.add(state)
        }
    }

    private fun assertNoRepeats(states: List<String>) =
        assertTrue(states.zipWithNext().none { (a, b) -> a == b }, "a state twice in a row: $states")

    @Test
    fun theWaitsTellAListenerEachNewState() = runBlocking {
        Emulator().use { emu ->
            val client = emu.client()
            val sandbox = client.sandboxes().create(SandboxesCreateParams(name = "watched"))
            val seen = Recorder()
            assertTrue(client.sandboxes().waitUntilReady(sandbox.id, SandboxesWaitUntilReadyParams(timeout = 10.0), seen))
            assertEquals("creating", seen.states.first(), seen.states.toString())
            assertEquals("running", seen.states.last(), seen.states.toString())
            assertNoRepeats(seen.states)

            val computer = client.computers().create(ComputersCreateParams(name = "watched"))
            val statuses = Recorder()
            assertTrue(client.computer().waitUntilRunning(computer.id, ComputerWaitUntilRunningParams(timeout = 10.0), statuses))
            assertTrue(statuses.states.size >= 2, statuses.states.toString())
            assertEquals("running", statuses.states.last())
            assertNoRepeats(statuses.states)
        }
    }
}
