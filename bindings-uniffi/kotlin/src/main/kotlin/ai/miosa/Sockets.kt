// Kotlin conveniences over the UniFFI-generated `Socket` (miosa.kt): a Flow of
// its messages and the text of a message. `close()` (AutoCloseable, so `use {}`)
// ends the socket, wakes a pending `next()` with null and frees the native object;
// `cancel()` only ends the socket.
package ai.miosa

import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow

/**
 * The messages of this socket as a [Flow], until the socket ends. When collection
 * ends (the socket ended, the collector was cancelled, or an operator such as
 * `takeWhile` stopped early) the socket is closed; the object stays readable, so
 * [Socket.exitCode] still answers, until `close()` or `use {}` frees it.
 * Send with [Socket.sendText] from any other coroutine meanwhile.
 */
fun Socket.asFlow(): Flow<SocketMessage> = flow {
    try {
        while (true) {
            emit(next() ?: break)
        }
    } finally {
        cancel()
    }
}

/** Like [asFlow], but also frees the socket at the end: for the cold flows of Flows.kt. */
internal fun Socket.consumingFlow(): Flow<SocketMessage> = pagerFlow(this, { next() }, { cancel() })

/** The message's bytes as UTF-8 text (invalid sequences replaced). */
val SocketMessage.text: String
    get() = data.decodeToString()
