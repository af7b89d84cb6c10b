// Swift conveniences over the UniFFI-generated `Socket` (Miosa.swift):
// `for try await message in socket` and the text of a message.
import Foundation

/// `for try await message in socket { ... }`: the loop consumes the socket and
/// closes it when it ends, throws, is left early, or its Task is cancelled.
extension Socket: AsyncSequence {
    public typealias Element = SocketMessage

    public func makeAsyncIterator() -> PullIterator<SocketMessage> {
        PullIterator(next: { try await self.next() }, close: { self.close() })
    }
}

extension SocketMessage {
    /// The message's bytes as UTF-8 text (invalid sequences replaced).
    public var text: String {
        String(decoding: data, as: UTF8.self)
    }
}
