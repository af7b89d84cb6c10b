// A misspelt model field does not compile: the Kotlin compiler rejects a program
// reading `sandbox.idd` and names the field, while its correctly spelt twin compiles.
// The compiler is this build's own (kotlin-compiler-embeddable from the local Maven
// repository) in a forked JVM with its own classpath, so its newer stdlib never meets
// the 2.0 one the library and this test run on.
package ai.miosa

import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class MisspeltFieldTest {
    private val m2 = File(System.getProperty("miosa.m2") ?: "${System.getProperty("user.home")}/.m2/repository")
    private val version = System.getProperty("miosa.kotlin.compiler") ?: error("miosa.kotlin.compiler is not set")

    private fun jar(group: String, artifact: String, v: String): String {
        val file = File(m2, "${group.replace('.', '/')}/$artifact/$v/$artifact-$v.jar")
        check(file.isFile) { "missing $file: the Kotlin Maven plugin fetches it on the first build" }
        return file.path
    }

    /** The compiler and what it needs to run (kotlin-compiler-embeddable's dependencies). */
    private fun compilerClasspath(): String = listOf(
        jar("org.jetbrains.kotlin", "kotlin-compiler-embeddable", version),
        jar("org.jetbrains.kotlin", "kotlin-stdlib", version),
        jar("org.jetbrains.kotlin", "kotlin-script-runtime", version),
        jar("org.jetbrains.kotlin", "kotlin-daemon-embeddable", version),
        jar("org.jetbrains.kotlin", "kotlin-build-tools-api", version),
        jar("org.jetbrains.kotlin", "kotlin-reflect", "1.6.10"),
        jar("org.jetbrains.kotlinx", "kotlinx-coroutines-core-jvm", "1.8.0"),
        jar("org.jetbrains", "annotations", "13.0"),
    ).joinToString(File.pathSeparator)

    /** What a user program compiles against: the library and its dependencies, as this test sees them. */
    private fun libraryClasspath(): String = listOf(
        Client::class.java,
        KotlinVersion::class.java,
        kotlinx.coroutines.Job::class.java,
        kotlinx.serialization.json.Json::class.java,
        kotlinx.serialization.KSerializer::class.java,
        com.sun.jna.Native::class.java,
    ).map { File(it.protectionDomain.codeSource.location.toURI()).path }.distinct().joinToString(File.pathSeparator)

    @Test
    fun theCompilerRejectsAMisspeltFieldAndAcceptsItsTwin() {
        val dir = Files.createTempDirectory("misspelt").toFile()
        try {
            val misspelt = File(dir, "Misspelt.kt").apply {
                writeText("package probe\n\nimport ai.miosa.Sandbox\n\nfun misspelt(sandbox: Sandbox): String = sandbox.idd\n")
            }
            val twin = File(dir, "Spelt.kt").apply {
                writeText("package probe\n\nimport ai.miosa.Sandbox\n\nfun spelt(sandbox: Sandbox): String = sandbox.id\n")
            }
            val java = File(System.getProperty("java.home"), "bin/java").path
            // One compiler run for both files: the misspelt one must fail, naming the field, and the twin must raise no error.
            val process = ProcessBuilder(
                java, "-cp", compilerClasspath(), "org.jetbrains.kotlin.cli.jvm.K2JVMCompiler",
                "-no-stdlib", "-no-reflect", "-cp", libraryClasspath(),
                "-language-version", "2.0", "-api-version", "2.0", "-Xsuppress-version-warnings",
                "-d", File(dir, "out").path, misspelt.path, twin.path,
            ).redirectErrorStream(true).start()
            val output = process.inputStream.bufferedReader().readText()
            assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the compiler did not finish")
            assertNotEquals(0, process.exitValue(), output)
            val errors = output.lines().filter { "error:" in it }
            assertEquals(1, errors.size, output)
            assertTrue(errors[0].startsWith(misspelt.path) && "unresolved reference 'idd'" in errors[0], output)
        } finally {
            dir.deleteRecursively()
        }
    }
}
