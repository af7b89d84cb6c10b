// `onState` on the waits: each new lifecycle state seen while polling is
// reported once, the sequence ends in the ready state, and a lambda that
// throws leaves the wait going (the exception goes to the uncaught handler).
package ai.miosa

import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.Collections

class WaitStatesTest {
    private fun scenario(block: suspend CoroutineScope.(Emulator) -> Unit) = runBlocking { Emulator().use { block(it) } }

    private fun seen(): MutableList<String> = Collections.synchronizedList(mutableListOf())

    private fun assertNoRepeats(states: List<String>) {
        assertTrue(states.zipWithNext().none { (a, b) -> a == b }, states.toString())
    }

    @Test
    fun aBootingSandboxReportsItsStates() = scenario { emu ->
        val client = emu.client()
        val sb = client.sandboxes().create(SandboxesCreateParams(name = "watched"))
        val states = seen()
        assertTrue(client.sandboxes().waitUntilReady(sb.id, SandboxesWaitUntilReadyParams(timeout = 10.0)) { states.add(it) })
        assertEquals("creating", states.first(), states.toString())
        assertEquals("running", states.last(), states.toString())
        assertNoRepeats(states)
    }

    @Test
    fun handlesAndComputersReportTheirStates() = scenario { emu ->
        val client = emu.client()
        client.createSandbox(SandboxesCreateParams(name = "watched-handle")).use { sb ->
            val states = seen()
            assertTrue(sb.waitUntilReady(SandboxesWaitUntilReadyParams(timeout = 10.0)) { states.add(it) })
            assertEquals(listOf("creating", "running"), listOf(states.first(), states.last()), states.toString())
            assertNoRepeats(states)
        }

        val computer = client.computers().create(ComputersCreateParams(name = "watched"))
        val flat = seen()
        assertTrue(client.computer().waitUntilRunning(computer.id, ComputerWaitUntilRunningParams(timeout = 10.0)) { flat.add(it) })
        assertTrue(flat.size >= 2, flat.toString())
        assertEquals("running", flat.last(), flat.toString())
        assertNoRepeats(flat)

        val handle = client.connectComputer(computer.id)
        client.computer().stop(computer.id)
        val stopping = seen()
        assertTrue(handle.waitUntilStopped(ComputerWaitUntilStoppedParams(timeout = 10.0), onState = { stopping.add(it) }))
        assertEquals("stopped", stopping.last(), stopping.toString())
        assertNoRepeats(stopping)
    }

    @Test
    fun aThrowingLambdaDoesNotStopTheWait() = scenario { emu ->
        val client = emu.client()
        val sb = client.sandboxes().create(SandboxesCreateParams(name = "watched-throwing"))
        val reported = Collections.synchronizedList(mutableListOf<Throwable>())
        val states = seen()
        val onState = { state: String ->
            states.add(state)
            Thread.currentThread().uncaughtExceptionHandler = Thread.UncaughtExceptionHandler { _, e -> reported.add(e) }
            throw IllegalStateException("lambda failed at $state")
        }
        assertTrue(client.sandboxes().waitUntilReady(sb.id, SandboxesWaitUntilReadyParams(timeout = 10.0), onState))
        assertEquals("running", states.last(), states.toString())
        assertEquals(states.map { "lambda failed at $it" }, reported.map { it.message })
    }
}
