// Every error class of MiosaError, mirroring the Kotlin ErrorsTest: each
// provoked for real against the emulator (or before the network for local
// mistakes), plus the shared error-body vectors served by the emulator.
import Foundation
import XCTest
@testable import Miosa

final class ErrorsTests: XCTestCase {
    /// The common contract: status, a message, the error body as JSON, the request id.
    private func checkHttp(_ error: MiosaError?, _ kind: String, _ status: Int, file: StaticString = #filePath, line: UInt = #line) {
        guard let error else { return XCTFail("no error", file: file, line: line) }
        XCTAssertEqual(error.kind, kind, file: file, line: line)
        XCTAssertEqual(error.status, status, file: file, line: line)
        XCTAssertFalse(error.message.isEmpty, file: file, line: line)
        XCTAssertNotNil(error.body.flatMap { try? parseJSON($0) as? [String: Any] }, "body is JSON text", file: file, line: line)
        XCTAssertTrue(error.requestId?.hasPrefix("req_") ?? false, "request id \(error.requestId ?? "-")", file: file, line: line)
    }

    func testEveryHttpErrorClass() async throws {
        try await withEmulator { emu in
            let client = try emu.client()

            let stranger = try Client(apiKey: "msk_wrong_key_000", options: ClientOptions(baseUrl: emu.baseUrl))
            checkHttp(await miosaError { try await stranger.sandboxes().get(id: "sbx_fixture") }, "authentication", 401)

            _ = try await emu.control("PUT", "credits", #"{"balance": 0}"#)
            checkHttp(await miosaError { try await client.sandboxes().create(params: SandboxesCreateParams(name: "no-credits")) }, "insufficient_credits", 402)
            _ = try await emu.control("PUT", "credits", #"{"balance": 100000}"#)

            let denied = await miosaError { try await client.admin().tenants().list() }
            checkHttp(denied, "permission_denied", 403)
            XCTAssertEqual(denied?.code, "FORBIDDEN")

            checkHttp(await miosaError { try await client.sandboxes().get(id: "sbx_does_not_exist") }, "not_found", 404)

            _ = try await client.computer().destroy(id: "cmp_fixture_del")
            checkHttp(await miosaError { try await client.computer().restart(id: "cmp_fixture_del") }, "conflict", 409)

            let invalid = await miosaError { try await client.sandboxes().create(params: SandboxesCreateParams(size: "gigantic")) }
            checkHttp(invalid, "validation", invalid?.status ?? 422)
            XCTAssertTrue([400, 422].contains(invalid?.status ?? 0))

            try await emu.fault("/sandboxes/sbx_fixture", status: 429, retryAfter: "3")
            let limited = await miosaError { try await client.sandboxes().get(id: "sbx_fixture") }
            checkHttp(limited, "rate_limited", 429)
            XCTAssertEqual(limited?.retryAfterMs, 3000)

            try await emu.fault("/sandboxes/sbx_fixture", status: 503)
            checkHttp(await miosaError { try await client.sandboxes().get(id: "sbx_fixture") }, "server", 503)

            try await emu.fault("/sandboxes/sbx_fixture", status: 418)
            checkHttp(await miosaError { try await client.sandboxes().get(id: "sbx_fixture") }, "api", 418)
        }
    }

    func testTransportAndLocalErrorClasses() async throws {
        try await withEmulator { emu in
            try await emu.fault("/sandboxes/sbx_fixture", delayMs: 3000)
            let impatient = try emu.client(timeout: 0.3)
            let timeout = await miosaError { try await impatient.sandboxes().get(id: "sbx_fixture") }
            XCTAssertEqual(timeout?.kind, "timeout")
            XCTAssertNil(timeout?.status)

            let nowhere = try Client(apiKey: emu.apiKey, options: ClientOptions(baseUrl: "http://127.0.0.1:9/api/v1"))
            let refused = await miosaError { try await nowhere.sandboxes().get(id: "sbx_fixture") }
            XCTAssertEqual(refused?.kind, "connection")

            try await emu.fault("/sandboxes/sbx_fixture", status: 200, body: ["not", "a", "sandbox"])
            let decode = await miosaError { try await emu.client().sandboxes().get(id: "sbx_fixture") }
            XCTAssertEqual(decode?.kind, "decode")

            let blank = await miosaError { try await emu.client().sandboxes().get(id: " ") }
            XCTAssertEqual(blank?.kind, "invalid_argument")
            let broken = await miosaError { try await emu.client().sandbox().files().writeMany(id: "sbx_fixture", files: "[{broken") }
            XCTAssertEqual(broken?.kind, "invalid_argument")
        }
    }

    /// A 500 five times with three attempts allowed: a Server error that reports its three attempts
    /// (mirrors the Kotlin ReliabilityTest.serverErrorsBeyondMaxAttemptsAreServer).
    func testServerErrorsBeyondMaxAttemptsReportTheAttempts() async throws {
        try await withEmulator { emu in
            try await emu.fault("/sandboxes/sbx_fixture", status: 500, times: 5)
            let retrying = try Client(
                apiKey: emu.apiKey,
                options: ClientOptions(baseUrl: emu.baseUrl, maxRetries: 2, retryBaseDelay: 0.01, retryMaxDelay: 0.05)
            )
            let error = await miosaError { try await retrying.sandboxes().get(id: "sbx_fixture") }
            XCTAssertEqual(error?.kind, "server")
            XCTAssertEqual(error?.status, 500)
            XCTAssertEqual(error?.attempts, 3)
        }
    }

    /// tests/errors/cases.json, each JSON-object body served by the emulator with its status.
    func testSharedErrorVectors() async throws {
        let cases = try XCTUnwrap(try jsonObject(try repoFile("tests/errors/cases.json"))["cases"] as? [[String: Any]])
        try await withEmulator { emu in
            let client = try emu.client()
            var checked = 0
            for item in cases {
                let name = item["name"] as? String ?? "?"
                let text: String
                if let file = item["body_file"] as? String {
                    text = String(decoding: try repoFile("tests/errors/\(file)"), as: UTF8.self)
                } else {
                    text = item["body"] as? String ?? ""
                }
                // The emulator serves JSON-object bodies as they are and sets its own request id.
                guard let body = (try? parseJSON(text)) as? [String: Any] else { continue }
                let headers = item["headers"] as? [String: String] ?? [:]
                if headers["X-Request-ID"] != nil { continue }
                let status = item["status"] as? Int ?? 0
                try await emu.fault("/sandboxes/sbx_fixture", status: status, body: body, retryAfter: headers["Retry-After"])
                guard let error = await miosaError({ try await client.sandboxes().get(id: "sbx_fixture") }) else { continue }
                let expect = item["expect"] as? [String: Any] ?? [:]
                XCTAssertEqual(error.kind, expect["kind"] as? String, name)
                XCTAssertEqual(error.status, status, name)
                if let message = expect["message"] as? String { XCTAssertEqual(error.message, message, name) }
                if expect.keys.contains("code") { XCTAssertEqual(error.code, expect["code"] as? String, name) }
                if let retry = expect["retry_after_ms"] as? NSNumber { XCTAssertEqual(error.retryAfterMs, retry.intValue, name) }
                checked += 1
            }
            XCTAssertGreaterThanOrEqual(checked, 12)
        }
    }
}
