// The whole table through the generated Swift surface, like the Kotlin
// OperationsTest: every entry of tests/calls.json in order against one fresh
// emulator, the result checked by return kind, the recorded request compared
// with `expect`. Prints the table total (`244/244`) with the seed's (`169/169`).
import Foundation
import XCTest
@testable import Miosa

final class OperationsTests: XCTestCase {
    /// Checks the value an operation returned; returns a complaint or nil.
    private func checkResult(_ info: OpInfo, _ entry: [String: Any], _ result: Any?) async throws -> String? {
        switch info.returns {
        case "events":
            guard let stream = result as? EventStream else { return "not an EventStream" }
            defer { stream.close() }
            guard let first = try await stream.next() else { return "the stream ended before its first event" }
            if first.event.isEmpty { return "an event without a type" }
            if (entry["stream"] as? String) == "to_end" {
                while try await stream.next() != nil {}
            } else {
                stream.close()
                if try await stream.next() != nil { return "next() after close() returned an event" }
            }
        case "socket":
            guard let socket = result as? Socket else { return "not a Socket" }
            defer { socket.close() }
            if socket.frames() == "exec" {
                // `true` runs to its end: the socket ends with exit code 0.
                while try await socket.next() != nil {}
                if socket.exitCode() != 0 { return "exit code \(String(describing: socket.exitCode())), expected 0" }
            }
            socket.close()
            if try await socket.next() != nil { return "next() after close() returned a message" }
        case "bytes":
            guard let data = result as? Data, !data.isEmpty else { return "empty or no bytes" }
        case "json":
            guard let text = result as? String else { return "not JSON text" }
            _ = try parseJSON(text)
        case "bool":
            guard (result as? Bool) == true else { return "expected true" }
        case "list":
            guard result is [Any] else { return "not a list" }
        case "page", "model":
            guard let value = result else { return "no value" }
            let labels = Mirror(reflecting: value).children.compactMap { $0.label }
            let wanted = info.returns == "page" ? "items" : "extra"
            if !labels.contains(wanted) { return "not a \(info.returns) record: \(value)" }
        default:
            return "unknown return kind \(info.returns)"
        }
        return nil
    }

    /// Compares the emulator's record of the last request with `expect`.
    private func checkRequest(_ expect: [String: Any], _ req: [String: Any]) -> [String] {
        var problems: [String] = []
        let method = req["method"] as? String, path = req["path"] as? String
        if method != expect["method"] as? String || path != expect["path"] as? String {
            problems.append("sent \(method ?? "-") \(path ?? "-"), expected \(expect["method"] ?? "-") \(expect["path"] ?? "-")")
        }
        if let want = expect["body_keys"] as? [String], keysOf(req["body"]) != want.sorted() {
            problems.append("body keys \(keysOf(req["body"])), expected \(want.sorted())")
        }
        if let want = expect["query_keys"] as? [String], keysOf(req["query"]) != want.sorted() {
            problems.append("query keys \(keysOf(req["query"])), expected \(want.sorted())")
        }
        if let want = expect["content_type"] as? String {
            let got = (req["headers"] as? [String: Any])?["content-type"] as? String
            if !(got?.hasPrefix(want) ?? false) { problems.append("content-type \(got ?? "-"), expected \(want)") }
        }
        return problems
    }

    func testEveryOperationAgainstTheEmulator() async throws {
        guard let calls = try JSONSerialization.jsonObject(with: try repoFile("tests/calls.json")) as? [[String: Any]] else {
            return XCTFail("tests/calls.json is not a list of objects")
        }
        let byName = Dictionary(uniqueKeysWithValues: operations.map { ($0.name, $0) })
        var failures: [String] = []
        var passed = Set<String>()
        try await withEmulator { emu in
            let user = try emu.client()
            let admin = try emu.client(admin: true)
            for entry in calls {
                let name = entry["op"] as? String ?? "?"
                guard let info = byName[name] else {
                    failures.append("\(name): not an operation of the generated surface")
                    continue
                }
                let client = (entry["auth"] as? String) == "admin" ? admin : user
                let args = CallArgs(args: entry["args"] as? [String: Any] ?? [:], params: entry["params"] as? [String: Any] ?? [:])
                let result: Any?
                do {
                    result = try await callOperation(client, name, args)
                } catch {
                    failures.append("\(name): \(error)")
                    continue
                }
                var problems: [String] = []
                if let complaint = try await checkResult(info, entry, result) { problems.append(complaint) }
                if let expect = entry["expect"] as? [String: Any] {
                    problems += checkRequest(expect, try await emu.lastRequest())
                }
                if problems.isEmpty { passed.insert(name) } else { failures += problems.map { "\(name): \($0)" } }
            }
        }
        let listed = Set(calls.compactMap { $0["op"] as? String })
        failures += operations.filter { !listed.contains($0.name) }.map { "\($0.name): no entry in tests/calls.json" }
        let seed = operations.filter { $0.seed }
        let total = operations.filter { passed.contains($0.name) }.count
        print("\(total)/\(operations.count) (\(seed.filter { passed.contains($0.name) }.count)/\(seed.count) seed)")
        XCTAssertEqual(seed.count, 169, "the seed surface has 169 operations")
        XCTAssertTrue(failures.isEmpty, "\(failures.count) failure(s):\n" + failures.joined(separator: "\n"))
    }
}
