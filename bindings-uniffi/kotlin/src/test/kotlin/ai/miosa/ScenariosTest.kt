// The seed's flows and the cross-cutting behaviour, through the Kotlin surface,
// each test against its own fresh miosa-emulator: First request, the
// white-label integrator flow, streams (consumed, cancelled), pagination,
// cancellation of a suspended call, and what a Kotlin user sees of secrets.
package ai.miosa

import java.util.UUID
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.measureTime
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.async
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.serialization.json.add
import kotlinx.serialization.json.buildJsonArray
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.put
import kotlinx.serialization.json.putJsonObject
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class ScenariosTest {
    private fun scenario(block: suspend CoroutineScope.(Emulator) -> Unit) = runBlocking { Emulator().use { block(it) } }

    /** The seed's "First request": create a sandbox, start it, run a command, print, destroy. */
    @Test
    fun firstRequest() = scenario { emu ->
        val client = emu.client()
        val sandbox = client.sandboxes().create(SandboxesCreateParams(name = "quick-exec"))
        val id = sandbox.id
        client.computer().start(id)
        val result = client.exec().run(id, ExecRunParams(command = "python3 -c 'print(1 + 1)'"))
        assertEquals("2", result.output.trim())
        assertEquals(result.output, result.stdout, "exec results have the same fields on every route")
        assertEquals(0L, result.exitCode)
        client.computer().destroy(id)
        val gone = assertThrows<MiosaException.NotFound> { client.sandboxes().get(id) }
        assertEquals(404, gone.status)
    }

    /**
     * The seed's "White-label integrator flow": brand the tenant, point previews at a
     * custom domain, subscribe a webhook, cap an end user's quota, create a sandbox
     * attributed to that user, wait for it, write files, mint a preview token and a
     * share link, read usage, destroy. Every request carries the proxy's tenant header.
     */
    @Test
    fun whiteLabelIntegratorFlow() = scenario { emu ->
        val client = emu.client(options = ClientOptions(headers = mapOf("x-tenant-id" to "acme-corp")))
        val endUser = "usr_123"

        val branding = buildJsonObject {
            putJsonObject("branding") {
                put("product_name", "Acme Cloud")
                put("primary_color", "#0050ff")
            }
        }
        client.tenant().setBranding(TenantSetBrandingParams(branding = branding["branding"].toString()))
        val shown = client.tenant().getBranding()
        assertEquals("Acme Cloud", shown.productName, "branding echoed: $shown")
        client.tenant().setPreviewDomain("preview.acme.dev")

        val webhook = client.webhooks().create(
            WebhooksCreateParams(
                url = "https://hooks.acme.dev/miosa",
                events = listOf("sandbox.ready", "sandbox.destroyed"),
            ),
        )
        val secret = checkNotNull(webhook.secret)
        assertFalse(webhook.toString().contains(secret), "toString() hides the webhook secret")

        val quota = client.quotas().set(endUser, QuotasSetParams(maxSandboxes = 5))
        assertEquals(5L, quota.maxSandboxes)

        val sandbox = client.sandboxes().create(
            SandboxesCreateParams(name = "acme-user-workspace", externalUserId = endUser, externalWorkspaceId = "ws_acme"),
        )
        val id = sandbox.id
        assertEquals(endUser, sandbox.externalUserId)
        assertTrue(client.sandboxes().waitUntilReady(id, SandboxesWaitUntilReadyParams(timeout = 60.0)))

        val files = listOf(
            FileWrite("/workspace/index.html", "<h1>Acme</h1>\n".toByteArray()),
            FileWrite("/workspace/app.py", "print('hi')\n".toByteArray()),
        )
        client.sandbox().files().writeMany(id, files)
        assertEquals("<h1>Acme</h1>\n", client.sandbox().files().read(id, "/workspace/index.html").decodeToString())

        val token = client.sandboxes().previewToken(id, SandboxesPreviewTokenParams(expiresIn = 3600, scope = "read"))
        assertNotNull(token.url)
        val share = client.sandbox().share().create(id, SandboxShareCreateParams(scope = "read"))
        assertNotNull(share.shareUrl)
        assertFalse(token.toString().contains(token.token), "toString() hides the preview token: $token")
        assertFalse(share.toString().contains(share.shareUrl.substringAfter('?')), "toString() hides the share link: $share")

        val usage = client.usage().get(UsageGetParams(groupBy = "external_user_id"))
        assertNotNull(usage.results)
        parseJson(usage.results).jsonArray

        client.sandboxes().delete(id)
        assertThrows<MiosaException.NotFound> { client.sandboxes().get(id) }

        val sent = emu.requests(50).filter { it["path"]!!.jsonPrimitive.content.startsWith("/api/v1/") }
        assertTrue(sent.size >= 12)
        for (req in sent.filter { !it["path"]!!.jsonPrimitive.content.contains("/_emulator/") }.takeLast(12)) {
            val headers = req["headers"]!!.jsonObject
            assertEquals("acme-corp", headers["x-tenant-id"]?.jsonPrimitive?.content, "tenant header on ${req["path"]}")
        }
    }

    /** An SSE stream consumed as a Flow to its end, and one cancelled mid-way. */
    @Test
    fun streamsConsumedAndCancelled() = scenario { emu ->
        val client = emu.client()

        val messages = buildJsonArray { add(buildJsonObject { put("role", "user"); put("content", "hi") }) }
        val chunks = client.completions()
            .stream(CompletionsStreamParams(model = "miosa-small", messages = messages.toString()))
            .asFlow().toList()
        assertTrue(chunks.isNotEmpty())
        assertTrue(chunks.none { it.data == "[DONE]" }, "the [DONE] sentinel ends the stream, it is no event")
        chunks.forEach { parseJson(it.data).jsonObject }

        // files.watch never ends by itself: cancelling the collector must close it.
        // The watch is armed once it is open: it reports changes only.
        val watch = client.sandbox().files().watch("sbx_fixture", SandboxFilesWatchParams(path = "/workspace"))
        val seen = Channel<Event>(Channel.UNLIMITED)
        val collector = launch { watch.asFlow().collect { seen.send(it) } }
        client.sandbox().files().write("sbx_fixture", "/workspace/watched.txt", "x".toByteArray())
        val change = parseJson(withTimeout(5.seconds) { seen.receive() }.data).jsonObject
        assertEquals("created", change["event"]?.jsonPrimitive?.content)
        assertTrue(change["path"]!!.jsonPrimitive.content.endsWith("watched.txt"))
        val took = measureTime { collector.cancel(); collector.join() }
        assertTrue(took < 2.seconds, "cancelling the collector took $took")
        assertTrue(watch.uniffiIsDestroyed, "the flow frees the stream when its collector is cancelled")

        // cancel() from elsewhere ends a next() that is already waiting.
        val quiet = client.sandbox().files().watch("sbx_fixture", SandboxFilesWatchParams(path = "/workspace"))
        quiet.use { stream ->
            val pending = async { stream.next() }
            delay(200.milliseconds)
            stream.cancel()
            assertNull(withTimeout(2.seconds) { pending.await() })
            assertNull(stream.next(), "a cancelled stream stays ended")
        }

        // take(n) stops early and closes the stream too.
        val first = client.sandbox().events().stream("sbx_fixture").asFlow().take(1).toList()
        assertEquals(1, first.size)
    }

    /** The audit log walked with a pager Flow across several pages, checked against a manual page walk. */
    @Test
    fun paginationWalk() = scenario { emu ->
        val client = emu.client()
        repeat(4) {
            client.webhooks().create(WebhooksCreateParams(url = "https://example.com/hook/$it", events = listOf("sandbox.ready")))
        }
        val admin = emu.client(admin = true)

        val viaFlow = admin.auditLog().iter(AuditLogListParams(limit = 2)).asFlow().toList()
        assertTrue(viaFlow.size > 4, "the walk spans several pages (${viaFlow.size} entries)")
        val pages = emu.requests(100).filter { it["path"]!!.jsonPrimitive.content == "/api/v1/audit-log" }
        assertTrue(pages.size >= 3, "one request per page, got ${pages.size}")
        assertTrue(pages.drop(1).all { "after" in it["query"]!!.jsonObject }, "later pages carry the cursor")

        val manual = mutableListOf<AuditEntry>()
        var cursor: String? = null
        do {
            val page = admin.auditLog().list(AuditLogListParams(limit = 2, cursor = cursor))
            manual += page.items
            cursor = page.nextCursor
        } while (cursor != null)
        assertEquals(manual.map { it.id }, viaFlow.map { it.id })

        val pager = admin.auditLog().iter(AuditLogListParams(limit = 3))
        pager.use {
            assertEquals(3, it.nextPage()!!.items.size)
            it.cancel()
            assertNull(it.next(), "a cancelled pager fetches nothing more")
        }
    }

    /** Cancelling the coroutine of a suspended call aborts the HTTP request. */
    @Test
    fun cancellingASuspendedCall() = scenario { emu ->
        val client = emu.client()
        val marker = "/workspace/cancel-${UUID.randomUUID()}.txt"
        val call = async {
            client.sandbox().exec().run("sbx_fixture", SandboxExecRunParams(command = "sleep 2 && echo late > $marker"))
        }
        withTimeout(5.seconds) {
            while (emu.requests(1).none { it["path"]!!.jsonPrimitive.content.endsWith("/exec") }) delay(20.milliseconds)
        }
        val took = measureTime {
            call.cancel()
            assertThrows<CancellationException> { call.await() }
        }
        assertTrue(took < 1.seconds, "cancellation took $took")

        // withTimeout cancels the same way.
        val timedOut = measureTime {
            assertThrows<TimeoutCancellationException> {
                withTimeout(300.milliseconds) { client.sandbox().exec().run("sbx_fixture", SandboxExecRunParams(command = "sleep 5")) }
            }
        }
        assertTrue(timedOut < 2.seconds, "withTimeout took $timedOut")

        // The client is still usable, and the server never finished the aborted command.
        assertEquals("sbx_fixture", client.sandboxes().get("sbx_fixture").id)
        delay(3.seconds)
        assertThrows<MiosaException.NotFound> { client.sandbox().files().read("sbx_fixture", marker) }
    }

    /**
     * A CancellationToken cancels the calls, streams and pagers of the clients derived from it:
     * what Swift's `Client.cancellable { }` uses, since UniFFI's Swift futures ignore Task cancellation.
     */
    @Test
    fun cancellationToken() = scenario { emu ->
        val token = CancellationToken()
        val scoped = emu.client().withCancellation(token)
        val stream = scoped.sandbox().files().watch("sbx_fixture", SandboxFilesWatchParams(path = "/workspace"))
        val call = async {
            runCatching { scoped.sandbox().exec().run("sbx_fixture", SandboxExecRunParams(command = "sleep 5")) }
        }
        val waiting = async { runCatching { stream.next() } }
        withTimeout(5.seconds) {
            while (emu.requests(1).none { it["path"]!!.jsonPrimitive.content.endsWith("/exec") }) delay(20.milliseconds)
        }
        val took = measureTime {
            token.cancel()
            val failure = call.await().exceptionOrNull()
            assertTrue(failure is MiosaException.Cancelled, "the call ends with Cancelled: $failure")
            assertTrue(waiting.await().exceptionOrNull() is MiosaException.Cancelled, "so does a waiting stream")
        }
        assertTrue(took < 1.seconds, "cancellation took $took")
        assertTrue(token.isCancelled())
        assertThrows<MiosaException.Cancelled> { scoped.sandboxes().get("sbx_fixture") }
        assertEquals("sbx_fixture", emu.client().sandboxes().get("sbx_fixture").id, "other clients are unaffected")
        stream.close()
    }

    /** Options: extra headers/query per call, and toString() never shows credentials. */
    @Test
    fun optionsAndSecrets() = scenario { emu ->
        val client = emu.client()
        // The query option names a field the call takes, so a strict emulator accepts it too.
        val tagged = client.withOptions(RequestOptions(extraHeaders = mapOf("x-trace" to "t-1"), extraQuery = """{"state": "running"}"""))
        tagged.sandboxes().list()
        val req = emu.lastRequest()
        assertEquals("t-1", req["headers"]!!.jsonObject["x-trace"]?.jsonPrimitive?.content)
        assertEquals("running", req["query"]!!.jsonObject["state"]?.jsonPrimitive?.content)

        assertFalse(client.toString().contains(emu.apiKey), "Client.toString() hides the key: $client")
        val options = ClientOptions(headers = mapOf("authorization-extra" to "s3cret-value"))
        assertFalse(options.toString().contains("s3cret-value"), "header values are hidden: $options")

        val bad = assertThrows<MiosaException.InvalidArgument> { Client("sk_not_a_miosa_key") }
        assertFalse(bad.errorMessage.contains("sk_not_a_miosa_key"))
        assertThrows<MiosaException.InvalidArgument> {
            client.sandboxes().update("sbx_fixture", SandboxesUpdateParams(metadata = "{not json"))
        }
    }
}
