// Kotlin conveniences over the UniFFI-generated `Socket` (miosa.kt): a Flow of
// its messages and the text of a message. `close()` (AutoCloseable, so `use {}`)
// ends the socket, wakes a pending `next()` with null and frees the native object;
// `cancel()` only ends the socket.
package ai.miosa

import kotlinx.coroutines.flow.Flow

/**
 * The messages of this socket as a [Flow]. The flow consumes the socket: when
 * collection ends (the socket ended, the collector was cancelled, or an operator
 * such as `takeWhile` stopped early) the socket is closed and freed.
 * Send with [Socket.sendText] from the collector or any other coroutine meanwhile.
 */
fun Socket.asFlow(): Flow<SocketMessage> = pagerFlow(this, { next() }, { cancel() })

/** The message's bytes as UTF-8 text (invalid sequences replaced). */
val SocketMessage.text: String
    get() = data.decodeToString()
