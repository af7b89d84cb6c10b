// Hand-written Kotlin conveniences over the UniFFI-generated surface (miosa.kt):
// Flow adapters for event streams and pagers, common accessors on the sealed
// MiosaException, and the JSON helper for results without a schema.
package ai.miosa

import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.emitAll
import kotlinx.coroutines.flow.flow
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.JsonElement

/**
 * The events of this stream as a cold [Flow]. The flow consumes the stream:
 * when collection ends (the stream ended, the collector was cancelled, or an
 * operator such as `take` stopped early) the connection is closed and the
 * native object freed.
 */
fun EventStream.asFlow(): Flow<Event> = pagerFlow(this, { next() }, { cancel() })

/**
 * Emits `next()` until it returns null, then (or on cancellation or error)
 * cancels and frees the native object. Shared by [EventStream.asFlow] and the
 * generated `*Pager.asFlow()` adapters in Pagers.kt.
 */
internal fun <T : Any> pagerFlow(
    owner: AutoCloseable,
    next: suspend () -> T?,
    cancel: () -> Unit,
): Flow<T> = flow {
    try {
        while (true) {
            val item = next() ?: break
            emit(item)
        }
    } finally {
        cancel()
        owner.close()
    }
}

/**
 * A cold flow: every collection calls [open] (a new stream or pager, so a new
 * connection) and collects it through [consume], whose flow closes it when the
 * collection ends. Nothing is opened before a collector arrives. Used by the
 * generated `…Flow` functions in Flows.kt.
 */
internal fun <S, T> coldFlow(open: suspend () -> S, consume: (S) -> Flow<T>): Flow<T> = flow {
    emitAll(consume(open()))
}

/**
 * Parses the JSON text of an untyped result (or of an event's `data`) into a
 * [JsonElement]; read it with `jsonObject`, `jsonArray`, `jsonPrimitive`.
 * Parameters typed as JSON text can be built with `buildJsonObject { }.toString()`.
 */
fun parseJson(text: String): JsonElement = Json.parseToJsonElement(text)

// The error accessors (`errorMessage`, `status`, ...) are generated from core/errors.toml: ErrorFields.kt.
