// Hand-written Swift conveniences over the UniFFI-generated surface (Miosa.swift):
// AsyncSequence for event streams (pagers: Pagers.swift), Task cancellation for
// calls, common accessors on MiosaError, and the JSON helper for untyped results.
import Foundation

/// An iterator over a pull-model `next()`. It ends at nil; on an error, when the
/// iterating Task is cancelled, or when the loop is left early it closes the source.
public struct PullIterator<Element>: AsyncIteratorProtocol {
    private let pull: () async throws -> Element?
    private let closer: Closer

    public init(next: @escaping () async throws -> Element?, close: @escaping () -> Void) {
        pull = next
        closer = Closer(close)
    }

    public mutating func next() async throws -> Element? {
        let pull = self.pull
        let closer = self.closer
        do {
            // UniFFI's Swift futures ignore Task cancellation; close() ends a pending next() instead.
            let item = try await withTaskCancellationHandler {
                try await pull()
            } onCancel: {
                closer.close()
            }
            if item == nil {
                closer.close()
            }
            return item
        } catch {
            closer.close()
            throw error
        }
    }
}

/// Runs its action once: when asked, or when the last iterator copy is gone (a `break`).
final class Closer: @unchecked Sendable {
    private let lock = NSLock()
    private var action: (() -> Void)?

    init(_ action: @escaping () -> Void) {
        self.action = action
    }

    func close() {
        lock.lock()
        let run = action
        action = nil
        lock.unlock()
        run?()
    }

    deinit {
        close()
    }
}

/// `for try await event in stream { ... }`: the loop consumes the stream and closes it when it ends.
extension EventStream: AsyncSequence {
    public typealias Element = Event

    public func makeAsyncIterator() -> PullIterator<Event> {
        PullIterator(next: { try await self.next() }, close: { self.close() })
    }
}

extension Client {
    /// Runs `body` with a client whose calls, streams and pagers are cancelled
    /// (`MiosaError.Cancelled`) when the current Task is, aborting their requests.
    /// UniFFI's Swift futures ignore Task cancellation, so this is how a Task cancels a call.
    public func cancellable<T>(_ body: (Client) async throws -> T) async throws -> T {
        let token = CancellationToken()
        let scoped = withCancellation(token: token)
        return try await withTaskCancellationHandler {
            try await body(scoped)
        } onCancel: {
            token.cancel()
        }
    }
}

/// Parses the JSON text of an untyped result (or of an event's `data`) with
/// `JSONSerialization`: `[String: Any]`, `[Any]`, `String`, `NSNumber`, `NSNull`.
/// Parameters typed as JSON text take e.g. `String(decoding: try JSONSerialization.data(withJSONObject: dict), as: UTF8.self)`.
public func parseJSON(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}

extension MiosaError {
    // Every case carries the same fields.
    private var fields: (message: String, status: Int32?, code: String?, body: String?, requestId: String?, retryAfterMs: Int64?, attempts: Int32) {
        switch self {
        case let .Authentication(m, s, c, b, r, ra, n),
             let .InsufficientCredits(m, s, c, b, r, ra, n),
             let .PermissionDenied(m, s, c, b, r, ra, n),
             let .NotFound(m, s, c, b, r, ra, n),
             let .Conflict(m, s, c, b, r, ra, n),
             let .Validation(m, s, c, b, r, ra, n),
             let .RateLimited(m, s, c, b, r, ra, n),
             let .Server(m, s, c, b, r, ra, n),
             let .Api(m, s, c, b, r, ra, n),
             let .Timeout(m, s, c, b, r, ra, n),
             let .Connection(m, s, c, b, r, ra, n),
             let .Decode(m, s, c, b, r, ra, n),
             let .InvalidArgument(m, s, c, b, r, ra, n),
             let .Cancelled(m, s, c, b, r, ra, n),
             let .Usage(m, s, c, b, r, ra, n),
             let .LimitExceeded(m, s, c, b, r, ra, n):
            return (m, s, c, b, r, ra, n)
        }
    }

    /// The server's (or the client's) message.
    public var message: String { fields.message }
    /// The HTTP status; nil for failures that never got an HTTP answer.
    public var status: Int32? { fields.status }
    /// The machine-readable code, such as `NOT_FOUND`.
    public var code: String? { fields.code }
    /// The error body as JSON text (parse it with `parseJSON`).
    public var body: String? { fields.body }
    /// The server's request id (`X-Request-ID`), when it sent one.
    public var requestId: String? { fields.requestId }
    /// How long the server asked to wait before retrying, in milliseconds.
    public var retryAfterMs: Int64? { fields.retryAfterMs }
    /// How many attempts the call made before it gave up (1 when it was not retried).
    public var attempts: Int32 { fields.attempts }

    /// The core's stable name of the error class (`not_found`, `rate_limited`, ...).
    public var kind: String {
        switch self {
        case .Authentication: return "authentication"
        case .InsufficientCredits: return "insufficient_credits"
        case .PermissionDenied: return "permission_denied"
        case .NotFound: return "not_found"
        case .Conflict: return "conflict"
        case .Validation: return "validation"
        case .RateLimited: return "rate_limited"
        case .Server: return "server"
        case .Api: return "api"
        case .Timeout: return "timeout"
        case .Connection: return "connection"
        case .Decode: return "decode"
        case .InvalidArgument: return "invalid_argument"
        case .Cancelled: return "cancelled"
        case .Usage: return "usage"
        case .LimitExceeded: return "limit_exceeded"
        }
    }
}
