// The shared vectors run through the binding: SSE parsing (tests/sse) by the
// same engine live streams use, and webhook signatures (tests/webhooks).
package ai.miosa

import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonNull
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.contentOrNull
import kotlinx.serialization.json.double
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertDoesNotThrow
import org.junit.jupiter.api.assertThrows

class VectorsTest {
    @Test
    fun sseVectorsWholeBytewiseAndSplitEverywhere() {
        val vectors = parseJson(repoFile("tests/sse/vectors.json").readText()).jsonObject["vectors"]!!.jsonArray
        var runs = 0
        for (vector in vectors.map { it.jsonObject }) {
            val name = vector["name"]!!.jsonPrimitive.content
            val input = vector["input"]!!.jsonPrimitive.content.toByteArray()
            val expected = vector["expected"]!!.jsonArray.map { e ->
                val o = e.jsonObject
                Event(
                    event = o["event"]!!.jsonPrimitive.content,
                    data = o["data"]!!.jsonPrimitive.content,
                    id = o["id"]?.jsonPrimitive?.content,
                    retry = o["retry"]?.jsonPrimitive?.long,
                )
            }
            val splits = buildList {
                add(listOf(input))
                add(input.map { byteArrayOf(it) })
                for (at in 0..input.size) add(listOf(input.copyOfRange(0, at), input.copyOfRange(at, input.size)))
            }
            for (chunks in splits) {
                assertEquals(expected, parseSse(chunks), "$name, chunks ${chunks.map { it.size }}")
                runs++
            }
        }
        assertTrue(vectors.size >= 10 && runs > vectors.size * 3, "${vectors.size} vectors, $runs runs")
    }

    @Test
    fun webhookSignatureVectors() {
        val v = parseJson(repoFile("tests/webhooks/signature_vectors.json").readText()).jsonObject
        val secret = v["secret"]!!.jsonPrimitive.content
        val body = v["body"]!!.jsonPrimitive.content.toByteArray()
        val current = v["current_scheme"] as JsonObject
        assertDoesNotThrow { verifyWebhook(body, current["header"]!!.jsonPrimitive.content, secret) }
        assertThrows<WebhookException.InvalidSignature> {
            verifyWebhook(body, v["wrong_secret_header"]!!.jsonPrimitive.content, secret)
        }
        assertThrows<WebhookException.InvalidSignature> {
            verifyWebhook("tampered".toByteArray(), current["header"]!!.jsonPrimitive.content, secret)
        }
        // The legacy vector's timestamp is far from now, so it is refused as too old.
        assertThrows<WebhookException.TimestampTooOld> {
            verifyWebhook(body, (v["legacy_scheme"] as JsonObject)["header"]!!.jsonPrimitive.content, secret)
        }
        for (header in v["malformed_headers"]!!.jsonArray.map { it.jsonPrimitive.content }) {
            assertThrows<WebhookException> { verifyWebhook(body, header, secret) }
        }
    }
    /** A vector's `now`/`tolerance`: a number, or the name of a non-finite one. */
    private fun seconds(v: JsonElement?): Double? =
        when {
            v == null || v is JsonNull -> null
            (v as JsonPrimitive).isString -> v.content.toDouble()
            else -> v.double
        }

    private fun assertRefused(
        name: String,
        expect: JsonObject,
        call: () -> Unit,
    ) {
        val err = assertThrows<WebhookException>(name) { call() }
        if (expect["error"]!!.jsonPrimitive.content == "invalid_argument") {
            assertTrue(err is WebhookException.InvalidArgument, "$name: $err")
            val parameter = expect["parameter"]!!.jsonPrimitive.content
            assertTrue(err.message!!.contains(parameter), "$name: ${err.message}")
        } else {
            val expected =
                when (expect["code"]!!.jsonPrimitive.content) {
                    "missing_signature" -> WebhookException.MissingSignature::class
                    "malformed_header" -> WebhookException.MalformedHeader::class
                    "invalid_signature" -> WebhookException.InvalidSignature::class
                    "timestamp_too_old" -> WebhookException.TimestampTooOld::class
                    "invalid_payload" -> WebhookException.InvalidPayload::class
                    else -> error("unknown code in $name")
                }
            assertTrue(expected.isInstance(err), "$name: $err")
        }
    }

    @Test
    fun webhookBadInputVectors() {
        val v = parseJson(repoFile("tests/webhooks/signature_vectors.json").readText()).jsonObject
        val body = v["body"]!!.jsonPrimitive.content.toByteArray()
        val cases = v["bad_input"]!!.jsonArray.map { it.jsonObject }
        assertTrue(cases.size >= 10)
        for (case in cases) {
            val name = case["name"]!!.jsonPrimitive.content
            val signature = case["signature"]!!.jsonPrimitive.contentOrNull
            val secret = case["secret"]!!.jsonPrimitive.contentOrNull
            val tolerance = seconds(case["tolerance"])
            val now = seconds(case["now"])
            val expect = case["expect"]!!.jsonObject
            assertRefused(name, expect) { verifyWebhook(body, signature, secret, tolerance, now) }
            val headers = if (signature == null) emptyMap() else mapOf("x-miosa-signature" to signature)
            assertRefused("unwrap: $name", expect) { unwrapWebhook(body, headers, secret, tolerance, now) }
        }
    }

    @Test
    fun webhookUnwrapVectors() {
        val v = parseJson(repoFile("tests/webhooks/signature_vectors.json").readText()).jsonObject
        val secret = v["secret"]!!.jsonPrimitive.content
        val body = v["body"]!!.jsonPrimitive.content.toByteArray()
        val u = v["unwrap"]!!.jsonObject
        val event = u["event"]!!.jsonObject
        for (headers in u["valid_headers"]!!.jsonArray.map { it.jsonObject }) {
            val map = headers.mapValues { it.value.jsonPrimitive.content }
            assertEquals(event, parseJson(unwrapWebhook(body, map, secret)))
        }
        for (case in u["refused"]!!.jsonArray.map { it.jsonObject }) {
            val map = case["headers"]!!.jsonObject.mapValues { it.value.jsonPrimitive.content }
            val caseBody = case["body"]!!.jsonPrimitive.content.toByteArray()
            assertRefused(case["name"]!!.jsonPrimitive.content, case["expect"]!!.jsonObject) {
                unwrapWebhook(caseBody, map, secret)
            }
        }
    }
}
