// Hand-written Kotlin conveniences over the UniFFI-generated surface (miosa.kt):
// Flow adapters for event streams and pagers, common accessors on the sealed
// MiosaException, and the JSON helper for results without a schema.
package ai.miosa

import kotlinx.coroutines.flow.Flow
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
 * Parses the JSON text of an untyped result (or of an event's `data`) into a
 * [JsonElement]; read it with `jsonObject`, `jsonArray`, `jsonPrimitive`.
 * Parameters typed as JSON text can be built with `buildJsonObject { }.toString()`.
 */
fun parseJson(text: String): JsonElement = Json.parseToJsonElement(text)

/** The server's (or the client's) message, whatever the subclass. */
val MiosaException.errorMessage: String
    get() = when (this) {
        is MiosaException.Authentication -> errorMessage
        is MiosaException.InsufficientCredits -> errorMessage
        is MiosaException.PermissionDenied -> errorMessage
        is MiosaException.NotFound -> errorMessage
        is MiosaException.Conflict -> errorMessage
        is MiosaException.Validation -> errorMessage
        is MiosaException.RateLimited -> errorMessage
        is MiosaException.Server -> errorMessage
        is MiosaException.Api -> errorMessage
        is MiosaException.Timeout -> errorMessage
        is MiosaException.Connection -> errorMessage
        is MiosaException.Decode -> errorMessage
        is MiosaException.InvalidArgument -> errorMessage
        is MiosaException.Cancelled -> errorMessage
        is MiosaException.Usage -> errorMessage
        is MiosaException.LimitExceeded -> errorMessage
    }

/** The HTTP status; null for failures that never got an HTTP answer. */
val MiosaException.status: Int?
    get() = when (this) {
        is MiosaException.Authentication -> status
        is MiosaException.InsufficientCredits -> status
        is MiosaException.PermissionDenied -> status
        is MiosaException.NotFound -> status
        is MiosaException.Conflict -> status
        is MiosaException.Validation -> status
        is MiosaException.RateLimited -> status
        is MiosaException.Server -> status
        is MiosaException.Api -> status
        is MiosaException.Timeout -> status
        is MiosaException.Connection -> status
        is MiosaException.Decode -> status
        is MiosaException.InvalidArgument -> status
        is MiosaException.Cancelled -> status
        is MiosaException.Usage -> status
        is MiosaException.LimitExceeded -> status
    }

/** The machine-readable code, such as `NOT_FOUND`. */
val MiosaException.code: String?
    get() = when (this) {
        is MiosaException.Authentication -> code
        is MiosaException.InsufficientCredits -> code
        is MiosaException.PermissionDenied -> code
        is MiosaException.NotFound -> code
        is MiosaException.Conflict -> code
        is MiosaException.Validation -> code
        is MiosaException.RateLimited -> code
        is MiosaException.Server -> code
        is MiosaException.Api -> code
        is MiosaException.Timeout -> code
        is MiosaException.Connection -> code
        is MiosaException.Decode -> code
        is MiosaException.InvalidArgument -> code
        is MiosaException.Cancelled -> code
        is MiosaException.Usage -> code
        is MiosaException.LimitExceeded -> code
    }

/** The error body as JSON text (parse it with [parseJson]). */
val MiosaException.body: String?
    get() = when (this) {
        is MiosaException.Authentication -> body
        is MiosaException.InsufficientCredits -> body
        is MiosaException.PermissionDenied -> body
        is MiosaException.NotFound -> body
        is MiosaException.Conflict -> body
        is MiosaException.Validation -> body
        is MiosaException.RateLimited -> body
        is MiosaException.Server -> body
        is MiosaException.Api -> body
        is MiosaException.Timeout -> body
        is MiosaException.Connection -> body
        is MiosaException.Decode -> body
        is MiosaException.InvalidArgument -> body
        is MiosaException.Cancelled -> body
        is MiosaException.Usage -> body
        is MiosaException.LimitExceeded -> body
    }

/** The server's request id (`X-Request-ID`), when it sent one. */
val MiosaException.requestId: String?
    get() = when (this) {
        is MiosaException.Authentication -> requestId
        is MiosaException.InsufficientCredits -> requestId
        is MiosaException.PermissionDenied -> requestId
        is MiosaException.NotFound -> requestId
        is MiosaException.Conflict -> requestId
        is MiosaException.Validation -> requestId
        is MiosaException.RateLimited -> requestId
        is MiosaException.Server -> requestId
        is MiosaException.Api -> requestId
        is MiosaException.Timeout -> requestId
        is MiosaException.Connection -> requestId
        is MiosaException.Decode -> requestId
        is MiosaException.InvalidArgument -> requestId
        is MiosaException.Cancelled -> requestId
        is MiosaException.Usage -> requestId
        is MiosaException.LimitExceeded -> requestId
    }

/** How long the server asked to wait before retrying, in milliseconds (429, 503, some 409s). */
val MiosaException.retryAfterMs: Long?
    get() = when (this) {
        is MiosaException.Authentication -> retryAfterMs
        is MiosaException.InsufficientCredits -> retryAfterMs
        is MiosaException.PermissionDenied -> retryAfterMs
        is MiosaException.NotFound -> retryAfterMs
        is MiosaException.Conflict -> retryAfterMs
        is MiosaException.Validation -> retryAfterMs
        is MiosaException.RateLimited -> retryAfterMs
        is MiosaException.Server -> retryAfterMs
        is MiosaException.Api -> retryAfterMs
        is MiosaException.Timeout -> retryAfterMs
        is MiosaException.Connection -> retryAfterMs
        is MiosaException.Decode -> retryAfterMs
        is MiosaException.InvalidArgument -> retryAfterMs
        is MiosaException.Cancelled -> retryAfterMs
        is MiosaException.Usage -> retryAfterMs
        is MiosaException.LimitExceeded -> retryAfterMs
    }

/** How many attempts the call made before it gave up (1 when it was not retried). */
val MiosaException.attempts: Int
    get() = when (this) {
        is MiosaException.Authentication -> attempts
        is MiosaException.InsufficientCredits -> attempts
        is MiosaException.PermissionDenied -> attempts
        is MiosaException.NotFound -> attempts
        is MiosaException.Conflict -> attempts
        is MiosaException.Validation -> attempts
        is MiosaException.RateLimited -> attempts
        is MiosaException.Server -> attempts
        is MiosaException.Api -> attempts
        is MiosaException.Timeout -> attempts
        is MiosaException.Connection -> attempts
        is MiosaException.Decode -> attempts
        is MiosaException.InvalidArgument -> attempts
        is MiosaException.Cancelled -> attempts
        is MiosaException.Usage -> attempts
        is MiosaException.LimitExceeded -> attempts
    }
