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
            guard let error = $0 as? WebhookError, case .InvalidSignature = error else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try verifyWebhook(payload: Data("tampered".utf8), signature: current, secret: secret))
        let legacy = try XCTUnwrap((v["legacy_scheme"] as? [String: Any])?["header"] as? String)
        XCTAssertThrowsError(try verifyWebhook(payload: body, signature: legacy, secret: secret)) {
            guard let error = $0 as? WebhookError, case .TimestampTooOld = error else { return XCTFail("\($0)") }
        }
        for header in v["malformed_headers"] as? [String] ?? [] {
            XCTAssertThrowsError(try verifyWebhook(payload: body, signature: header, secret: secret))
        }
    }
}
