// `writeMany` items through the Kotlin surface: `FileWrite(path, ByteArray)`, with
// the cases of tests/files/write_many.json the types can express (an item with no
// path, no content, or content of another type does not compile here).
package ai.miosa

import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.fail

class WriteManyTest {
    private fun hex(text: String): ByteArray = text.chunked(2).map { it.toInt(16).toByte() }.toByteArray()

    /** The item as a [FileWrite], or null when the type cannot hold it. */
    private fun fileWrite(item: JsonObject): FileWrite? {
        if (item.keys != setOf("path", "content")) return null
        val path = (item["path"] as? JsonPrimitive)?.takeIf { it.isString }?.content ?: return null
        val content = when (val c = item.getValue("content")) {
            is JsonPrimitive -> if (c.isString) c.content.toByteArray() else return null
            is JsonObject -> hex(c.getValue("\$hex").jsonPrimitive.content)
            else -> return null
        }
        return FileWrite(path, content)
    }

    @Test
    fun sharedVectors() = runBlocking {
        Emulator().use { emu ->
            val sb = emu.client().connectSandbox("sbx_fixture")
            val cases = parseJson(repoFile("tests/files/write_many.json").readText()).jsonObject["cases"]!!.jsonArray
            var ran = 0
            for (case in cases.map { it.jsonObject }) {
                val name = case["name"]!!.jsonPrimitive.content
                val items = case["files"]!!.jsonArray.map { (it as? JsonObject)?.let(::fileWrite) }
                if (items.any { it == null }) continue
                ran++
                val error = case["error"]?.jsonPrimitive?.content
                if (error != null) {
                    try {
                        sb.files.writeMany(items.filterNotNull())
                        fail("$name: the call succeeded")
                    } catch (e: MiosaException.InvalidArgument) {
                        assertTrue(e.message!!.contains(error), "$name: ${e.message}")
                    }
                    continue
                }
                sb.files.writeMany(items.filterNotNull())
                for ((path, want) in case["read"]!!.jsonObject) {
                    assertArrayEquals(hex(want.jsonPrimitive.content), sb.files.read(path), "$name: $path")
                }
            }
            assertTrue(ran >= 5, "only $ran cases ran")
        }
    }

    @Test
    fun everyByteValueThroughTheFlatCall() = runBlocking {
        Emulator().use { emu ->
            val client = emu.client()
            val all = ByteArray(256) { it.toByte() }
            val written = client.sandbox().files().writeMany("sbx_fixture", listOf(FileWrite("/workspace/all.bin", all)))
            assertEquals(1, written.written.size)
            assertArrayEquals(all, client.sandbox().files().read("sbx_fixture", "/workspace/all.bin"))
        }
    }
}
