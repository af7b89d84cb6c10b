// WebSockets through the Kotlin surface, against the emulator's real terminal,
// real commands and live machine events: typing and reading back, resizing,
// interactive exec with its exit code, events as they happen, and closing from
// another coroutine.
package ai.miosa

import kotlin.time.TimeSource
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.fail

private const val FIXTURE = "sbx_fixture"

/** A computer: it has a desktop, so window events happen too. */
private const val COMPUTER = "cmp_fixture"

class SocketsTest {
    private fun scenario(block: suspend CoroutineScope.(Emulator) -> Unit) = runBlocking { Emulator().use { block(it) } }

    /** Reads until [want] has arrived [times] times (within ten seconds); answers all that was read. */
    private suspend fun Socket.readUntil(want: String, times: Int = 1): String {
        var seen = ""
        withTimeout(10.seconds) {
            while (seen.windowed(want.length).count { it == want } < times) {
                seen += (next() ?: break).text
            }
        }
        val count = seen.windowed(want.length).count { it == want }
        assertTrue(count >= times, "\"$want\" arrived $count of $times time(s); got \"$seen\"")
        return seen
    }

    /** Event frames' types until every one of [wanted] has arrived (within ten seconds). */
    private suspend fun Socket.eventsUntil(wanted: Set<String>): List<Pair<String, String>> {
        val seen = mutableListOf<Pair<String, String>>()
        withTimeout(10.seconds) {
            while (!seen.map { it.first }.containsAll(wanted)) {
                val message = next() ?: break
                assertEquals(SocketChannel.TEXT, message.channel)
                val event = parseJson(message.text).jsonObject
                seen += event["type"]!!.jsonPrimitive.content to event["payload"].toString()
            }
        }
        assertTrue(seen.map { it.first }.containsAll(wanted), "expected $wanted, got $seen")
        return seen
    }

    @Test
    fun terminalRoundTripOnTheSandboxHandle() = scenario { emu ->
        val sandbox = emu.client().connectSandbox(FIXTURE)
        sandbox.terminal.stream(SandboxTerminalStreamParams(cols = 80, rows = 24)).use { term ->
            assertEquals("terminal", term.frames())
            term.sendText("echo hi-term\n")
            // Once in the echoed input, once as the command's output line.
            term.readUntil("hi-term\r\n", times = 2)
            term.resize(120, 33)
            term.sendBytes("stty size\n".toByteArray())
            term.readUntil("33 120")
            term.cancel()
            assertTrue(term.isClosed())
            assertNull(term.next())
            try {
                term.sendText("ls\n")
                fail("sending on a closed socket succeeded")
            } catch (e: MiosaException) {
                assertTrue(e.message!!.contains("closed"), e.message)
            }
        }
    }

    @Test
    fun aBadTerminalSizeIsATypedError() = scenario { emu ->
        emu.client().sandbox().terminal().stream(FIXTURE).use { term ->
            try {
                term.resize(0, 10)
                fail("resize(0, 10) was accepted")
            } catch (e: MiosaException.InvalidArgument) {
                assertTrue(e.message.contains("cols"), e.message)
            }
        }
    }

    @Test
    fun interactiveExecReturnsItsExitCode() = scenario { emu ->
        emu.client().exec().spawn(FIXTURE, "read name; echo hello-\$name; echo warn >&2; exit 3").use { sock ->
            assertEquals("exec", sock.frames())
            sock.sendText("kt\n")
            val messages = withTimeout(10.seconds) { sock.asFlow().toList() }
            val out = messages.groupBy({ it.channel }, { it.text }).mapValues { it.value.joinToString("") }
            assertEquals(mapOf(SocketChannel.STDOUT to "hello-kt\n", SocketChannel.STDERR to "warn\n"), out)
            assertEquals(3L, sock.exitCode())
        }
        // `exit 3` alone, through the computer handle and the cold flow.
        val computer = emu.client().connectComputer(FIXTURE)
        computer.exec.spawn("exit 3").use { sock ->
            assertNull(withTimeout(10.seconds) { sock.next() })
            assertEquals(3L, sock.exitCode())
        }
        val lines = withTimeout(10.seconds) { emu.client().exec().spawnFlow(FIXTURE, "echo one; echo two").toList() }
        assertEquals("one\ntwo\n", lines.joinToString("") { it.text })
    }

    @Test
    fun closeFromAnotherCoroutineEndsAPendingNext() = scenario { emu ->
        val sleeper = emu.client().exec().spawn(FIXTURE, "sleep 20")
        val closer = launch(Dispatchers.Default) {
            delay(300)
            sleeper.close()
        }
        val started = TimeSource.Monotonic.markNow()
        assertNull(withTimeout(5.seconds) { sleeper.next() })
        val waited = started.elapsedNow()
        closer.join()
        assertTrue(waited.inWholeMilliseconds in 200..4999, "next() returned after $waited")
    }

    @Test
    fun eventsArriveAsTheyHappen() = scenario { emu ->
        val client = emu.client()
        client.events().subscribe(COMPUTER, EventsSubscribeParams(subscribe = "file,process,window,clipboard")).use { events ->
            assertEquals("events", events.frames())
            client.exec().run(COMPUTER, ExecRunParams(command = "echo made > kt-event.txt"))
            val seen = events.eventsUntil(setOf("process.started", "process.stopped", "file.created"))
            assertTrue(seen.any { it.first == "file.created" && it.second.contains("kt-event.txt") }, "$seen")
            assertTrue(seen.any { it.first == "process.stopped" && it.second.contains("\"exit_code\":0") }, "$seen")

            client.desktop().launch(COMPUTER, "xterm")
            events.eventsUntil(setOf("window.opened"))

            // The machine stops: the feed says so, then ends.
            client.computer().stop(COMPUTER)
            val last = events.eventsUntil(setOf("producer.unavailable"))
            assertTrue(last.last().second.contains("stopped"), "$last")
            assertNull(withTimeout(5.seconds) { events.next() })
        }
    }

    @Test
    fun familiesNotSubscribedToStayAway() = scenario { emu ->
        val client = emu.client()
        client.events().subscribe(FIXTURE, EventsSubscribeParams(subscribe = "file")).use { events ->
            client.exec().run(FIXTURE, ExecRunParams(command = "echo x > only-files.txt"))
            val seen = events.eventsUntil(setOf("file.created"))
            assertTrue(seen.none { it.first.startsWith("process.") }, "$seen")
        }
    }
}
