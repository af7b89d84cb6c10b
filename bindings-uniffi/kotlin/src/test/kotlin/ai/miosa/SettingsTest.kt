// The client contract through Kotlin: the shared settings vectors (tests/settings)
// for every case Kotlin's types can express, retries on by default, and an
// explicit JSON null on the wire.
package ai.miosa

import java.time.Duration
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.booleanOrNull
import kotlinx.serialization.json.doubleOrNull
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** A value Kotlin's typed options cannot hold: the case is not expressible here. */
private class NotExpressible : Exception()

private fun camel(name: String): String =
    name.split("_").mapIndexed { i, part -> if (i == 0) part else part.replaceFirstChar { it.uppercase() } }.joinToString("")

private fun number(v: JsonElement): Double {
    val p = v as? JsonPrimitive ?: throw NotExpressible()
    if (p.isString) throw NotExpressible()
    return p.doubleOrNull ?: throw NotExpressible()
}

private fun duration(v: JsonElement): Duration {
    val seconds = number(v)
    // UniFFI durations are non-negative and bounded: other values cannot be passed at all.
    if (!seconds.isFinite() || seconds < 0 || seconds > 1e9) throw NotExpressible()
    return Duration.ofNanos((seconds * 1e9).toLong())
}

private fun whole(v: JsonElement, max: Double): Long {
    val n = number(v)
    if (n != Math.floor(n) || Math.abs(n) > max) throw NotExpressible()
    return n.toLong()
}

private fun text(v: JsonElement): String {
    val p = v as? JsonPrimitive ?: throw NotExpressible()
    if (!p.isString) throw NotExpressible()
    return p.content
}

private fun headers(v: JsonElement): Map<String, String> =
    (v as? JsonObject ?: throw NotExpressible()).mapValues { (_, value) -> text(value) }

private fun clientOptions(input: JsonObject): Pair<String?, ClientOptions> {
    var options = ClientOptions()
    var key: String? = null
    for ((name, value) in input) {
        if (value is JsonNull) continue
        options = when (name) {
            "api_key" -> options.also { key = text(value) }
            "base_url" -> options.copy(baseUrl = text(value))
            "connect_timeout" -> options.copy(connectTimeout = duration(value))
            "timeout" -> options.copy(timeout = duration(value))
            "operation_timeout" -> options.copy(operationTimeout = duration(value))
            "max_retries" -> options.copy(maxRetries = whole(value, Int.MAX_VALUE.toDouble()).toInt())
            "retry_base_delay" -> options.copy(retryBaseDelay = duration(value))
            "retry_max_delay" -> options.copy(retryMaxDelay = duration(value))
            "max_response_bytes" -> options.copy(maxResponseBytes = whole(value, 9e18))
            "max_download_bytes" -> options.copy(maxDownloadBytes = whole(value, 9e18))
            "max_event_bytes" -> options.copy(maxEventBytes = whole(value, 9e18))
            "allow_insecure_http" -> options.copy(
                allowInsecureHttp = (value as? JsonPrimitive)?.takeIf { !it.isString }?.booleanOrNull
                    ?: throw NotExpressible(),
            )
            "headers" -> options.copy(headers = headers(value))
            else -> throw NotExpressible()
        }
    }
    return key to options
}

private fun requestOptions(input: JsonObject): RequestOptions {
    var options = RequestOptions()
    for ((name, value) in input) {
        options = when (name) {
            "extra_headers" -> options.copy(extraHeaders = headers(value))
            "extra_query" -> options.copy(extraQuery = value.toString())
            "extra_body" -> options.copy(extraBody = value.toString())
            "timeout" -> options.copy(timeout = duration(value))
            "max_response_bytes" -> options.copy(maxResponseBytes = whole(value, 9e18))
            else -> throw NotExpressible()
        }
    }
    return options
}

private fun same(want: JsonElement, got: JsonElement?): Boolean {
    if (want is JsonPrimitive && !want.isString && want.doubleOrNull != null) {
        val g = (got as? JsonPrimitive)?.doubleOrNull ?: return false
        return Math.abs(g - want.doubleOrNull!!) < 1e-6
    }
    return want == got
}

private fun checkRefusal(name: String, error: JsonObject, err: MiosaException) {
    assertTrue(err is MiosaException.InvalidArgument, "$name: $err")
    val param = error["param"]!!.jsonPrimitive.content.split(".").mapIndexed { i, p -> if (i == 0) camel(p) else p }
        .joinToString(".")
    val message = err.errorMessage
    assertTrue(message.contains("`$param`"), "$name: $message")
    for (t in (error["message_includes"] as? JsonArray).orEmpty()) assertTrue(message.contains(t.jsonPrimitive.content), "$name: $message")
    for (t in (error["message_excludes"] as? JsonArray).orEmpty()) assertTrue(!message.contains(t.jsonPrimitive.content), "$name: $message")
}

class SettingsTest {
    @Test
    fun clientSettingsVectors() {
        val cases = parseJson(repoFile("tests/settings/client.json").readText()).jsonObject["cases"]!!.jsonArray
        var replayed = 0
        for (case in cases.map { it.jsonObject }) {
            val name = case["name"]!!.jsonPrimitive.content
            val expect = case["expect"]!!.jsonObject
            // The runner's environment must not supply a key: that case is the environment test's.
            if (System.getenv("MIOSA_API_KEY") != null && "api_key" !in case["input"]!!.jsonObject) continue
            val (key, options) = try {
                clientOptions(case["input"]!!.jsonObject)
            } catch (_: NotExpressible) {
                continue
            }
            replayed++
            val outcome = runCatching { Client(key, options) }
            val settings = expect["settings"] as? JsonObject
            if (settings != null) {
                val client = outcome.getOrElse { throw AssertionError("$name: refused: $it") }
                val actual = parseJson(client.settingsJson()).jsonObject["settings"]!!.jsonObject
                for ((field, want) in settings) assertTrue(same(want, actual[field]), "$name: $field is ${actual[field]}, expected $want")
            } else {
                val err = outcome.exceptionOrNull() as? MiosaException ?: throw AssertionError("$name: accepted")
                checkRefusal(name, expect["error"]!!.jsonObject, err)
            }
        }
        assertTrue(replayed >= 25, "only $replayed cases replayed")
    }

    @Test
    fun callOptionVectors() {
        val cases = parseJson(repoFile("tests/settings/call_options.json").readText()).jsonObject["cases"]!!.jsonArray
        val client = Client("msk_u_vectors", ClientOptions(baseUrl = "http://127.0.0.1:9/api/v1"))
        var replayed = 0
        for (case in cases.map { it.jsonObject }) {
            val name = case["name"]!!.jsonPrimitive.content
            val expect = case["expect"]!!.jsonObject
            val options = try {
                requestOptions(case["input"]!!.jsonObject)
            } catch (_: NotExpressible) {
                continue
            }
            replayed++
            val outcome = runCatching { client.withOptions(options) }
            val want = expect["options"] as? JsonObject
            if (want != null) {
                val derived = outcome.getOrElse { throw AssertionError("$name: refused: $it") }
                val actual = parseJson(derived.settingsJson()).jsonObject["options"]!!.jsonObject
                for ((field, value) in want) assertTrue(same(value, actual[field]), "$name: $field is ${actual[field]}")
            } else {
                val err = outcome.exceptionOrNull() as? MiosaException ?: throw AssertionError("$name: accepted")
                checkRefusal(name, expect["error"]!!.jsonObject, err)
            }
        }
        assertTrue(replayed >= 10, "only $replayed cases replayed")
    }

    @Test
    fun retriesAreOnByDefault() = runBlocking {
        Emulator().use { emu ->
            val client = Client(emu.apiKey, ClientOptions(baseUrl = emu.baseUrl, retryBaseDelay = Duration.ofMillis(10)))
            val before = client.sandboxes().list().size
            emu.control("POST", "faults", """{"path": "/sandboxes", "method": "POST", "status": 503, "times": 1}""")
            val created = client.sandboxes().create(SandboxesCreateParams(name = "absorbed"))
            assertEquals("absorbed", created.name)
            assertEquals(before + 1, client.sandboxes().list().size)
        }
    }

    @Test
    fun anExplicitNullReachesTheWire() = runBlocking {
        Emulator().use { emu ->
            val client = emu.client().withOptions(RequestOptions(extraBody = """{"slug": null}"""))
            client.sandboxes().update("sbx_fixture", SandboxesUpdateParams(name = "kept"))
            val last = emu.control("GET", "requests?limit=5").jsonArray.map { it.jsonObject }.last { it["method"]!!.jsonPrimitive.content == "PATCH" }
            val body = last["body"]!!.jsonObject
            assertEquals(JsonNull, body["slug"])
            assertEquals("kept", body["name"]!!.jsonPrimitive.content)
        }
    }

    @Test
    fun plainHttpToARemoteHostNeedsTheOptIn() {
        val err = assertThrows<MiosaException.InvalidArgument> {
            Client("msk_u_x", ClientOptions(baseUrl = "http://api.example.com/v1"))
        }
        assertTrue(err.errorMessage.contains("allowInsecureHttp"), err.errorMessage)
        Client("msk_u_x", ClientOptions(baseUrl = "http://api.example.com/v1", allowInsecureHttp = true))
    }
}
