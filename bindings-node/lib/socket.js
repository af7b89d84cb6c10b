'use strict'

// Socket: the async-iterator face of a native WebSocket. `for await` reads
// messages; leaving the loop closes the socket, as do `close()`, an aborted
// signal and `await using` (Symbol.asyncDispose). `close()` from anywhere ends
// a pending `next()`.

const { fromNative } = require('./errors.js')

const DONE = Object.freeze({ done: true, value: undefined })

/** One received message: `channel`, `data` (Buffer), `text`, `json()`. */
class SocketMessage {
  constructor(native) {
    this.channel = native.channel
    this.data = native.data
  }

  get text() {
    return this.data.toString('utf8')
  }

  json() {
    return JSON.parse(this.text)
  }
}

class Socket {
  constructor(native, signal) {
    this._native = native
    this._signal = signal || null
    this._onAbort = null
    if (this._signal) {
      this._onAbort = () => this.close()
      this._signal.addEventListener('abort', this._onAbort, { once: true })
    }
  }

  /** `terminal`, `exec` or `events`. */
  get frames() {
    return this._native.frames
  }

  /** For an exec: the exit code once the process has ended, else `null`. */
  get exitCode() {
    const code = this._native.exitCode
    return code === undefined || code === null ? null : code
  }

  get closed() {
    return this._native.closed
  }

  async next() {
    let message
    try {
      message = await this._native.next()
    } catch (err) {
      this._detach()
      throw fromNative(err)
    }
    if (message === null) {
      this._detach()
      return DONE
    }
    return { done: false, value: new SocketMessage(message) }
  }

  /** The next message, or `null` once the socket has ended. */
  async receive() {
    const item = await this.next()
    return item.done ? null : item.value
  }

  async return() {
    this.close()
    return DONE
  }

  [Symbol.asyncIterator]() {
    return this
  }

  /** Types into a terminal or writes an exec's stdin: a string or bytes. */
  send(data) {
    const payload = typeof data === 'string' ? data : Buffer.from(data)
    return this._native.send(payload).catch((err) => {
      throw fromNative(err)
    })
  }

  resize(cols, rows) {
    return this._native.resize(cols, rows).catch((err) => {
      throw fromNative(err)
    })
  }

  signal(name) {
    return this._native.signal(name).catch((err) => {
      throw fromNative(err)
    })
  }

  closeStdin() {
    return this._native.closeStdin().catch((err) => {
      throw fromNative(err)
    })
  }

  close() {
    this._native.close()
    this._detach()
  }

  async [Symbol.asyncDispose]() {
    this.close()
  }

  _detach() {
    if (this._onAbort) {
      this._signal.removeEventListener('abort', this._onAbort)
      this._onAbort = null
    }
  }
}

// `using` closes the socket too, at once (runtimes without the symbol skip this).
if (Symbol.dispose) {
  Socket.prototype[Symbol.dispose] = function dispose() {
    this.close()
  }
}

module.exports = { Socket, SocketMessage }
