// What a Kotlin program sees of the client's traffic, against the emulator:
// raw responses (status, headers, request id) per withResponse block, even
// when blocks run concurrently; log records through SLF4J (slf4j-simple
// writes them to the file the pom names) without the key; path transfers with
// progress; and the User-Agent the emulator received.
package ai.miosa

import java.io.File
import java.nio.file.Files
import kotlin.random.Random
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class ObserveTest {
    private fun scenario(block: suspend CoroutineScope.(Emulator) -> Unit) = runBlocking { Emulator().use { block(it) } }

    /** The path the emulator logged for the request it answered with [requestId]. */
    private suspend fun pathOf(emu: Emulator, requestId: String): String =
        emu.control("GET", "requests").jsonArray.map { it.jsonObject }
            .single { it["request_id"]?.jsonPrimitive?.content == requestId }["path"]!!.jsonPrimitive.content

    @Test
    fun withResponseGivesStatusHeadersAndRequestId() = scenario { emu ->
        val client = emu.client()
        val sb = client.createSandbox(SandboxesCreateParams(name = "raw"))
        val (value, response) = client.withResponse { it.sandboxes().get(sb.id) }
        assertEquals(sb.id, value.id)
        assertEquals(200, response.status)
        val requestId = response.requestId!!
        assertTrue(requestId.startsWith("req_"), requestId)
        assertEquals(requestId, response.header("X-Request-ID"))
        assertTrue(response.header("content-type")!!.startsWith("application/json"))
        assertEquals("/api/v1/sandboxes/${sb.id}", pathOf(emu, requestId))

        val created = client.withResponse { it.sandboxes().create(SandboxesCreateParams(name = "raw2")) }
        assertEquals(201, created.response.status)

        val none = assertThrows<IllegalStateException> { client.withResponse { 42 } }
        assertTrue(none.message!!.contains("no call"), none.message)
        sb.destroy()
    }

    @Test
    fun concurrentBlocksSeeOnlyTheirOwnResponses() = scenario { emu ->
        val client = emu.client()
        val ids = listOf(client.sandboxes().create(SandboxesCreateParams(name = "a")).id,
                         client.sandboxes().create(SandboxesCreateParams(name = "b")).id)
        val results = (0 until 16).map { i ->
            async(Dispatchers.Default) { client.withResponse { it.sandboxes().get(ids[i % 2]) } }
        }.awaitAll()
        assertEquals(16, results.map { it.response.requestId }.toSet().size)
        for (result in results) {
            assertEquals("/api/v1/sandboxes/${result.value.id}", pathOf(emu, result.response.requestId!!))
        }
    }

    @Test
    fun oneSlf4jRecordPerRequestWithoutTheKey() = scenario { emu ->
        val client = emu.client()
        val (_, response) = client.withResponse { it.sandboxes().list() }
        val requestId = response.requestId!!
        val log = File(System.getProperty("org.slf4j.simpleLogger.logFile")).readLines()
        val records = log.filter { it.contains("request_id=$requestId") }
        assertEquals(1, records.size, log.takeLast(5).joinToString("\n"))
        assertTrue(records[0].contains("INFO ai.miosa - GET /sandboxes -> 200"), records[0])
        assertFalse(log.any { it.contains(emu.apiKey) }, "the API key reached the log")
    }

    @Test
    fun userAgentNamesKotlinAndTheJvm() = scenario { emu ->
        emu.client().sandboxes().list()
        val agent = emu.lastRequest()["headers"]!!.jsonObject["user-agent"]!!.jsonPrimitive.content
        val expected = Regex("""miosa-native/\d+\.\d+\.\d+ kotlin/\d+\.\d+\.\d+ jvm/[0-9A-Za-z.+_-]+ linux x86_64""")
        assertTrue(expected.matches(agent), agent)
        assertTrue(agent.contains("kotlin/${KotlinVersion.CURRENT} jvm/${System.getProperty("java.version")}"), agent)
    }

    @Test
    fun transfersThroughPathsReportProgress() = scenario { emu ->
        val client = emu.client()
        val dir = Files.createTempDirectory("miosa-transfer")
        try {
            val size = 3 * 1024 * 1024 + 17
            val content = Random(7).nextBytes(size)
            val source = dir.resolve("up.bin")
            Files.write(source, content)
            val sb = client.createSandbox(SandboxesCreateParams(name = "transfer", wait = true))
            val up = mutableListOf<Pair<Long, Long?>>()
            val written = sb.uploadFromPath("/workspace/big.bin", source) { done, total -> synchronized(up) { up += done to total } }
            assertEquals(size.toLong(), written.sizeBytes)
            assertEquals(size.toLong() to size.toLong(), up.last())
            val down = mutableListOf<Long>()
            val target = dir.resolve("down.bin")
            val n = client.downloadToPath(sb.id, "/workspace/big.bin", target) { done, _ -> synchronized(down) { down += done } }
            assertEquals(size.toLong(), n)
            assertEquals(size.toLong(), down.last())
            assertTrue(down.size >= 3, "progress about once per MiB: $down")
            assertArrayEquals(content, Files.readAllBytes(target))

            val again = dir.resolve("again.bin")
            assertEquals(size.toLong(), sb.files.uploadFromPath("/workspace/again.bin", source).sizeBytes)
            assertEquals(size.toLong(), sb.files.downloadToPath("/workspace/again.bin", again))
            assertArrayEquals(content, Files.readAllBytes(again))

            val missing = assertThrows<MiosaException.InvalidArgument> {
                client.uploadFromPath(sb.id, "/workspace/x", dir.resolve("absent.bin"))
            }
            assertTrue(missing.errorMessage.contains("local_path"), missing.errorMessage)
            sb.destroy()
        } finally {
            dir.toFile().deleteRecursively()
        }
    }
}
