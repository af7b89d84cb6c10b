// The Kotlin compiler is the type checker here: a user program with misspelt
// model fields must not compile, and its correctly spelt twin must.
package ai.miosa

import java.io.ByteArrayOutputStream
import java.io.File
import java.io.PrintStream
import java.nio.file.Files
import org.jetbrains.kotlin.cli.common.ExitCode
import org.jetbrains.kotlin.cli.jvm.K2JVMCompiler
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class MisspeltFieldTest {
    private val programs = File(System.getProperty("miosa.repo") ?: "../..", "bindings-uniffi/kotlin/typecheck")

    /** Compiles one program against the library and its dependencies; the exit code and the messages. */
    private fun compile(name: String): Pair<ExitCode, String> {
        val classpath = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        val out = Files.createTempDirectory("miosa-typecheck").toFile()
        val messages = ByteArrayOutputStream()
        try {
            val code = K2JVMCompiler().exec(
                PrintStream(messages, true, Charsets.UTF_8),
                "-classpath", classpath, "-d", out.path, "-no-stdlib", "-no-reflect", "-jvm-target", "17", "-Werror",
                File(programs, name).path,
            )
            return code to messages.toString(Charsets.UTF_8)
        } finally {
            out.deleteRecursively()
        }
    }

    @Test
    fun theCorrectlySpeltProgramCompiles() {
        val (code, messages) = compile("Spelt.kt")
        assertEquals(ExitCode.OK, code, messages)
    }

    @Test
    fun misspeltFieldsAreRejected() {
        val (code, messages) = compile("Misspelt.kt")
        assertEquals(ExitCode.COMPILATION_ERROR, code, messages)
        assertTrue(messages.contains("idd"), messages)
        assertTrue(messages.contains("pathh"), messages)
    }
}
