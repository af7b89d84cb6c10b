// The whole table through the generated Kotlin surface: every entry of
// tests/calls.json is called in order against one fresh emulator, its result
// checked by return kind, and the request the emulator recorded compared with
// the entry's `expect`. Prints the table total (`244/244`) with the seed
// operations that passed (`169/169`) beside it.
package ai.miosa

import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class OperationsTest {
    /** Checks the value an operation returned; returns a complaint or null. */
    private suspend fun checkResult(info: OpInfo, entry: JsonObject, result: Any?): String? {
        when (info.returns) {
            "events" -> {
                val stream = result as? EventStream ?: return "not an EventStream: $result"
                stream.use {
                    val mode = entry["stream"]?.jsonPrimitive?.content ?: "first_event"
                    val first = it.next() ?: return "the stream ended before its first event"
                    if (first.event.isEmpty()) return "an event without a type"
                    if (mode == "to_end") {
                        var count = 1
                        while (it.next() != null) count++
                        if (it.next() != null) return "next() after the end returned an event"
                    } else {
                        it.cancel()
                        if (it.next() != null) return "next() after cancel() returned an event"
                    }
                }
            }
            "socket" -> {
                val socket = result as? Socket ?: return "not a Socket: $result"
                socket.use {
                    if (it.frames() == "exec") {
                        // `true` runs to its end: the socket ends with exit code 0.
                        while (it.next() != null) continue
                        if (it.exitCode() != 0L) return "exit code ${it.exitCode()}, expected 0"
                    }
                    it.cancel()
                    if (it.next() != null) return "next() after cancel() returned a message"
                }
            }
            "bytes" -> if ((result as? ByteArray)?.isNotEmpty() != true) return "empty or no bytes: $result"
            "json" -> parseJson(result as? String ?: return "not JSON text: $result")
            "bool" -> if (result != true) return "expected true, got $result"
            "list" -> if (result !is List<*>) return "not a list: $result"
            "page" -> {
                result?.javaClass?.getMethod("getItems")?.invoke(result) as? List<*>
                    ?: return "not a page: $result"
            }
            "model" -> {
                val extra = result?.javaClass?.getMethod("getExtra")?.invoke(result) as? String
                    ?: return "not a model record: $result"
                parseJson(extra).jsonObject
            }
            else -> return "unknown return kind ${info.returns}"
        }
        return null
    }

    /** Compares the emulator's record of the last request with `expect`. */
    private fun checkRequest(expect: JsonObject, req: JsonObject): List<String> {
        val problems = mutableListOf<String>()
        val method = req["method"]?.jsonPrimitive?.content
        val path = req["path"]?.jsonPrimitive?.content
        val wantMethod = expect["method"]?.jsonPrimitive?.content
        val wantPath = expect["path"]?.jsonPrimitive?.content
        if (method != wantMethod || path != wantPath) problems += "sent $method $path, expected $wantMethod $wantPath"
        expect["body_keys"]?.let { want ->
            val got = keysOf(req["body"])
            if (got != strings(want).sorted()) problems += "body keys $got, expected ${strings(want).sorted()}"
        }
        expect["query_keys"]?.let { want ->
            val got = keysOf(req["query"])
            if (got != strings(want).sorted()) problems += "query keys $got, expected ${strings(want).sorted()}"
        }
        expect["content_type"]?.let { want ->
            val got = (req["headers"] as? JsonObject)?.get("content-type")?.jsonPrimitive?.content
            if (got?.startsWith(want.jsonPrimitive.content) != true) problems += "content-type $got, expected $want"
        }
        return problems
    }

    @Test
    fun everyOperationAgainstTheEmulator() = runBlocking {
        val calls = parseJson(repoFile("tests/calls.json").readText()).jsonArray.map { it.jsonObject }
        val byName = OPERATIONS.associateBy { it.name }
        val failures = mutableListOf<String>()
        val passed = mutableSetOf<String>()
        Emulator().use { emu ->
            val user = emu.client()
            val admin = emu.client(admin = true)
            for (entry in calls) {
                val name = entry["op"]!!.jsonPrimitive.content
                val info = byName[name]
                if (info == null) {
                    failures += "$name: not an operation of the generated surface"
                    continue
                }
                val client = if (entry["auth"]?.jsonPrimitive?.content == "admin") admin else user
                val args = CallArgs(entry["args"]!!.jsonObject, entry["params"]!!.jsonObject)
                val result = try {
                    callOperation(client, name, args)
                } catch (e: MiosaException) {
                    failures += "$name: ${e::class.simpleName}: ${e.message}"
                    continue
                }
                val problems = listOfNotNull(checkResult(info, entry, result)).toMutableList()
                (entry["expect"] as? JsonObject)?.let { problems += checkRequest(it, emu.lastRequest()) }
                if (problems.isEmpty()) passed += name else problems.forEach { failures += "$name: $it" }
            }
        }
        val listed = calls.map { it["op"]!!.jsonPrimitive.content }.toSet()
        OPERATIONS.filter { it.name !in listed }.forEach { failures += "${it.name}: no entry in tests/calls.json" }
        val seed = OPERATIONS.filter { it.seed }
        println("${OPERATIONS.count { it.name in passed }}/${OPERATIONS.size} (${seed.count { it.name in passed }}/${seed.size} seed)")
        assertEquals(169, seed.size, "the seed surface has 169 operations")
        assertTrue(failures.isEmpty(), "${failures.size} failure(s):\n" + failures.joinToString("\n"))
    }
}
