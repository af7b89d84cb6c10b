// Reliability through the Kotlin binding (issue #8), the same proof as
// core/tests/reliability.rs: each fault the emulator injects, with retries on
// (the call succeeds) and off (the right MiosaException subclass), one sandbox
// created by a retried create, per-call and idle timeouts, a stream cut five
// times delivering every event once and in order, and coroutine cancellation
// freeing the connection as the server sees it. Each test owns a fresh
// emulator; backoff is 10 ms. Attempts are read from the emulator's log, and
// the exceptions' own `attempts` count is checked against it.
package ai.miosa

import java.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.intOrNull
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class ReliabilityTest {
    private fun scenario(block: suspend CoroutineScope.(Emulator) -> Unit) = runBlocking { Emulator().use { block(it) } }

    private val sandbox = "/sandboxes/sbx_fixture"

    /** Retries on: [maxAttempts] attempts, 10 ms backoff base, [maxDelayMs] cap. */
    private fun retrying(emu: Emulator, maxAttempts: Int, maxDelayMs: Long = 50, timeoutMs: Long? = null): Client =
        emu.client(
            options = ClientOptions(
                maxRetries = maxAttempts - 1,
                retryBaseDelay = Duration.ofMillis(10),
                retryMaxDelay = Duration.ofMillis(maxDelayMs),
                timeout = timeoutMs?.let { Duration.ofMillis(it) },
            ),
        )

    private suspend fun Emulator.fault(json: String) {
        control("POST", "faults", json)
    }

    private suspend fun Emulator.stats(): JsonObject = control("GET", "stats").jsonObject

    private fun JsonObject.num(vararg path: String): Long {
        var at: JsonElement = this
        for (key in path) at = at.jsonObject[key] ?: return -1
        return at.jsonPrimitive.long
    }

    /** Polls the stats until [check] holds (or 5 s pass); the last stats. */
    private suspend fun Emulator.statsUntil(check: (JsonObject) -> Boolean): JsonObject {
        val deadline = TimeSource.Monotonic.markNow() + 5.seconds
        var seen = stats()
        while (!check(seen) && deadline.hasNotPassedNow()) {
            delay(20.milliseconds)
            seen = stats()
        }
        return seen
    }

    /** Recorded requests to exactly `/api/v1[path]` (and [method], when given), oldest first. */
    private suspend fun Emulator.logFor(path: String, method: String? = null): List<JsonObject> {
        val full = "/api/v1$path"
        return control("GET", "requests?path=$full").jsonArray.map { it.jsonObject }.filter {
            it["path"]?.jsonPrimitive?.content == full && (method == null || it["method"]?.jsonPrimitive?.content == method)
        }
    }

    private fun List<JsonObject>.statuses(): List<Int?> = map { (it["status"] as? JsonPrimitive)?.intOrNull }

    private fun JsonObject.header(name: String): String? =
        (this["headers"]?.jsonObject?.get(name) as? JsonPrimitive)?.takeIf { it !is JsonNull }?.content

    // ------------------------------------------------------------- 429 and 5xx

    @Test
    fun rateLimitedWithRetriesWaitsForRetryAfterAndSucceeds() = scenario { emu ->
        emu.fault("""{"path": "$sandbox", "method": "GET", "status": 429, "retry_after": "1", "body": {"error": "slow down", "code": "RATE_LIMITED"}}""")
        val client = retrying(emu, 3, maxDelayMs = 5000)
        val started = TimeSource.Monotonic.markNow()
        assertEquals("sbx_fixture", client.sandboxes().get("sbx_fixture").id)
        val waited = started.elapsedNow()
        assertTrue(waited >= 950.milliseconds && waited < 4.seconds, "waited $waited for Retry-After: 1")
        assertEquals(listOf(429, 200), emu.logFor(sandbox, "GET").statuses())
    }

    @Test
    fun rateLimitedWithoutRetriesIsRateLimitedCarryingRetryAfter() = scenario { emu ->
        emu.fault("""{"path": "$sandbox", "method": "GET", "status": 429, "retry_after": "7"}""")
        val err = assertThrows<MiosaException.RateLimited> { emu.client().sandboxes().get("sbx_fixture") }
        assertEquals(429, err.status)
        assertEquals(7000L, err.retryAfterMs)
        assertEquals(1, emu.logFor(sandbox, "GET").size, "one attempt")
    }

    @Test
    fun serverErrorsWithinMaxAttemptsEndInSuccess() = scenario { emu ->
        emu.fault("""{"path": "$sandbox", "method": "GET", "status": 503, "times": 2}""")
        assertEquals("sbx_fixture", retrying(emu, 3).sandboxes().get("sbx_fixture").id)
        assertEquals(listOf(503, 503, 200), emu.logFor(sandbox, "GET").statuses())
    }

    @Test
    fun serverErrorsBeyondMaxAttemptsAreServer() = scenario { emu ->
        emu.fault("""{"path": "$sandbox", "method": "GET", "status": 500, "times": 5}""")
        val err = assertThrows<MiosaException.Server> { retrying(emu, 3).sandboxes().get("sbx_fixture") }
        assertEquals(500, err.status)
        assertEquals(3, err.attempts, "the exception reports three attempts")
        assertEquals(listOf(500, 500, 500), emu.logFor(sandbox, "GET").statuses(), "three attempts")

        // Retries off: one attempt.
        assertThrows<MiosaException.Server> { emu.client().sandboxes().get("sbx_fixture") }
        assertEquals(4, emu.logFor(sandbox, "GET").size)
    }

    @Test
    fun paymentRequiredIsNeverRetried() = scenario { emu ->
        emu.control("PUT", "credits", """{"balance": 0}""")
        val err = assertThrows<MiosaException.InsufficientCredits> {
            retrying(emu, 5).sandboxes().create(SandboxesCreateParams(name = "no-credits"))
        }
        assertEquals(402, err.status)
        assertEquals("INSUFFICIENT_CREDITS", err.code)
        assertEquals(listOf<Int?>(402), emu.logFor("/sandboxes", "POST").statuses(), "exactly one request")
    }

    // ----------------------------------------------------- mutations and keys

    @Test
    fun aCreateHitByTwo503sCreatesOneSandbox() = scenario { emu ->
        emu.fault("""{"path": "/sandboxes", "method": "POST", "status": 503, "times": 2}""")
        val created = retrying(emu, 3).sandboxes().create(SandboxesCreateParams(name = "retried"))
        assertEquals("retried", created.name)
        val posts = emu.logFor("/sandboxes", "POST")
        assertEquals(3, posts.size)
        assertEquals(listOf<Int?>(503, 503), posts.statuses().take(2))
        assertTrue(posts[2]["status"]!!.jsonPrimitive.long in 200..299)
        val keys = posts.map { it.header("idempotency-key") }.toSet()
        assertTrue(keys.size == 1 && null !in keys, "one generated key on every attempt: $keys")
        assertEquals(1L, emu.stats().num("created", "sandbox"))
    }

    @Test
    fun aCreateWhoseAnswerIsLostIsReplayedNotRepeated() = scenario { emu ->
        emu.fault("""{"path": "/sandboxes", "method": "POST", "reset_body": true}""")
        val client = retrying(emu, 3)
        val created = client.sandboxes().create(SandboxesCreateParams(name = "lost"))
        val posts = emu.logFor("/sandboxes", "POST")
        assertEquals(2, posts.size)
        assertEquals("reset_body", posts[0]["fault"]?.jsonPrimitive?.content)
        assertEquals(posts[0].header("idempotency-key"), posts[1].header("idempotency-key"))
        assertEquals(listOf(created.id), client.sandboxes().list().filter { it.name == "lost" }.map { it.id })
        assertEquals(1L, emu.stats().num("created", "sandbox"))
    }

    // -------------------------------------------------------- connection reset

    @Test
    fun aConnectionReset() = scenario { emu ->
        emu.fault("""{"path": "$sandbox", "method": "GET", "reset": true}""")
        val err = assertThrows<MiosaException.Connection> { emu.client().sandboxes().get("sbx_fixture") }
        assertNull(err.status)

        emu.fault("""{"path": "$sandbox", "method": "GET", "reset": true}""")
        assertEquals("sbx_fixture", retrying(emu, 3).sandboxes().get("sbx_fixture").id)
        assertEquals(listOf(null, null, 200), emu.logFor(sandbox, "GET").statuses())

        // A body cut mid-way: the same.
        emu.fault("""{"path": "$sandbox", "method": "GET", "reset_body": true}""")
        assertThrows<MiosaException.Connection> { emu.client().sandboxes().get("sbx_fixture") }
        emu.fault("""{"path": "$sandbox", "method": "GET", "reset_body": true}""")
        assertEquals("sbx_fixture", retrying(emu, 3).sandboxes().get("sbx_fixture").id)
    }

    // ---------------------------------------------------------------- timeouts

    @Test
    fun aStallBeyondThePerCallTimeoutIsTimeoutQuickly() = scenario { emu ->
        emu.fault("""{"path": "$sandbox", "method": "GET", "delay_ms": 5000, "times": 3}""")
        val quick = emu.client().withOptions(RequestOptions(timeout = Duration.ofMillis(150)))
        var started = TimeSource.Monotonic.markNow()
        val err = assertThrows<MiosaException.Timeout> { quick.sandboxes().get("sbx_fixture") }
        assertNull(err.status)
        assertTrue(started.elapsedNow() < 1500.milliseconds, "took ${started.elapsedNow()}")

        // The client's receive timeout does the same.
        started = TimeSource.Monotonic.markNow()
        assertThrows<MiosaException.Timeout> {
            emu.client(options = ClientOptions(timeout = Duration.ofMillis(200))).sandboxes().get("sbx_fixture")
        }
        assertTrue(started.elapsedNow() < 1500.milliseconds, "took ${started.elapsedNow()}")

        // Retries on: the stalled attempt is abandoned, the next one answers.
        assertEquals("sbx_fixture", retrying(emu, 3, timeoutMs = 200).sandboxes().get("sbx_fixture").id)
        val seen = emu.statsUntil { it.num("abandoned") == 3L }
        assertEquals(3L, seen.num("abandoned"), "the server saw each stalled call go: $seen")
    }

    @Test
    fun theOperationTimeoutBoundsAllRetries() = scenario { emu ->
        emu.fault("""{"path": "$sandbox", "method": "GET", "status": 503, "times": 1000}""")
        val client = emu.client(
            options = ClientOptions(maxRetries = 100, retryBaseDelay = Duration.ofMillis(20), retryMaxDelay = Duration.ofMillis(40), operationTimeout = Duration.ofMillis(400)),
        )
        val started = TimeSource.Monotonic.markNow()
        assertThrows<MiosaException.Timeout> { client.sandboxes().get("sbx_fixture") }
        val took = started.elapsedNow()
        assertTrue(took >= 380.milliseconds && took < 1500.milliseconds, "took $took")
        assertTrue(emu.logFor(sandbox, "GET").size > 1, "several attempts")
    }

    // ----------------------------------------------------------------- streams

    @Test
    fun aStreamCutFiveTimesDeliversEveryEventOnceInOrder() = scenario { emu ->
        emu.fault("""{"path": "/_emulator/stream", "cut_after_events": 7, "times": 5}""")
        val client = emu.client().withOptions(RequestOptions(extraQuery = """{"count": 50, "retry_ms": 10}"""))
        val events = client.streamSse("/_emulator/stream").asFlow().toList()
        assertEquals((1..50).map { it.toString() }, events.map { it.id })
        assertTrue(events.all { it.data == it.id }, "every event's data is its id")
        val log = emu.logFor("/_emulator/stream")
        assertEquals(listOf(null, "7", "14", "21", "28", "35"), log.map { it.header("last-event-id") })
        assertEquals(List(5) { "cut_after_events" }, log.take(5).map { it["fault"]?.jsonPrimitive?.content })
    }

    @Test
    fun aStalledStreamTimesOutAtTheIdleLimit() = scenario { emu ->
        emu.fault("""{"path": "/_emulator/stream", "stall_after_events": 3, "delay_ms": 5000}""")
        val client = emu.client(options = ClientOptions(timeout = Duration.ofMillis(500)))
            .withOptions(RequestOptions(extraQuery = """{"count": 10}"""))
        val seen = mutableListOf<String?>()
        val started = TimeSource.Monotonic.markNow()
        assertThrows<MiosaException.Timeout> {
            client.streamSse("/_emulator/stream").asFlow().collect { seen += it.id }
        }
        val took = started.elapsedNow()
        assertEquals(listOf("1", "2", "3"), seen)
        assertTrue(took >= 450.milliseconds && took < 2500.milliseconds, "took $took")
    }

    // ------------------------------------------------------------ cancellation

    @Test
    fun cancellingTheCollectorOfAStreamClosesItOnTheServer() = scenario { emu ->
        val client = emu.client().withOptions(RequestOptions(extraQuery = """{"count": 100000000, "interval_ms": 5}"""))
        val ids = mutableListOf<String?>()
        val job = launch {
            client.streamSse("/_emulator/stream").asFlow().collect { ids += it.id }
        }
        withTimeout(10.seconds) { while (ids.size < 10) delay(10.milliseconds) }
        assertEquals(1L, emu.stats().num("streams", "open"))
        job.cancel()
        job.join()
        assertEquals((1..10).map { it.toString() }, ids.take(10))
        val after = emu.statsUntil { it.num("streams", "open") == 0L }
        assertEquals(0L, after.num("streams", "open"), "$after")

        // cancel() on the stream object does the same.
        val stream = client.streamSse("/_emulator/stream")
        stream.use {
            it.next()
            assertEquals(1L, emu.stats().num("streams", "open"))
            it.cancel()
            assertNull(it.next())
        }
        val closed = emu.statsUntil { it.num("streams", "open") == 0L }
        assertEquals(0L, closed.num("streams", "open"), "$closed")
        assertEquals(2L, closed.num("streams", "opened"))
    }

    @Test
    fun cancellingACoroutineInFlightAbandonsTheCallOnTheServer() = scenario { emu ->
        val before = emu.stats()
        val call = async { emu.client().exec().run("sbx_fixture", ExecRunParams(command = "sleep 5")) }
        val answering = emu.statsUntil { it.num("in_flight") == 1L }
        assertEquals(1L, answering.num("in_flight"), "the server is answering the call")
        val started = TimeSource.Monotonic.markNow()
        call.cancel()
        call.join()
        assertTrue(call.isCancelled)
        val after = emu.statsUntil { it.num("abandoned") == 1L && it.num("in_flight") == 0L }
        assertEquals(1L, after.num("abandoned"), "$after")
        assertEquals(0L, after.num("in_flight"), "$after")
        assertEquals(before.num("exec_count"), after.num("exec_count"), "the command never finished")
        assertTrue(started.elapsedNow() < 2.seconds, "took ${started.elapsedNow()}")
    }
}
