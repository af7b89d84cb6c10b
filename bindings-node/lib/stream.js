'use strict'

// EventStream: the async-iterator face of a native SSE stream. The connection
// opens at once (so events sent right after the call are not missed); errors of
// the opening request (401, 404, ...) surface at the first `next()` or `open()`.
// Leaving a `for await` loop calls `return()`, which closes the connection.
// Events are pulled from the native stream in batches (every event already
// buffered, at least one, per round trip) and yielded from a local array; an
// error reported by the native side comes after the events that preceded it.
// Overlapping `next()` calls are served in order, one event each; `close()`
// ends a pending one at once.

const { fromNative, aborted } = require('./errors.js')
const { withSignal } = require('./signal.js')

const DONE = Object.freeze({ done: true, value: undefined })
const ignore = () => {}
// Most events taken from the native stream per round trip.
const BATCH_MAX = 1024

class EventStream {
  /** @param {(token) => Promise<object>} open opens the native stream */
  constructor(open, signal) {
    this._native = null
    this._closed = false
    this._signal = signal || null
    this._onAbort = null
    // Events received but not yet yielded: `_buffer[_pos..]`.
    this._buffer = []
    this._pos = 0
    // The tail of the `next()` calls in flight: each one starts when the one
    // before it has settled, so overlapping calls each get their own event.
    this._queue = Promise.resolve()
    if (this._signal) {
      this._onAbort = () => this.close()
      this._signal.addEventListener('abort', this._onAbort, { once: true })
    }
    this._opening = withSignal(this._signal, (token) => open(token)).then(
      (nativeStream) => {
        this._native = nativeStream
        if (this._closed) nativeStream.close()
        return this
      },
      (err) => {
        this._finish()
        throw fromNative(err)
      },
    )
    // Failures are reported to whoever reads the stream; an unread stream must
    // not crash the process with an unhandled rejection.
    this._opening.catch(() => {})
  }

  get closed() {
    return this._closed
  }

  open() {
    return this._opening
  }

  next() {
    const result = this._queue.then(() => this._next())
    this._queue = result.then(ignore, ignore)
    return result
  }

  async _next() {
    if (this._native === null) await this._opening
    if (this._closed) return this._ended()
    if (this._pos < this._buffer.length) return { done: false, value: this._take() }
    let batch
    try {
      batch = await this._native.nextBatch(BATCH_MAX)
    } catch (err) {
      this._finish()
      throw fromNative(err)
    }
    // Closed (by `return()`, `close()` or the signal) while waiting: what
    // arrived meanwhile is dropped, as are events still buffered natively.
    if (this._closed) return this._ended()
    if (batch.length === 0) {
      this._finish()
      return this._ended()
    }
    this._buffer = batch
    this._pos = 0
    return { done: false, value: this._take() }
  }

  _take() {
    const event = this._buffer[this._pos]
    this._buffer[this._pos++] = undefined
    return event
  }

  _ended() {
    if (this._signal && this._signal.aborted) throw aborted()
    return DONE
  }

  async return() {
    this.close()
    return DONE
  }

  [Symbol.asyncIterator]() {
    return this
  }

  async forEach(onEvent) {
    try {
      for await (const event of this) {
        const answer = await onEvent(event)
        if (answer === 'stop' || answer === false) break
      }
    } finally {
      this.close()
    }
  }

  close() {
    if (this._native) this._native.close()
    this._finish()
  }

  _finish() {
    this._closed = true
    this._buffer = []
    this._pos = 0
    if (this._onAbort) {
      this._signal.removeEventListener('abort', this._onAbort)
      this._onAbort = null
    }
  }
}

// `using` and `await using` close the stream (runtimes without the symbols skip this).
if (Symbol.dispose) {
  EventStream.prototype[Symbol.dispose] = function dispose() {
    this.close()
  }
}
if (Symbol.asyncDispose) {
  EventStream.prototype[Symbol.asyncDispose] = async function dispose() {
    this.close()
  }
}

module.exports = { EventStream }
