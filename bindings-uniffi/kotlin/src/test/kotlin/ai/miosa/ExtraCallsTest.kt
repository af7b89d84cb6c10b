// Calls beyond the seed that take more than one request to prove, through the
// Kotlin surface: a streamed command's lines arrive while it runs, and
// multipart uploads (from bytes and from a local file) download byte for byte.
package ai.miosa

import java.nio.file.Files
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class ExtraCallsTest {
    private fun scenario(block: suspend CoroutineScope.(Emulator) -> Unit) = runBlocking { Emulator().use { block(it) } }

    private fun sample(size: Int) = ByteArray(size) { i -> ((i * 7 + i / 256) % 256).toByte() }

    /** `alpha`, then a bounded wait for a file written only after `alpha` was read: `beta` proves it arrived live. */
    private val handshake =
        "echo alpha; i=0; while [ ! -f go ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done; [ -f go ] && echo beta"

    @Test
    fun streamedExecDeliversAlphaWhileRunningThenBeta() = scenario { emu ->
        val client = emu.client()
        val seen = mutableListOf<Pair<String, String>>()
        client.sandbox().exec().stream("sbx_fixture", SandboxExecStreamParams(command = handshake, timeout = 30L)).use { stream ->
            while (seen.size <= 10) {
                val event = stream.next() ?: break
                val data = Json.parseToJsonElement(event.data).jsonObject
                val value = (data["line"] ?: data["exit_code"])!!.jsonPrimitive.content
                seen += event.event to value
                if (event.event == "stdout" && value == "alpha") {
                    client.sandbox().files().write("sbx_fixture", "/workspace/go", "go".toByteArray())
                }
                if (event.event == "exit") break
            }
        }
        assertEquals(listOf("stdout" to "alpha", "stdout" to "beta", "exit" to "0"), seen)
    }

    @Test
    fun multipartUploadAndDownloadReturnTheSameBytes() = scenario { emu ->
        val files = emu.client().files()
        val bytes = sample(70_000)
        val written = files.write("cmp_fixture", "/home/user/rt/from-bytes.bin", bytes, null)
        assertTrue(written.path.endsWith("/rt/from-bytes.bin"), written.path)
        assertArrayEquals(bytes, files.download("cmp_fixture", "/home/user/rt/from-bytes.bin"))

        val local = Files.createTempFile("miosa-upload-", ".bin")
        try {
            val onDisk = sample(300_000)
            Files.write(local, onDisk)
            files.upload("cmp_fixture", local.toString(), "/home/user/rt/from-disk.bin", null)
            assertArrayEquals(onDisk, files.download("cmp_fixture", "/home/user/rt/from-disk.bin"))
        } finally {
            Files.deleteIfExists(local)
        }
    }

    @Test
    fun uploadingAMissingFileNamesTheParameter() = scenario { emu ->
        val err = assertThrows<MiosaException.InvalidArgument> {
            runBlocking { emu.client().files().upload("cmp_fixture", "/nonexistent/miosa/file.bin", "/home/user/x.bin", null) }
        }
        assertTrue(err.message.contains("`local_path`"), err.message)
    }
}
