// What an Android app relies on: closing a client frees its native threads at
// once, streams and pagers are cold flows, close() ends a pending next(), and
// exceptions and models read well in a crash report or a log line.
package ai.miosa

import java.io.File
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource
import kotlin.time.measureTime
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class MobileTest {
    private fun scenario(block: suspend CoroutineScope.(Emulator) -> Unit) = runBlocking { Emulator().use { block(it) } }

    /** The core's runtime threads of this process, by the name the core gives them. */
    private fun ioThreads(): Int =
        File("/proc/self/task").listFiles().orEmpty().count { task ->
            runCatching { File(task, "comm").readText().trim() == "miosa-io" }.getOrDefault(false)
        }

    @Test
    fun closedClientsLeaveNoNativeThread() = scenario { emu ->
        val before = ioThreads()
        val clients = (1..5).map { emu.client() }
        for (client in clients) {
            // Each accessor makes a native object that only the garbage collector frees.
            assertEquals("sbx_fixture", client.sandboxes().get("sbx_fixture").id)
            client.sandbox().files()
        }
        val running = ioThreads()
        assertTrue(running >= before + 5, "each client runs its own threads: $before before, $running now")

        clients.forEach { it.close() }
        val deadline = TimeSource.Monotonic.markNow() + 5.seconds
        while (ioThreads() > before && deadline.hasNotPassedNow()) delay(20.milliseconds)
        assertTrue(ioThreads() <= before, "closing freed the threads without GC: ${ioThreads()} left, $before before")
    }

    @Test
    fun namespaceObjectsOfAClosedClientFailClearly() = scenario { emu ->
        val client = emu.client()
        val sandboxes = client.sandboxes()
        client.close()
        val e = assertThrows<MiosaException.Usage> { sandboxes.get("sbx_fixture") }
        assertEquals("the client was closed", e.message)
    }

    @Test
    fun eventFlowsAreCold() = scenario { emu ->
        val client = emu.client()
        val path = "/api/v1/sandboxes/sbx_fixture/events"
        suspend fun opened() = emu.requests(50).count { it["path"]!!.jsonPrimitive.content == path }

        val events = client.sandbox().events().streamFlow("sbx_fixture")
        delay(100.milliseconds)
        assertEquals(0, opened(), "a flow never collected opens no connection")

        val first = events.take(1).toList()
        val second = events.take(1).toList()
        assertEquals(1, first.size)
        assertEquals(first.map { it.event }, second.map { it.event }, "the second collection gets the events again")
        assertEquals(2, opened(), "each collection opens its own connection")
    }

    @Test
    fun pagerFlowsAreCold() = scenario { emu ->
        val client = emu.client()
        repeat(3) {
            client.webhooks().create(WebhooksCreateParams(url = "https://example.com/cold/$it", events = listOf("sandbox.ready")))
        }
        val hooks = client.webhooks().listFlow(WebhooksListParams(limit = 2))
        val once = hooks.toList().map { it.id }
        val twice = hooks.toList().map { it.id }
        assertTrue(once.size >= 3, "the walk spans pages: $once")
        assertEquals(once, twice, "a pager flow walks again on every collection")
    }

    @Test
    fun closeEndsAPendingNext() = scenario { emu ->
        val stream = emu.client().sandbox().files().watch("sbx_fixture", SandboxFilesWatchParams(path = "/workspace"))
        val pending = async { runCatching { stream.next() } }
        delay(300.milliseconds)
        assertTrue(pending.isActive, "the watch is quiet, so next() is still waiting")
        val took = measureTime {
            stream.close()
            pending.await()
        }
        println("close() ended a pending next() in $took")
        assertTrue(took <= 5.seconds, "close() took $took to end next()")
        assertNull(pending.await().getOrThrow(), "the ended next() returns null")
        assertTrue(stream.uniffiIsDestroyed)
    }

    @Test
    fun exceptionsCarryTheApiMessage() = scenario { emu ->
        val e = assertThrows<MiosaException.NotFound> { emu.client().sandboxes().get("sbx_missing") }
        assertEquals(e.errorMessage, e.message, "message is the API's message")
        assertTrue(e.body!!.contains(e.errorMessage), "the message comes from the body: ${e.body}")
        assertFalse(e.message!!.contains("status="), e.message)
        assertEquals(404, e.status)
        assertTrue(e.code!!.isNotBlank())
        assertTrue(e.requestId!!.startsWith("req_"), "request id: ${e.requestId}")
        assertEquals("ai.miosa.MiosaException\$NotFound: ${e.errorMessage}", e.toString())
    }

    @Test
    fun modelsAndClientsPrintKotlinNamesAndNoSecrets() = scenario { emu ->
        val client = emu.client()
        val shown = client.toString()
        assertEquals("Client(baseUrl=${emu.baseUrl})", shown)
        assertFalse(shown.contains(emu.apiKey), shown)

        val sandbox = client.sandboxes().get("sbx_fixture").toString()
        assertTrue(sandbox.startsWith("Sandbox"), sandbox)
        assertTrue(sandbox.contains("templateId: "), "Kotlin field names: $sandbox")
        assertFalse(Regex("""\b[a-z]+_[a-z_]+:""").containsMatchIn(sandbox), "no snake_case field names: $sandbox")
        val params = SandboxFilesWatchParams(path = "/workspace").toString()
        assertEquals("SandboxFilesWatchParams { path: \"/workspace\" }", params)
    }
}
