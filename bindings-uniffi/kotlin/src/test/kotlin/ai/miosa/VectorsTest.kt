// The shared vectors run through the binding: SSE parsing (tests/sse) by the
// same engine live streams use, and webhook signatures (tests/webhooks).
package ai.miosa

import kotlinx.serialization.json.JsonObject
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
}
