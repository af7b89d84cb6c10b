'use strict'

// EventStream: the async-iterator face of a native SSE stream. The connection
// opens at once (so events sent right after the call are not missed); errors of
// the opening request (401, 404, ...) surface at the first `next()` or `open()`.
// Leaving a `for await` loop calls `return()`, which closes the connection.

const { fromNative, aborted } = require('./errors.js')
const { withSignal } = require('./signal.js')

const DONE = Object.freeze({ done: true, value: undefined })

class EventStream {
  /** @param {(token) => Promise<object>} open opens the native stream */
  constructor(open, signal) {
    this._native = null
    this._closed = false
    this._signal = signal || null
    this._onAbort = null
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

  async next() {
    await this._opening
    if (this._closed) {
      if (this._signal && this._signal.aborted) throw aborted()
      return DONE
    }
    let event
    try {
      event = await this._native.next()
    } catch (err) {
      this._finish()
      throw fromNative(err)
    }
    if (event === null) {
      this._finish()
      if (this._signal && this._signal.aborted) throw aborted()
      return DONE
    }
    return { done: false, value: event }
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
    if (this._onAbort) {
      this._signal.removeEventListener('abort', this._onAbort)
      this._onAbort = null
    }
  }
}

module.exports = { EventStream }
