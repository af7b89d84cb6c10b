// Sandbox and computer handles through the Kotlin surface: the same routes as
// the flat calls (read back from the emulator's request log), and `use {}`
// destroying on normal exit and on an exception, unless kept.
package ai.miosa

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class HandlesTest {
    private fun scenario(block: suspend CoroutineScope.(Emulator) -> Unit) = runBlocking { Emulator().use { block(it) } }

    /** Method, path and body of every API request since the log was last cleared. */
    private suspend fun routes(emu: Emulator): List<Triple<String, String, String>> =
        emu.control("GET", "requests").jsonArray.map { it.jsonObject }
            .filter { !(it["path"]!!.jsonPrimitive.content.contains("/_emulator")) }
            .map { r: JsonObject ->
                Triple(r["method"]!!.jsonPrimitive.content, r["path"]!!.jsonPrimitive.content, r["body"].toString())
            }

    private suspend fun clearLog(emu: Emulator) {
        emu.control("DELETE", "requests")
    }

    @Test
    fun handleCallsHitTheFlatRoutes() = scenario { emu ->
        val client = emu.client()
        val sb = client.createSandbox(SandboxesCreateParams(name = "routes", wait = true))
        val id = sb.id
        clearLog(emu)
        client.sandbox().exec().run(id, SandboxExecRunParams(command = "echo hi", timeout = 30))
        client.sandbox().files().write(id, "/workspace/a.txt", "a".toByteArray())
        client.sandbox().files().read(id, "/workspace/a.txt")
        client.sandbox().env().list(id)
        client.sandbox().processes().list(id)
        client.sandboxes().get(id)
        val expected = routes(emu)
        clearLog(emu)
        assertEquals("hi", sb.exec.run(SandboxExecRunParams(command = "echo hi", timeout = 30)).stdout.trim())
        sb.files.write("/workspace/a.txt", "a".toByteArray())
        assertEquals("a", String(sb.files.read("/workspace/a.txt")))
        sb.env.list()
        sb.processes.list()
        sb.refresh()
        assertEquals(expected, routes(emu))
        assertEquals(6, expected.size)
        sb.destroy()
    }

    @Test
    fun useDestroysOnNormalExitAndOnAnException() = scenario { emu ->
        val client = emu.client()
        val normal = client.createSandbox(SandboxesCreateParams(name = "scoped", wait = true)).use { sb ->
            assertEquals("in", sb.exec.run(SandboxExecRunParams(command = "echo in")).stdout.trim())
            sb.id
        }
        assertThrows<MiosaException.NotFound> { client.sandboxes().get(normal) }

        var failing = ""
        assertThrows<IllegalStateException> {
            client.createSandbox(SandboxesCreateParams(name = "failing")).use { sb ->
                failing = sb.id
                error("boom")
            }
        }
        assertThrows<MiosaException.NotFound> { client.sandboxes().get(failing) }

        val kept = client.createSandbox(SandboxesCreateParams(name = "kept")).use { it.keep().id }
        assertEquals(kept, client.sandboxes().get(kept).id)

        val again = client.connectSandbox(kept)
        assertNull(again.data)
        again.refresh()
        assertEquals(kept, again.data?.id)
        again.close()
        assertThrows<MiosaException.NotFound> { client.sandboxes().get(kept) }
    }

    @Test
    fun computerHandleBindsComputerDesktopAndExec() = scenario { emu ->
        val client = emu.client()
        client.createComputer(ComputersCreateParams(name = "desk")).use { pc ->
            pc.start()
            clearLog(emu)
            client.exec().run(pc.id, ExecRunParams(command = "echo flat"))
            client.desktop().click(pc.id, 1, 2)
            val expected = routes(emu)
            clearLog(emu)
            pc.exec.run(ExecRunParams(command = "echo flat"))
            pc.desktop.click(1, 2)
            assertEquals(expected, routes(emu))
            assertTrue(expected.size == 2)
        }
    }
}
