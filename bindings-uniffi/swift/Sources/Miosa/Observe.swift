// What a program sees of the client's traffic: the HTTP response behind a
// result, log records to a closure, path transfers with progress, and the
// runtime the User-Agent names. Swift forms of the core's hooks (observe.rs).
import Foundation

/// A call's result and the HTTP response it came from.
public struct WithResponse<Value> {
    public let value: Value
    public let response: ResponseMeta
}

/// `withResponse` ran a block that made no call through the client it was given.
public struct NoResponseError: LocalizedError {
    public var errorDescription: String? {
        "withResponse: the block made no call through the client it was given"
    }
}

extension ResponseMeta {
    /// The first value of header `name` (any case), or nil.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// A closure as a `TransferProgress`.
final class ProgressClosure: TransferProgress, @unchecked Sendable {
    private let report: (Int64, Int64?) -> Void

    init(_ report: @escaping (Int64, Int64?) -> Void) {
        self.report = report
    }

    func onProgress(done: Int64, total: Int64?) {
        report(done, total)
    }
}

/// A closure as a `LogHandler`.
final class LogClosure: LogHandler, @unchecked Sendable {
    private let handle: (LogEntry) -> Void

    init(_ handle: @escaping (LogEntry) -> Void) {
        self.handle = handle
    }

    func log(entry: LogEntry) {
        handle(entry)
    }
}

/// Sends every log record at or above `minLevel` to `handler` (on the client's
/// I/O threads), for the whole process; `clearLogHandler()` stops it. Records
/// never hold the API key, a token, a query string or a body.
public func setLogHandler(minLevel: LogLevel = .info, _ handler: @escaping (LogEntry) -> Void) {
    setLogHandler(minLevel: minLevel, handler: LogClosure(handler))
}

extension Client {
    /// Runs `call` with a client that shares this one's connections and notes
    /// the HTTP response of each call made through it, and returns the result
    /// with the response of the latest one:
    ///
    ///     let raw = try await client.withResponse { try await $0.sandboxes().get(id: id) }
    ///     print(raw.response.status, raw.response.requestId ?? "")
    ///
    /// Each block has its own recorder, so concurrent blocks never see each other's responses.
    public func withResponse<T>(_ call: (Client) async throws -> T) async throws -> WithResponse<T> {
        let recorder = ResponseRecorder()
        let value = try await call(recordingResponses(recorder: recorder))
        guard let response = recorder.last() else {
            throw NoResponseError()
        }
        return WithResponse(value: value, response: response)
    }

    /// Downloads the sandbox file `remotePath` into `localPath` as it arrives,
    /// without holding it in memory; `onProgress` gets `(bytesDone, total)`
    /// (total nil when unknown) about once per MiB, on an I/O thread.
    public func downloadToPath(
        sandboxId: String, remotePath: String, localPath: URL,
        onProgress: ((Int64, Int64?) -> Void)? = nil
    ) async throws -> Int64 {
        try await downloadToPath(
            sandboxId: sandboxId, remotePath: remotePath, localPath: localPath.path,
            onProgress: onProgress.map { ProgressClosure($0) })
    }

    /// Uploads `localPath` to the sandbox path `remotePath`, reading it as it is sent.
    public func uploadFromPath(
        sandboxId: String, remotePath: String, localPath: URL,
        onProgress: ((Int64, Int64?) -> Void)? = nil
    ) async throws -> FileWritten {
        try await uploadFromPath(
            sandboxId: sandboxId, remotePath: remotePath, localPath: localPath.path,
            onProgress: onProgress.map { ProgressClosure($0) })
    }
}

/// The Swift language version this package was compiled with, as far as `#if swift` can tell.
private let compiledSwiftVersion: String = {
    #if swift(>=6.2)
    return "6.2"
    #elseif swift(>=6.1)
    return "6.1"
    #elseif swift(>=6.0)
    return "6.0"
    #elseif swift(>=5.10)
    return "5.10"
    #elseif swift(>=5.9)
    return "5.9"
    #else
    return "5"
    #endif
}()

/// Names Swift in the User-Agent before the first client is built (the
/// generated initializers call it); runs once.
enum SwiftRuntime {
    static let announced: Void = {
        // The text is fixed and valid header text, so this cannot fail.
        _ = try? setRuntime(runtime: "swift/\(compiledSwiftVersion)")
    }()

    static func announce() {
        _ = announced
    }
}

extension SandboxHandleFilesOps {
    /// `Client.downloadToPath` for this sandbox.
    public func downloadToPath(
        _ remotePath: String, to localPath: URL, onProgress: ((Int64, Int64?) -> Void)? = nil
    ) async throws -> Int64 {
        try await client.downloadToPath(
            sandboxId: id, remotePath: remotePath, localPath: localPath, onProgress: onProgress)
    }

    /// `Client.uploadFromPath` for this sandbox.
    public func uploadFromPath(
        _ localPath: URL, to remotePath: String, onProgress: ((Int64, Int64?) -> Void)? = nil
    ) async throws -> FileWritten {
        try await client.uploadFromPath(
            sandboxId: id, remotePath: remotePath, localPath: localPath, onProgress: onProgress)
    }
}
