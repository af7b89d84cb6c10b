// Hostile servers through the Kotlin binding: small misbehaving HTTP servers on
// loopback, each bounded in bytes and seconds, and the MiosaException subclass
// every case ends with; plus overlapping next(), close() waking a pending
// next(), and a cancellation token ending a call from another thread.
package ai.miosa

import java.io.OutputStream
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.util.Collections
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Upper bound on what any hostile server writes, whatever the client does. */
private const val MAX_SERVED = 128L shl 20
private const val SSE_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"

/** A loopback server answering each connection with `handler(index, headers, out)`. */
private class HostileServer(private val handler: (Int, Map<String, String>, OutputStream) -> Unit) : AutoCloseable {
    private val socket = ServerSocket(0, 16, InetAddress.getLoopbackAddress())
    val baseUrl = "http://127.0.0.1:${socket.localPort}/api/v1"
    val requests: MutableList<Map<String, String>> = Collections.synchronizedList(mutableListOf())

    init {
        thread(isDaemon = true) {
            var index = 0
            while (!socket.isClosed) {
                val conn = runCatching { socket.accept() }.getOrNull() ?: break
                val mine = index++
                thread(isDaemon = true) { serve(mine, conn) }
            }
        }
    }

    private fun serve(index: Int, conn: Socket) {
        conn.use {
            conn.soTimeout = 10_000
            val input = conn.getInputStream().bufferedReader(Charsets.ISO_8859_1)
            val requestLine = input.readLine() ?: return
            val headers = mutableMapOf(":path" to requestLine.split(" ")[1])
            while (true) {
                val line = input.readLine() ?: return
                if (line.isEmpty()) break
                val at = line.indexOf(':')
                headers[line.substring(0, at).trim().lowercase()] = line.substring(at + 1).trim()
            }
            requests += headers
            runCatching { handler(index, headers, conn.getOutputStream()) }
        }
    }

    fun client(options: ClientOptions = ClientOptions()): Client =
        // Retries off unless a test turns them on: each case counts its requests.
        Client("msk_test_hostile", options.copy(baseUrl = baseUrl, maxRetries = options.maxRetries ?: 0))

    override fun close() = socket.close()
}

private fun OutputStream.text(s: String) = write(s.toByteArray())

private fun OutputStream.endlessly(chunk: ByteArray) {
    var served = 0L
    while (served < MAX_SERVED) {
        write(chunk)
        served += chunk.size
    }
}

private fun events(range: IntRange) = range.joinToString("") { "id: $it\ndata: $it\n\n" }

class HostileTest {
    private fun hostile(
        handler: (Int, Map<String, String>, OutputStream) -> Unit,
        block: suspend (HostileServer) -> Unit,
    ) = runBlocking { HostileServer(handler).use { block(it) } }

    @Test
    fun anEndlessJsonBodyStopsAtMaxResponseBytes() = hostile({ _, _, out ->
        out.text("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n[")
        out.endlessly("1,".repeat(32768).toByteArray())
    }) { server ->
        val err = assertThrows<MiosaException.LimitExceeded> { server.client().sandboxes().get("sbx_1") }
        assertTrue(err.message.contains("max_response_bytes"), err.message)
    }

    @Test
    fun anAbsurdContentLengthIsRefusedBeforeReading() = hostile({ _, _, out ->
        out.text("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000000000\r\n\r\n{")
        Thread.sleep(3000)
    }) { server ->
        val started = TimeSource.Monotonic.markNow()
        assertThrows<MiosaException.LimitExceeded> { server.client().sandboxes().get("sbx_1") }
        assertTrue(started.elapsedNow() < 2.seconds, "took ${started.elapsedNow()}")
    }

    @Test
    fun aServerAnsweringAfter3sFailsA1sClientInAbout1s() = hostile({ _, _, out ->
        Thread.sleep(3000)
        out.text("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
    }) { server ->
        val started = TimeSource.Monotonic.markNow()
        assertThrows<MiosaException.Timeout> {
            server.client(ClientOptions(timeout = java.time.Duration.ofSeconds(1))).sandboxes().get("sbx_1")
        }
        assertTrue(started.elapsedNow() < 2500.milliseconds, "took ${started.elapsedNow()}")
    }

    @Test
    fun a4sCommandWithItsOwnTimeoutOutlivesA2sClientTimeout() = runBlocking {
        Emulator().use { emu ->
            val client = emu.client(options = ClientOptions(timeout = java.time.Duration.ofSeconds(2), maxRetries = 0))
            val out = client.sandbox().exec().run("sbx_fixture", SandboxExecRunParams(command = "sleep 4; echo done", timeout = 20))
            assertEquals("done\n", out.stdout)
        }
    }

    @Test
    fun aNeverEndingSseLineStopsAtMaxEventBytes() = hostile({ _, _, out ->
        out.text(SSE_HEAD + "data: ")
        out.endlessly(ByteArray(65536) { 'x'.code.toByte() })
    }) { server ->
        val err = assertThrows<MiosaException.LimitExceeded> {
            server.client().streamSse("/stream").asFlow().collect { }
        }
        assertTrue(err.message.contains("max_event_bytes"), err.message)
    }

    @Test
    fun oneHugeEventStopsAtMaxEventBytes() = hostile({ _, _, out ->
        out.text(SSE_HEAD + "data: small\n\n")
        out.endlessly(("data: " + "y".repeat(16384) + "\n").toByteArray())
    }) { server ->
        val seen = mutableListOf<String>()
        assertThrows<MiosaException.LimitExceeded> {
            server.client().streamSse("/stream").asFlow().collect { seen += it.data }
        }
        assertEquals(listOf("small"), seen)
    }

    @Test
    fun aCleanCloseMidStreamWithIdsResumes() = hostile({ index, headers, out ->
        when {
            index == 0 -> out.text(SSE_HEAD + "retry: 10\n\n" + events(1..7))
            headers["last-event-id"] == "7" -> out.text(SSE_HEAD + events(8..30) + "data: [DONE]\n\n")
        }
    }) { server ->
        val seen = mutableListOf<String>()
        server.client().streamSse("/stream").asFlow().collect { seen += it.data }
        assertEquals((1..30).map { it.toString() }, seen)
        assertEquals(listOf(null, "7"), server.requests.map { it["last-event-id"] })
    }

    @Test
    fun aPostStreamCutIsNotReplayedWithRetriesOff() = hostile({ _, _, out ->
        out.text(SSE_HEAD + "retry: 10\n\n" + events(1..3))
    }) { server ->
        val seen = mutableListOf<String>()
        assertThrows<MiosaException.Connection> {
            server.client(ClientOptions(maxRetries = 0)).completions()
                .stream(CompletionsStreamParams(model = "m", messages = "[]"))
                .asFlow().collect { seen += it.data }
        }
        assertEquals(listOf("1", "2", "3"), seen)
        assertEquals(1, server.requests.size)
    }

    @Test
    fun aCursorCycleIsATypedError() = hostile({ _, headers, out ->
        val body = if (headers[":path"]!!.contains("cursor=B")) {
            """{"data":[{"id":"w2","url":"https://h.example/2"}],"next_cursor":"A"}"""
        } else {
            """{"data":[{"id":"w1","url":"https://h.example/1"}],"next_cursor":"B"}"""
        }
        out.text("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n$body")
    }) { server ->
        val ids = mutableListOf<String?>()
        val err = assertThrows<MiosaException.Decode> {
            server.client().webhooks().iter().asFlow().collect {
                ids += it.id
                check(ids.size < 10) { "the pager loops" }
            }
        }
        assertTrue(err.message.contains("cursor"), err.message)
        assertEquals(listOf("w1", "w2"), ids)
    }

    private fun heldOpen(count: Int): (Int, Map<String, String>, OutputStream) -> Unit = { _, _, out ->
        out.text(SSE_HEAD + events(1..count) + if (count > 0) "data: [DONE]\n\n" else "")
        out.flush()
        Thread.sleep(5000)
    }

    @Test
    fun overlappingNextLosesNothing() = hostile(heldOpen(5)) { server ->
        val stream = server.client().streamSse("/stream")
        val got = coroutineScope { (1..7).map { async { stream.next()?.data } }.awaitAll() }
        assertEquals((1..5).map { it.toString() }, got.filterNotNull().sorted())
        assertEquals(2, got.count { it == null })
    }

    @Test
    fun cancelWakesAPendingNextAtOnce() = hostile(heldOpen(0)) { server ->
        val stream = server.client().streamSse("/stream")
        var endedAt: TimeSource.Monotonic.ValueTimeMark? = null
        val reader = thread {
            runBlocking { assertNull(stream.next()) }
            endedAt = TimeSource.Monotonic.markNow()
        }
        delay(300.milliseconds)
        val closedAt = TimeSource.Monotonic.markNow()
        stream.cancel()
        reader.join(5000)
        val ended = endedAt
        assertTrue(ended != null && ended - closedAt < 500.milliseconds, "woke after ${ended?.minus(closedAt)}")
    }

    @Test
    fun aCancellationTokenEndsACallFromAnotherThread() = hostile({ _, _, out ->
        Thread.sleep(5000)
        out.text("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
    }) { server ->
        val token = CancellationToken()
        val client = server.client().withCancellation(token)
        thread {
            Thread.sleep(300)
            token.cancel()
        }
        val started = TimeSource.Monotonic.markNow()
        assertThrows<MiosaException.Cancelled> { client.sandboxes().get("sbx_1") }
        assertTrue(started.elapsedNow() < 2.seconds, "took ${started.elapsedNow()}")
    }
}
