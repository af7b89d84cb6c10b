// The shared vectors run through the binding, mirroring the Kotlin VectorsTest:
// SSE parsing (tests/sse) and webhook signatures (tests/webhooks).
import Foundation
import XCTest
@testable import Miosa

final class VectorsTests: XCTestCase {
    func testSseVectorsWholeBytewiseAndSplitEverywhere() throws {
        let vectors = try XCTUnwrap(try jsonObject(try repoFile("tests/sse/vectors.json"))["vectors"] as? [[String: Any]])
        var runs = 0
        for vector in vectors {
            let name = vector["name"] as? String ?? "?"
            let input = Data((vector["input"] as? String ?? "").utf8)
            let expected = (vector["expected"] as? [[String: Any]] ?? []).map { e in
                Event(
                    event: e["event"] as? String ?? "",
                    data: e["data"] as? String ?? "",
                    id: e["id"] as? String,
                    retry: (e["retry"] as? NSNumber)?.int64Value
                )
            }
            var splits: [[Data]] = [[input], input.map { Data([$0]) }]
            for at in 0...input.count {
                splits.append([input.prefix(at), input.suffix(from: at)].map { Data($0) })
            }
            for chunks in splits {
                XCTAssertEqual(parseSse(chunks: chunks), expected, "\(name), chunks \(chunks.map(\.count))")
                runs += 1
            }
        }
        XCTAssertGreaterThan(runs, vectors.count * 3)
    }

    func testWebhookSignatureVectors() throws {
        let v = try jsonObject(try repoFile("tests/webhooks/signature_vectors.json"))
        let secret = try XCTUnwrap(v["secret"] as? String)
        let body = Data(try XCTUnwrap(v["body"] as? String).utf8)
        let current = try XCTUnwrap((v["current_scheme"] as? [String: Any])?["header"] as? String)
        XCTAssertNoThrow(try verifyWebhook(payload: body, signature: current, secret: secret))
        XCTAssertThrowsError(try verifyWebhook(payload: body, signature: try XCTUnwrap(v["wrong_secret_header"] as? String), secret: secret)) {
            guard let error = $0 as? WebhookError, case .invalidSignature = error else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try verifyWebhook(payload: Data("tampered".utf8), signature: current, secret: secret))
        let legacy = try XCTUnwrap((v["legacy_scheme"] as? [String: Any])?["header"] as? String)
        XCTAssertThrowsError(try verifyWebhook(payload: body, signature: legacy, secret: secret)) {
            guard let error = $0 as? WebhookError, case .timestampTooOld = error else { return XCTFail("\($0)") }
        }
        for header in v["malformed_headers"] as? [String] ?? [] {
            XCTAssertThrowsError(try verifyWebhook(payload: body, signature: header, secret: secret))
        }
    }

    /// The refusal code of a webhook error (`invalid_argument` for the caller's input).
    private func code(_ error: WebhookError) -> String {
        switch error {
        case .missingSignature: return "missing_signature"
        case .malformedHeader: return "malformed_header"
        case .invalidSignature: return "invalid_signature"
        case .timestampTooOld: return "timestamp_too_old"
        case .invalidPayload: return "invalid_payload"
        case .invalidArgument: return "invalid_argument"
        }
    }

    /// A vector's `now`/`tolerance`: a number, or the name of a non-finite one.
    private func seconds(_ value: Any?) -> Double? {
        if let text = value as? String { return Double(text) }
        return (value as? NSNumber)?.doubleValue
    }

    func testWebhookBadInputVectors() throws {
        let v = try jsonObject(try repoFile("tests/webhooks/signature_vectors.json"))
        let body = Data(try XCTUnwrap(v["body"] as? String).utf8)
        let cases = try XCTUnwrap(v["bad_input"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let expect = try XCTUnwrap(c["expect"] as? [String: String])
            let want = expect["error"] == "invalid_argument" ? "invalid_argument" : expect["code"]
            let signature = c["signature"] as? String
            let secret = c["secret"] as? String
            let (tolerance, now) = (seconds(c["tolerance"]), seconds(c["now"]))
            XCTAssertThrowsError(
                try verifyWebhook(payload: body, signature: signature, secret: secret, toleranceSeconds: tolerance, nowUnix: now), name
            ) {
                guard let error = $0 as? WebhookError else { return XCTFail("\(name): \($0)") }
                XCTAssertEqual(self.code(error), want, name)
            }
            let headers = signature.map { ["x-miosa-signature": $0] } ?? [:]
            XCTAssertThrowsError(
                try unwrapWebhook(payload: body, headers: headers, secret: secret, toleranceSeconds: tolerance, nowUnix: now), name
            ) {
                guard let error = $0 as? WebhookError else { return XCTFail("\(name): \($0)") }
                XCTAssertEqual(self.code(error), want, name)
            }
        }
    }

    func testWebhookUnwrapVectors() throws {
        let v = try jsonObject(try repoFile("tests/webhooks/signature_vectors.json"))
        let secret = try XCTUnwrap(v["secret"] as? String)
        let body = Data(try XCTUnwrap(v["body"] as? String).utf8)
        let u = try XCTUnwrap(v["unwrap"] as? [String: Any])
        let event = try XCTUnwrap(u["event"] as? NSDictionary)
        for headers in try XCTUnwrap(u["valid_headers"] as? [[String: String]]) {
            let text = try unwrapWebhook(payload: body, headers: headers, secret: secret)
            let got = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary
            XCTAssertEqual(got, event)
        }
        for c in try XCTUnwrap(u["refused"] as? [[String: Any]]) {
            let name = c["name"] as? String ?? "?"
            let caseBody = Data(try XCTUnwrap(c["body"] as? String).utf8)
            let headers = try XCTUnwrap(c["headers"] as? [String: String])
            let want = (c["expect"] as? [String: String])?["code"]
            XCTAssertThrowsError(try unwrapWebhook(payload: caseBody, headers: headers, secret: secret), name) {
                guard let error = $0 as? WebhookError else { return XCTFail("\(name): \($0)") }
                XCTAssertEqual(self.code(error), want, name)
            }
        }
    }
}
