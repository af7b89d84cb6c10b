// What a program sees of the client's traffic: the HTTP response behind a
// result, log records through SLF4J, path transfers with progress, and the
// runtime the User-Agent names. Kotlin forms of the core's hooks (observe.rs).
package ai.miosa

import java.nio.file.Path
import java.util.concurrent.atomic.AtomicBoolean

/** A call's result and the HTTP response it came from. */
data class WithResponse<T>(val value: T, val response: ResponseMeta)

/** The first value of header [name] (any case), or null. */
fun ResponseMeta.header(name: String): String? =
    headers.firstOrNull { it.name.equals(name, ignoreCase = true) }?.value

/**
 * Runs [call] with a client that shares this one's connections and notes the
 * HTTP response of each call made through it, and returns the result with the
 * response of the latest one (for a call made of several requests, its last):
 *
 * ```
 * val (sandbox, response) = client.withResponse { it.sandboxes().get(id) }
 * println("${response.status} ${response.requestId}")
 * ```
 *
 * Each block has its own recorder, so concurrent blocks never see each other's
 * responses. Make the calls through the client the block receives: calls on
 * another client are not seen. Handles made inside the block keep working after it.
 */
suspend fun <T> Client.withResponse(call: suspend (Client) -> T): WithResponse<T> {
    val recorder = ResponseRecorder()
    // The recording client is left to the garbage collector: a handle or stream
    // the block returns may still use it.
    val value = call(recordingResponses(recorder))
    val response = recorder.last()
        ?: throw IllegalStateException("withResponse: the block made no call through the client it was given")
    return WithResponse(value, response)
}

/** Adapts a `(done, total)` lambda; an exception in it goes to the thread's uncaught-exception handler. */
private fun progressOf(onProgress: ((done: Long, total: Long?) -> Unit)?): TransferProgress? =
    onProgress?.let { report ->
        object : TransferProgress {
            override fun onProgress(done: Long, total: Long?) {
                try {
                    report(done, total)
                } catch (e: Throwable) {
                    val thread = Thread.currentThread()
                    thread.uncaughtExceptionHandler?.uncaughtException(thread, e)
                }
            }
        }
    }

/**
 * Downloads the sandbox file [remotePath] into [localPath] as it arrives, without
 * holding it in memory; [onProgress] gets `(bytesDone, total)` (total null when
 * unknown) about once per MiB, on an I/O thread. Returns the bytes written.
 */
suspend fun Client.downloadToPath(
    sandboxId: String,
    remotePath: String,
    localPath: Path,
    onProgress: ((done: Long, total: Long?) -> Unit)? = null,
): Long = downloadToPath(sandboxId, remotePath, localPath.toString(), progressOf(onProgress))

/** Uploads [localPath] to the sandbox path [remotePath], reading it as it is sent; progress as [downloadToPath]. */
suspend fun Client.uploadFromPath(
    sandboxId: String,
    remotePath: String,
    localPath: Path,
    onProgress: ((done: Long, total: Long?) -> Unit)? = null,
): FileWritten = uploadFromPath(sandboxId, remotePath, localPath.toString(), progressOf(onProgress))

/** [Client.downloadToPath] for this sandbox. */
suspend fun SandboxHandle.downloadToPath(
    remotePath: String,
    localPath: Path,
    onProgress: ((done: Long, total: Long?) -> Unit)? = null,
): Long = client.downloadToPath(id, remotePath, localPath, onProgress)

/** [Client.uploadFromPath] for this sandbox. */
suspend fun SandboxHandle.uploadFromPath(
    remotePath: String,
    localPath: Path,
    onProgress: ((done: Long, total: Long?) -> Unit)? = null,
): FileWritten = client.uploadFromPath(id, remotePath, localPath, onProgress)

/** [Client.downloadToPath] for this sandbox, beside the other file operations. */
suspend fun SandboxHandle.FilesOps.downloadToPath(
    remotePath: String,
    localPath: Path,
    onProgress: ((done: Long, total: Long?) -> Unit)? = null,
): Long = handle.downloadToPath(remotePath, localPath, onProgress)

/** [Client.uploadFromPath] for this sandbox, beside the other file operations. */
suspend fun SandboxHandle.FilesOps.uploadFromPath(
    remotePath: String,
    localPath: Path,
    onProgress: ((done: Long, total: Long?) -> Unit)? = null,
): FileWritten = handle.uploadFromPath(remotePath, localPath, onProgress)

/**
 * Runs once before the first client is built (the generated constructors call
 * it): names Kotlin and the JVM in the User-Agent and, when SLF4J is on the
 * classpath, sends the client's log records to the `ai.miosa` logger.
 */
internal object JvmRuntime {
    private val announced = AtomicBoolean(false)

    fun announce() {
        if (!announced.compareAndSet(false, true)) return
        val java = System.getProperty("java.version").orEmpty().filter { it.isLetterOrDigit() || it in ".-_+" }
        try {
            setRuntime("kotlin/${KotlinVersion.CURRENT} jvm/${java.ifEmpty { "unknown" }}")
        } catch (e: MiosaException) {
            setRuntime("kotlin/${KotlinVersion.CURRENT}")
        }
        if (slf4jPresent()) Slf4jForwarder.install()
    }

    private fun slf4jPresent(): Boolean =
        try {
            Class.forName("org.slf4j.LoggerFactory", false, JvmRuntime::class.java.classLoader)
            true
        } catch (e: ClassNotFoundException) {
            false
        } catch (e: LinkageError) {
            false
        }
}

/**
 * Forwards log records to SLF4J's `ai.miosa` logger at the level it has enabled
 * when the first client is built. Only loaded once SLF4J is known to be present:
 * SLF4J is an optional dependency.
 */
internal object Slf4jForwarder : LogHandler {
    private val logger = org.slf4j.LoggerFactory.getLogger("ai.miosa")

    fun install() {
        val level = when {
            logger.isDebugEnabled -> LogLevel.DEBUG
            logger.isInfoEnabled -> LogLevel.INFO
            logger.isWarnEnabled -> LogLevel.WARN
            else -> return
        }
        setLogHandler(level, this)
    }

    override fun log(entry: LogEntry) {
        when (entry.level) {
            LogLevel.DEBUG -> logger.debug(entry.message)
            LogLevel.INFO -> logger.info(entry.message)
            LogLevel.WARN -> logger.warn(entry.message)
        }
    }
}
