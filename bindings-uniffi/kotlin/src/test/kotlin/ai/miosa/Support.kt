// Test support: a real miosa-emulator process per test class, clients pointed at
// it, the emulator's control routes (through the binding's own requestJson), and
// the argument reader the generated dispatcher (GeneratedCalls.kt) uses.
package ai.miosa

import java.io.File
import java.util.concurrent.TimeUnit
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.boolean
import kotlinx.serialization.json.double
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long

/** The repository root (holding the shared test vectors), from the pom's system property. */
val repoRoot: File = File(System.getProperty("miosa.repo") ?: "../..").canonicalFile

fun repoFile(path: String): File = File(repoRoot, path)

/** A miosa-emulator child process on a free loopback port; `close()` kills it. */
class Emulator : AutoCloseable {
    private val process: Process
    val baseUrl: String
    val apiKey: String
    val adminKey: String

    init {
        val binary = System.getProperty("miosa.emulator")
            ?: error("system property miosa.emulator is not set")
        check(File(binary).canExecute()) { "no emulator binary at $binary: run cargo build -p miosa-emulator" }
        process = ProcessBuilder(binary, "--port", "0")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val stdout = process.inputStream.bufferedReader()
        val first = stdout.readLine() ?: error("the emulator exited before printing its address")
        val fields = Regex("""(\w+)=(\S+)""").findAll(first).associate { it.groupValues[1] to it.groupValues[2] }
        baseUrl = fields["base_url"] ?: error("no base_url in: $first")
        apiKey = fields["api_key"] ?: error("no api_key in: $first")
        adminKey = fields["admin_key"] ?: error("no admin_key in: $first")
        // Keep reading so a chatty emulator never blocks on a full pipe.
        Thread { stdout.useLines { lines -> lines.forEach { } } }.apply { isDaemon = true }.start()
        // A test that times out never reaches close(): the JVM's exit still ends the child.
        Runtime.getRuntime().addShutdownHook(Thread { process.destroyForcibly() })
    }

    /** A client for the user key (or the admin key). */
    /** Retries are off unless [options] sets them: a test that wants them says so. */
    fun client(admin: Boolean = false, options: ClientOptions = ClientOptions()): Client =
        Client(
            if (admin) adminKey else apiKey,
            options.copy(baseUrl = options.baseUrl ?: baseUrl, maxRetries = options.maxRetries ?: 0),
        )

    private val control by lazy { client(admin = true) }

    /** Calls a control route under /_emulator/ and returns its JSON answer. */
    suspend fun control(method: String, path: String, body: String? = null): JsonElement =
        parseJson(control.requestJson(method, "/_emulator/$path", body))

    /** The newest [limit] recorded requests, oldest first. */
    suspend fun requests(limit: Int): List<JsonObject> =
        control("GET", "requests?limit=$limit").jsonArray.map { it.jsonObject }

    /** The newest recorded request that is not a control call. */
    suspend fun lastRequest(): JsonObject = requests(1).single()

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly()
    }
}

/** One row of the operation table, as the generated dispatcher lists it. */
data class OpInfo(val name: String, val seed: Boolean, val positional: List<String>, val returns: String)

/**
 * Arguments by name for [callOperation]: positional ones from `args` (required),
 * keyword ones from `params` (optional). `{"$bytes": "text"}` stands for bytes.
 */
class CallArgs(private val args: JsonObject, private val params: JsonObject) {
    private fun arg(name: String): JsonElement = args[name] ?: error("calls.json lacks argument `$name`")

    private fun text(e: JsonElement): String =
        if (e is JsonPrimitive && e.isString) e.content else e.toString()

    fun argStr(name: String): String = text(arg(name))
    fun argLong(name: String): Long = arg(name).jsonPrimitive.long
    fun argDouble(name: String): Double = arg(name).jsonPrimitive.double
    fun argBool(name: String): Boolean = arg(name).jsonPrimitive.boolean
    fun argJson(name: String): String = arg(name).toString()
    fun argStrs(name: String): List<String> = strings(arg(name))
    fun argBytes(name: String): ByteArray {
        val e = arg(name)
        val text = (e as? JsonObject)?.get("\$bytes")?.jsonPrimitive?.content ?: text(e)
        return text.toByteArray()
    }

    /** `write_many` items: `content` (text) or `content_base64` (decoded) as bytes. */
    fun argFiles(name: String): List<FileWrite> = arg(name).jsonArray.map { item ->
        val o = item.jsonObject
        val content = o["content"]?.jsonPrimitive?.content?.toByteArray()
            ?: java.util.Base64.getDecoder().decode(o.getValue("content_base64").jsonPrimitive.content)
        FileWrite(path = o.getValue("path").jsonPrimitive.content, content = content)
    }

    fun str(name: String): String? = params[name]?.let(::text)
    fun long(name: String): Long? = params[name]?.jsonPrimitive?.long
    fun double(name: String): Double? = params[name]?.jsonPrimitive?.double
    fun bool(name: String): Boolean? = params[name]?.jsonPrimitive?.boolean
    fun json(name: String): String? = params[name]?.toString()
    fun strs(name: String): List<String>? = params[name]?.let(::strings)

    /** The params the table does not list, as a JSON object text (null when none). */
    fun extra(known: List<String>): String? {
        val rest = params.filterKeys { it !in known }
        return if (rest.isEmpty()) null else JsonObject(rest).toString()
    }
}

/** Sorted keys of a JSON object (empty for null or anything else). */
fun keysOf(e: JsonElement?): List<String> = ((e as? JsonObject)?.keys ?: emptySet()).sorted()

/** A string array from JSON. */
fun strings(e: JsonElement?): List<String> = (e as? JsonArray)?.map { it.jsonPrimitive.content } ?: emptyList()
