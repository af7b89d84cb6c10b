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
    /// (`MiosaError.cancelled`) when the current Task is, aborting their requests.
    /// A single call already aborts with its Task (it throws `CancellationError`);
    /// this also reaches streams and pagers that `body` hands on to other Tasks.
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

// The MiosaError accessors (`message`, `status`, `kind`, ...) are generated from core/errors.toml: ErrorFields.swift.
