// The seed's flows and the cross-cutting behaviour, mirroring the Kotlin
// ScenariosTest: First request, the white-label integrator flow, streams
// (consumed, cancelled), pagination, cancellation of a call by its Task.
import Foundation
import XCTest
@testable import Miosa

final class ScenariosTests: XCTestCase {
    /// The seed's "First request": create a sandbox, start it, run a command, print, destroy.
    func testFirstRequest() async throws {
        try await withEmulator { emu in
            let client = try emu.client()
            let sandbox = try await client.sandboxes().create(params: SandboxesCreateParams(name: "quick-exec"))
            let id = sandbox.id
            _ = try await client.computer().start(id: id)
            let result = try await client.exec().run(id: id, params: ExecRunParams(command: "python3 -c 'print(1 + 1)'"))
            XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "2")
            XCTAssertEqual(result.output, result.stdout, "exec results have the same fields on every route")
            XCTAssertEqual(result.exitCode, 0)
            _ = try await client.computer().destroy(id: id)
            let gone = await miosaError { try await client.sandboxes().get(id: id) }
            XCTAssertEqual(gone?.kind, "not_found")
            XCTAssertEqual(gone?.status, 404)
        }
    }

    /// The seed's "White-label integrator flow", with the proxy's tenant header on every request.
    func testWhiteLabelIntegratorFlow() async throws {
        try await withEmulator { emu in
            let client = try emu.client(headers: ["x-tenant-id": "acme-corp"])
            let endUser = "usr_123"

            let branding = jsonText(["product_name": "Acme Cloud", "primary_color": "#0050ff"])
            _ = try await client.tenant().setBranding(params: TenantSetBrandingParams(branding: branding))
            let shown = try await client.tenant().getBranding()
            XCTAssertEqual(shown.productName, "Acme Cloud", "branding echoed: \(shown)")
            _ = try await client.tenant().setPreviewDomain(domain: "preview.acme.dev")

            let webhook = try await client.webhooks().create(params: WebhooksCreateParams(
                url: "https://hooks.acme.dev/miosa", events: ["sandbox.ready", "sandbox.destroyed"]
            ))
            let secret = try XCTUnwrap(webhook.secret)
            XCTAssertFalse(String(reflecting: webhook).contains(secret), "debugDescription hides the webhook secret")

            let quota = try await client.quotas().set(externalUserId: endUser, params: QuotasSetParams(maxSandboxes: 5))
            XCTAssertEqual(quota.maxSandboxes, 5)

            let sandbox = try await client.sandboxes().create(params: SandboxesCreateParams(
                name: "acme-user-workspace", externalWorkspaceId: "ws_acme", externalUserId: endUser
            ))
            let id = sandbox.id
            XCTAssertEqual(sandbox.externalUserId, endUser)
            let ready = try await client.sandboxes().waitUntilReady(id: id, params: SandboxesWaitUntilReadyParams(timeout: 60))
            XCTAssertTrue(ready)

            let files: [[String: String]] = [
                ["path": "/workspace/index.html", "content_base64": Data("<h1>Acme</h1>\n".utf8).base64EncodedString()],
                ["path": "/workspace/app.py", "content_base64": Data("print('hi')\n".utf8).base64EncodedString()],
            ]
            _ = try await client.sandbox().files().writeMany(id: id, files: jsonText(files))
            let page = try await client.sandbox().files().read(id: id, path: "/workspace/index.html")
            XCTAssertEqual(String(decoding: page, as: UTF8.self), "<h1>Acme</h1>\n")

            let token = try await client.sandboxes().previewToken(id: id, params: SandboxesPreviewTokenParams(expiresIn: 3600, scope: "read"))
            XCTAssertNotNil(token.url)
            XCTAssertFalse(String(reflecting: token).contains(token.token), "debugDescription hides the token")
            let share = try await client.sandbox().share().create(id: id, params: SandboxShareCreateParams(scope: "read"))
            XCTAssertNotNil(share.shareUrl)

            let usage = try await client.usage().get(params: UsageGetParams(groupBy: "external_user_id"))
            XCTAssertTrue(try parseJSON(usage.results) is [Any])

            _ = try await client.sandboxes().delete(id: id)
            let gone = await miosaError { try await client.sandboxes().get(id: id) }
            XCTAssertEqual(gone?.kind, "not_found")

            let sent = try await emu.requests(12)
            XCTAssertEqual(sent.count, 12)
            for req in sent {
                let headers = req["headers"] as? [String: Any]
                XCTAssertEqual(headers?["x-tenant-id"] as? String, "acme-corp", "tenant header on \(req["path"] ?? "-")")
            }
        }
    }

    /// An SSE stream consumed to its end with `for try await`, and one cancelled mid-way.
    func testStreamsConsumedAndCancelled() async throws {
        try await withEmulator { emu in
            let client = try emu.client()
            let messages = jsonText([["role": "user", "content": "hi"]])
            var chunks: [Event] = []
            for try await event in try await client.completions().stream(
                params: CompletionsStreamParams(model: "miosa-small", messages: messages)
            ) {
                chunks.append(event)
            }
            XCTAssertFalse(chunks.isEmpty)
            XCTAssertFalse(chunks.contains { $0.data == "[DONE]" })

            // files.watch never ends by itself: cancelling the Task that iterates it must close it.
            let watch = try await client.sandbox().files().watch(id: "sbx_fixture", params: SandboxFilesWatchParams(path: "/workspace"))
            let inbox = Inbox()
            let consumer = Task {
                for try await event in watch { await inbox.add(event) }
            }
            try await eventually { await inbox.count() >= 1 }
            let ready = await inbox.at(0)
            XCTAssertEqual(ready.event, "ready")
            _ = try await client.sandbox().files().write(id: "sbx_fixture", path: "/workspace/watched.txt", content: Data("x".utf8))
            try await eventually { await inbox.count() >= 2 }
            let change = await inbox.at(1)
            let body = try XCTUnwrap(try parseJSON(change.data) as? [String: Any])
            XCTAssertEqual(body["event"] as? String, "created")
            let started = Date()
            consumer.cancel()
            _ = await consumer.result
            XCTAssertLessThan(Date().timeIntervalSince(started), 2, "cancelling the consuming Task ends the stream")
            let after = try await watch.next()
            XCTAssertNil(after, "the stream was closed")

            // close() from elsewhere ends a next() that is already waiting.
            let quiet = try await client.sandbox().files().watch(id: "sbx_fixture", params: SandboxFilesWatchParams(path: "/workspace"))
            let opened = try await quiet.next()
            XCTAssertEqual(opened?.event, "ready")
            let pending = Task { try await quiet.next() }
            try await Task.sleep(nanoseconds: 200_000_000)
            quiet.close()
            let ended = try await pending.value
            XCTAssertNil(ended)

            // Leaving the loop early closes the stream too.
            for try await _ in try await client.sandbox().events().stream(id: "sbx_fixture") { break }
        }
    }

    /// The audit log walked with a pager across several pages, checked against a manual page walk.
    func testPaginationWalk() async throws {
        try await withEmulator { emu in
            let client = try emu.client()
            for n in 0..<4 {
                _ = try await client.webhooks().create(params: WebhooksCreateParams(
                    url: "https://example.com/hook/\(n)", events: ["sandbox.ready"]
                ))
            }
            let admin = try emu.client(admin: true)
            var walked: [AuditEntry] = []
            for try await entry in try admin.auditLog().iter(params: AuditLogListParams(limit: 2)) {
                walked.append(entry)
            }
            XCTAssertGreaterThan(walked.count, 4)
            let pages = try await emu.requests(100).filter { ($0["path"] as? String) == "/api/v1/audit-log" }
            XCTAssertGreaterThanOrEqual(pages.count, 3)

            var manual: [AuditEntry] = []
            var cursor: String? = nil
            repeat {
                let page = try await admin.auditLog().list(params: AuditLogListParams(limit: 2, after: cursor))
                manual += page.items
                cursor = page.nextCursor
            } while cursor != nil
            XCTAssertEqual(manual.map(\.id), walked.map(\.id))
        }
    }

    /// Cancelling the Task of a call aborts its HTTP request (through `Client.cancellable`).
    func testCancellingACallWithItsTask() async throws {
        try await withEmulator { emu in
            let client = try emu.client()
            let marker = "/workspace/cancel-\(UUID().uuidString).txt"
            let call = Task {
                try await client.cancellable { c in
                    try await c.sandbox().exec().run(id: "sbx_fixture", params: SandboxExecRunParams(command: "sleep 2 && echo late > \(marker)"))
                }
            }
            try await eventually {
                try await emu.requests(1).contains { ($0["path"] as? String)?.hasSuffix("/exec") == true }
            }
            let started = Date()
            call.cancel()
            let outcome = await call.result
            XCTAssertLessThan(Date().timeIntervalSince(started), 1)
            guard case .failure(let error) = outcome, let miosa = error as? MiosaError else {
                return XCTFail("expected MiosaError.cancelled, got \(outcome)")
            }
            XCTAssertEqual(miosa.kind, "cancelled")

            let still = try await client.sandboxes().get(id: "sbx_fixture")
            XCTAssertEqual(still.id, "sbx_fixture", "the client is still usable")
            try await Task.sleep(nanoseconds: 3_000_000_000)
            let missing = await miosaError { try await client.sandbox().files().read(id: "sbx_fixture", path: marker) }
            XCTAssertEqual(missing?.kind, "not_found", "the server never finished the aborted command")
        }
    }

    /// Per-call options, and descriptions that never show credentials.
    func testOptionsAndSecrets() async throws {
        try await withEmulator { emu in
            let client = try emu.client()
            let tagged = try client.withOptions(options: RequestOptions(extraHeaders: ["x-trace": "t-1"], extraQuery: #"{"probe": "1"}"#))
            _ = try await tagged.sandboxes().get(id: "sbx_fixture")
            let req = try await emu.lastRequest()
            XCTAssertEqual((req["headers"] as? [String: Any])?["x-trace"] as? String, "t-1")
            XCTAssertEqual((req["query"] as? [String: Any])?["probe"] as? String, "1")
            XCTAssertFalse(String(reflecting: client).contains(emu.apiKey))

            do {
                _ = try Client(apiKey: "sk_not_a_miosa_key")
                XCTFail("a key without msk_ is refused")
            } catch let error as MiosaError {
                XCTAssertEqual(error.kind, "invalid_argument")
                XCTAssertFalse(error.message.contains("sk_not_a_miosa_key"))
            }
        }
    }
}
