// Test support, mirroring the Kotlin suite's Support.kt: a miosa-emulator child
// process per test, clients pointed at it, its control routes (through the
// binding's own requestJson), and the argument reader GeneratedCalls.swift uses.
import Foundation
import XCTest
@testable import Miosa

/// The repository root: this file is bindings-uniffi/swift/Tests/MiosaTests/Support.swift.
let repoRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .appendingPathComponent("../../../..")
    .standardized

func repoFile(_ path: String) throws -> Data {
    try Data(contentsOf: repoRoot.appendingPathComponent(path))
}

func jsonObject(_ data: Data) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw CallError.badJSON("expected a JSON object")
    }
    return object
}

/// JSON text of any JSON value.
func jsonText(_ value: Any) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) else {
        return "null"
    }
    return String(decoding: data, as: UTF8.self)
}

enum CallError: Error {
    case unknownOperation(String)
    case missingArgument(String)
    case badJSON(String)
    case emulator(String)
}

/// A miosa-emulator child process on a free loopback port; `stop()` ends it.
final class Emulator {
    private let process = Foundation.Process()
    private let output = Pipe()
    let baseUrl: String
    let apiKey: String
    let adminKey: String

    init() throws {
        let env = ProcessInfo.processInfo.environment
        let candidates = [
            env["MIOSA_EMULATOR"],
            repoRoot.appendingPathComponent("target/debug/miosa-emulator").path,
            repoRoot.appendingPathComponent("target/aarch64-apple-darwin/debug/miosa-emulator").path,
            repoRoot.appendingPathComponent("target/x86_64-unknown-linux-gnu/debug/miosa-emulator").path,
        ].compactMap { $0 }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CallError.emulator("no miosa-emulator binary: run `cargo build -p miosa-emulator` (or set MIOSA_EMULATOR)")
        }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "0"]
        process.standardOutput = output
        try process.run()
        let reader = output.fileHandleForReading
        var buffer = Data()
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        let line = String(decoding: buffer.prefix(while: { $0 != UInt8(ascii: "\n") }), as: UTF8.self)
        var fields: [String: String] = [:]
        for word in line.split(separator: " ") {
            let parts = word.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let url = fields["base_url"], let key = fields["api_key"], let admin = fields["admin_key"] else {
            process.terminate()
            throw CallError.emulator("unexpected first line: \(line)")
        }
        baseUrl = url
        apiKey = key
        adminKey = admin
        // Keep reading so a chatty emulator never blocks on a full pipe.
        reader.readabilityHandler = { handle in _ = handle.availableData }
    }

    func stop() {
        output.fileHandleForReading.readabilityHandler = nil
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
    }

    /// A client for the user key (or the admin key).
    func client(admin: Bool = false, headers: [String: String]? = nil, timeout: TimeInterval? = nil) throws -> Client {
        try Client(
            apiKey: admin ? adminKey : apiKey,
            options: ClientOptions(baseUrl: baseUrl, timeout: timeout, maxRetries: 0, headers: headers)
        )
    }

    /// Calls a control route under /_emulator/ and returns its JSON answer.
    func control(_ method: String, _ path: String, _ body: String? = nil) async throws -> Any {
        let text = try await client(admin: true).requestJson(method: method, path: "/_emulator/\(path)", body: body)
        return try parseJSON(text)
    }

    /// The newest `limit` recorded requests, oldest first.
    func requests(_ limit: Int) async throws -> [[String: Any]] {
        (try await control("GET", "requests?limit=\(limit)") as? [[String: Any]]) ?? []
    }

    /// The newest recorded request.
    func lastRequest() async throws -> [String: Any] {
        guard let last = try await requests(1).last else { throw CallError.emulator("no request recorded") }
        return last
    }

    /// A fault injected into the next matching GET (the next `times` ones, when given).
    func fault(_ path: String, status: Int? = nil, body: Any? = nil, retryAfter: String? = nil, delayMs: Int? = nil, times: Int? = nil) async throws {
        var fault: [String: Any] = ["path": path, "method": "GET"]
        if let times { fault["times"] = times }
        if let status { fault["status"] = status }
        if let body { fault["body"] = body }
        if let retryAfter { fault["retry_after"] = retryAfter }
        if let delayMs { fault["delay_ms"] = delayMs }
        _ = try await control("POST", "faults", jsonText(fault))
    }
}

/// Runs `body` against a fresh emulator.
func withEmulator(_ body: (Emulator) async throws -> Void) async throws {
    let emu = try Emulator()
    defer { emu.stop() }
    try await body(emu)
}

/// The error a call throws, or nil (and a test failure) when it throws none or another kind of error.
func miosaError<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> MiosaError? {
    do {
        _ = try await body()
        XCTFail("expected a MiosaError", file: file, line: line)
    } catch let error as MiosaError {
        return error
    } catch {
        XCTFail("expected a MiosaError, got \(error)", file: file, line: line)
    }
    return nil
}

/// One row of the operation table, as the generated dispatcher lists it.
struct OpInfo {
    let name: String
    let seed: Bool
    let positional: [String]
    let returns: String
}

/// Arguments by name for `callOperation`: positional ones from `args` (required),
/// keyword ones from `params` (optional). `{"$bytes": "text"}` stands for bytes.
struct CallArgs {
    let args: [String: Any]
    let params: [String: Any]

    private func arg(_ name: String) throws -> Any {
        guard let value = args[name] else { throw CallError.missingArgument(name) }
        return value
    }

    private func text(_ value: Any) -> String {
        if let s = value as? String { return s }
        if let n = value as? NSNumber { return n.stringValue }
        return jsonText(value)
    }

    func argStr(_ name: String) throws -> String { text(try arg(name)) }
    func argInt(_ name: String) throws -> Int {
        guard let n = try arg(name) as? NSNumber else { throw CallError.badJSON("\(name) is not a number") }
        return n.intValue
    }
    func argDouble(_ name: String) throws -> Double {
        guard let n = try arg(name) as? NSNumber else { throw CallError.badJSON("\(name) is not a number") }
        return n.doubleValue
    }
    func argBool(_ name: String) throws -> Bool {
        guard let b = try arg(name) as? Bool else { throw CallError.badJSON("\(name) is not a boolean") }
        return b
    }
    func argJson(_ name: String) throws -> String { jsonText(try arg(name)) }
    func argStrs(_ name: String) throws -> [String] {
        guard let list = try arg(name) as? [Any] else { throw CallError.badJSON("\(name) is not a list") }
        return list.map(text)
    }
    func argBytes(_ name: String) throws -> Data {
        let value = try arg(name)
        if let wrapped = value as? [String: Any], let text = wrapped["$bytes"] as? String {
            return Data(text.utf8)
        }
        return Data(text(value).utf8)
    }
    /// `write_many` items: `content` (text) or `content_base64` (decoded) as bytes.
    func argFiles(_ name: String) throws -> [FileWrite] {
        guard let list = try arg(name) as? [[String: Any]] else { throw CallError.badJSON("\(name) is not a list of objects") }
        return try list.map { item in
            guard let path = item["path"] as? String else { throw CallError.badJSON("\(name): an item has no path") }
            if let text = item["content"] as? String { return FileWrite(path: path, content: Data(text.utf8)) }
            guard let encoded = item["content_base64"] as? String, let data = Data(base64Encoded: encoded) else {
                throw CallError.badJSON("\(name): an item has no content")
            }
            return FileWrite(path: path, content: data)
        }
    }

    func str(_ name: String) -> String? { params[name].map(text) }
    func int(_ name: String) -> Int? { (params[name] as? NSNumber)?.intValue }
    func double(_ name: String) -> Double? { (params[name] as? NSNumber)?.doubleValue }
    func bool(_ name: String) -> Bool? { params[name] as? Bool }
    func json(_ name: String) -> String? { params[name].map(jsonText) }
    func strs(_ name: String) -> [String]? { (params[name] as? [Any])?.map(text) }

    /// The params the table does not list, as a JSON object text (nil when none).
    func extra(known: [String]) -> String? {
        let rest = params.filter { !known.contains($0.key) }
        return rest.isEmpty ? nil : jsonText(rest)
    }
}

/// Sorted keys of a JSON object (empty for anything else).
func keysOf(_ value: Any?) -> [String] {
    ((value as? [String: Any])?.keys).map { $0.sorted() } ?? []
}

/// Waits until `condition` holds, polling; fails after `timeout` seconds.
func eventually(timeout: TimeInterval = 5, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !(try await condition()) {
        if Date() > deadline { throw CallError.emulator("timed out after \(timeout) s") }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
}

/// Events handed from a consuming Task to the test.
actor Inbox {
    private var events: [Event] = []

    func add(_ event: Event) {
        events.append(event)
    }

    func count() -> Int {
        events.count
    }

    func at(_ index: Int) -> Event {
        events[index]
    }
}
