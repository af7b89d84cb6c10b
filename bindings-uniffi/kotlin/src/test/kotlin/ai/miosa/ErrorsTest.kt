// Every error class of the sealed MiosaException, each provoked for real
// against the emulator (or before the network for local mistakes), plus the
// shared error-body vectors (tests/errors/cases.json) served by the emulator.
package ai.miosa

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long
import kotlinx.serialization.json.put
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class ErrorsTest {
    private fun scenario(block: suspend CoroutineScope.(Emulator) -> Unit) = runBlocking { Emulator().use { block(it) } }

    /** The common contract: status, a message, the error body as JSON, the request id. */
    private fun checkHttp(e: MiosaException, status: Int) {
        assertEquals(status, e.status)
        assertTrue(e.errorMessage.isNotBlank())
        assertTrue(parseJson(checkNotNull(e.body)) is JsonObject, "body is JSON text: ${e.body}")
        assertTrue(e.requestId!!.startsWith("req_"), "request id: ${e.requestId}")
        assertTrue(e.message!!.contains(e.errorMessage), "Throwable.message carries the error message")
    }

    /** A fault the emulator injects into the next matching request. */
    private suspend fun Emulator.fault(path: String, status: Int, body: JsonObject? = null, retryAfter: String? = null) {
        val fault = buildJsonObject {
            put("path", path)
            put("method", "GET")
            put("status", status)
            body?.let { put("body", it) }
            retryAfter?.let { put("retry_after", it) }
        }
        control("POST", "faults", fault.toString())
    }

    @Test
    fun everyHttpErrorClass() = scenario { emu ->
        val client = emu.client()

        val auth = assertThrows<MiosaException.Authentication> {
            Client("msk_wrong_key_000", ClientOptions(baseUrl = emu.baseUrl)).sandboxes().get("sbx_fixture")
        }
        checkHttp(auth, 401)

        emu.control("PUT", "credits", """{"balance": 0}""")
        val broke = assertThrows<MiosaException.InsufficientCredits> {
            client.sandboxes().create(SandboxesCreateParams(name = "no-credits"))
        }
        checkHttp(broke, 402)
        emu.control("PUT", "credits", """{"balance": 100000}""")

        val denied = assertThrows<MiosaException.PermissionDenied> { client.admin().tenants().list() }
        checkHttp(denied, 403)
        assertEquals("FORBIDDEN", denied.code)

        val missing = assertThrows<MiosaException.NotFound> { client.sandboxes().get("sbx_does_not_exist") }
        checkHttp(missing, 404)

        client.computer().destroy("cmp_fixture_del")
        val conflict = assertThrows<MiosaException.Conflict> { client.computer().restart("cmp_fixture_del") }
        checkHttp(conflict, 409)

        val invalid = assertThrows<MiosaException.Validation> {
            client.sandboxes().create(SandboxesCreateParams(size = "gigantic"))
        }
        assertTrue(invalid.status == 422 || invalid.status == 400, "status ${invalid.status}")
        checkHttp(invalid, invalid.status!!)

        emu.fault("/sandboxes/sbx_fixture", 429, retryAfter = "3")
        val limited = assertThrows<MiosaException.RateLimited> { client.sandboxes().get("sbx_fixture") }
        checkHttp(limited, 429)
        assertEquals(3000L, limited.retryAfterMs)

        emu.fault("/sandboxes/sbx_fixture", 503)
        checkHttp(assertThrows<MiosaException.Server> { client.sandboxes().get("sbx_fixture") }, 503)

        emu.fault("/sandboxes/sbx_fixture", 418)
        checkHttp(assertThrows<MiosaException.Api> { client.sandboxes().get("sbx_fixture") }, 418)
    }

    @Test
    fun transportAndLocalErrorClasses() = scenario { emu ->
        // A slow answer against a short receive timeout.
        emu.control("POST", "faults", """{"path": "/sandboxes/sbx_fixture", "method": "GET", "delay_ms": 3000}""")
        val impatient = emu.client(options = ClientOptions(timeout = java.time.Duration.ofMillis(300)))
        val timeout = assertThrows<MiosaException.Timeout> { impatient.sandboxes().get("sbx_fixture") }
        assertNull(timeout.status)

        // Nothing listens on port 9 of loopback.
        val nowhere = Client(emu.apiKey, ClientOptions(baseUrl = "http://127.0.0.1:9/api/v1", maxRetries = 0))
        val refused = assertThrows<MiosaException.Connection> { nowhere.sandboxes().get("sbx_fixture") }
        assertNull(refused.status)

        // A success whose body is not a sandbox.
        emu.control("POST", "faults", """{"path": "/sandboxes/sbx_fixture", "method": "GET", "status": 200, "body": ["not", "a", "sandbox"]}""")
        assertThrows<MiosaException.Decode> { emu.client().sandboxes().get("sbx_fixture") }

        // Refused before any network use.
        assertThrows<MiosaException.InvalidArgument> { Client("not-a-key") }
        assertThrows<MiosaException.InvalidArgument> { emu.client().sandboxes().get(" ") }
        val before = emu.control("GET", "stats").jsonObject["requests"]!!.jsonPrimitive.long
        assertThrows<MiosaException.InvalidArgument> {
            emu.client().sandbox().files().writeMany("sbx_fixture", listOf(FileWrite(" ", byteArrayOf(1))))
        }
        assertEquals(before, emu.control("GET", "stats").jsonObject["requests"]!!.jsonPrimitive.long, "no request was sent")
    }

    /** tests/errors/cases.json, each body served by the emulator with its status. */
    @Test
    fun sharedErrorVectors() = scenario { emu ->
        val client = emu.client()
        val cases = parseJson(repoFile("tests/errors/cases.json").readText()).jsonObject["cases"]!!.jsonArray
        var checked = 0
        for (case in cases.map { it.jsonObject }) {
            val text = case["body_file"]?.let { repoFile("tests/errors/${it.jsonPrimitive.content}").readText() }
                ?: case["body"]!!.jsonPrimitive.content
            // The emulator serves JSON-object bodies as they are; other bodies it rewrites (core unit tests cover those).
            val body = runCatching { parseJson(text) as? JsonObject }.getOrNull() ?: continue
            val headers = case["headers"] as? JsonObject
            if (headers?.containsKey("X-Request-ID") == true) continue // the emulator sets its own request id
            val status = case["status"]!!.jsonPrimitive.content.toInt()
            emu.fault("/sandboxes/sbx_fixture", status, body, headers?.get("Retry-After")?.jsonPrimitive?.content)
            val e = assertThrows<MiosaException> { client.sandboxes().get("sbx_fixture") }
            val name = case["name"]!!.jsonPrimitive.content
            val expect = case["expect"]!!.jsonObject
            assertEquals(expect["kind"]!!.jsonPrimitive.content, kindOf(e), name)
            assertEquals(status, e.status, name)
            expect["message"]?.let { assertEquals(it.jsonPrimitive.content, e.errorMessage, name) }
            if ("code" in expect) assertEquals((expect["code"] as? JsonPrimitive)?.takeIf { it.isString }?.content, e.code, name)
            expect["retry_after_ms"]?.let { assertEquals(it.jsonPrimitive.long, e.retryAfterMs, name) }
            assertEquals(body.filterKeys { it != "request_id" }, parseJson(e.body!!).jsonObject.filterKeys { it != "request_id" }, name)
            checked++
        }
        assertTrue(checked >= 12, "ran $checked shared error cases")
    }

    private fun kindOf(e: MiosaException): String = e.kind
}
