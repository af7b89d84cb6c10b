'use strict'

// Core: what every generated method calls. It converts JavaScript arguments to
// what the addon takes (JSON text, Buffers), wires AbortSignals to native
// cancel tokens, decodes results, and maps errors. No protocol logic lives here:
// the addon runs each operation through the Rust core's table-driven dispatch.

const native = require('./binding.js')
const { fromNative, WebhookVerificationError, InvalidArgumentError } = require('./errors.js')
const { EventStream } = require('./stream.js')
const { Socket } = require('./socket.js')
const { withSignal } = require('./signal.js')
const { OPERATIONS } = require('./api.js')
const { shapeResult, toModel } = require('./model.js')
const { fileURLToPath } = require('node:url')

// Result kind and model of every operation, to shape answers as the typings declare them.
const RESULTS = new Map(OPERATIONS.map((op) => [op.name, op]))

function isBytes(value) {
  return value instanceof Uint8Array || value instanceof ArrayBuffer
}

function toBuffer(value) {
  if (Buffer.isBuffer(value)) return value
  if (value instanceof ArrayBuffer) return Buffer.from(value)
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

function invalid(message) {
  return new InvalidArgumentError(message, { kind: 'invalid_argument' })
}

// What JSON cannot hold (NaN, infinities, BigInt, functions, symbols) goes to the
// addon tagged, so the core refuses it by name instead of JSON.stringify turning it
// into null or dropping it. The core reads the same tags in tests/settings.
// Bytes nested in JSON are tagged too (`$bytes`, base64 only to cross the JSON
// channel): the core decides how they are sent (e.g. `writeMany` items' content).
function tag(key, value) {
  const raw = this[key]
  if (isBytes(raw)) return { $bytes: toBuffer(raw).toString('base64') }
  if (typeof value === 'number' && !Number.isFinite(value)) return { $float: String(value) }
  if (typeof value === 'bigint') return { $int: value.toString() }
  if (typeof value === 'function' || typeof value === 'symbol') return { $type: typeof value }
  return value
}

function toJson(value, what) {
  try {
    return JSON.stringify(value, tag)
  } catch (err) {
    throw invalid(`${what} cannot be sent as JSON: ${err.message}`)
  }
}

/** Positional arguments: bytes as Buffers, everything else as JSON text. */
function encodeArgs(args) {
  return args.map((arg) => (isBytes(arg) ? toBuffer(arg) : toJson(arg === undefined ? null : arg, 'an argument')))
}

function encodeParams(params) {
  if (params === undefined || params === null) return null
  if (typeof params !== 'object' || Array.isArray(params) || isBytes(params)) throw invalid('parameters must be an object')
  return toJson(params, 'the parameters')
}

/** The options JSON for the addon (without `signal`), or null when there is nothing to send. */
function encodeOptions(options) {
  if (options === undefined || options === null) return null
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('options must be an object')
  const { signal, onState, ...rest } = options
  if (signal !== undefined && signal !== null && typeof signal.aborted !== 'boolean') {
    throw invalid('options.signal must be an AbortSignal')
  }
  if (onState !== undefined && onState !== null && typeof onState !== 'function') {
    throw invalid('options.onState must be a function')
  }
  for (const key of Object.keys(rest)) if (rest[key] === undefined) delete rest[key]
  return Object.keys(rest).length === 0 ? null : toJson(rest, 'the options')
}

function decodeResult(out) {
  return typeof out === 'string' ? JSON.parse(out) : out
}

/** A decoder of the answers of `op`: JSON parsed, then shaped into its model. */
function resultOf(op) {
  const spec = RESULTS.get(op)
  return (out) => (spec ? shapeResult(spec.returns, spec.model, decodeResult(out)) : decodeResult(out))
}

/**
 * Every item of a paginated operation (`for await`), or whole pages
 * (`nextPage()`, `iterPages()`); nothing is fetched before the first read.
 * `close()` (or leaving the loop, or `await using`) ends the walk.
 */
class Pager {
  #core
  #call
  #native = null
  #buffer = []
  #closed = false

  constructor(core, op, args, params, options) {
    this.#core = core
    this.#call = { op, args, params, options }
  }

  #open() {
    if (this.#native === null) {
      const { op, args, params, options } = this.#call
      try {
        this.#native = this.#core.native.pager(op, encodeArgs(args), encodeParams(params), encodeOptions(options))
      } catch (err) {
        this.#closed = true
        throw fromNative(err)
      }
    }
    return this.#native
  }

  /** The next raw page, or null at the end; a failure ends the walk. */
  async #fetch() {
    if (this.#closed) return null
    const native = this.#open()
    const signal = this.#call.options && this.#call.options.signal
    let text
    try {
      text = await withSignal(signal, (token) => native.nextPage(token))
    } catch (err) {
      this.close()
      throw fromNative(err)
    }
    if (text === null) {
      this.#closed = true
      return null
    }
    return JSON.parse(text)
  }

  [Symbol.asyncIterator]() {
    return this
  }

  async next() {
    while (this.#buffer.length === 0) {
      const page = await this.#fetch()
      if (page === null) return { done: true, value: undefined }
      this.#buffer = page.items
    }
    return { done: false, value: toModel(RESULTS.get(this.#call.op)?.model, this.#buffer.shift()) }
  }

  /** Leaving a `for await` loop ends the walk. */
  async return() {
    this.close()
    return { done: true, value: undefined }
  }

  /** The next whole page of the walk, or `null` after the last. */
  async nextPage() {
    const page = await this.#fetch()
    if (page === null) return null
    const { op, args, params, options } = this.#call
    return this.#core.page(op, args, params, options, page)
  }

  /** The walk page by page: `for await (const page of pager.iterPages())`. */
  async *iterPages() {
    for (;;) {
      const page = await this.nextPage()
      if (page === null) return
      yield page
    }
  }

  /** Ends the walk; a pending read settles at once with the end. */
  close() {
    this.#closed = true
    this.#buffer = []
    if (this.#native !== null) this.#native.close()
  }

  /** Whether the walk has ended (closed, exhausted or failed). */
  get closed() {
    return this.#closed
  }
}

if (Symbol.asyncDispose) {
  Pager.prototype[Symbol.asyncDispose] = async function dispose() {
    this.close()
  }
}
if (Symbol.dispose) {
  Pager.prototype[Symbol.dispose] = function dispose() {
    this.close()
  }
}

/** Marks `value` (a model, list or page) with the request id it came with, without changing its JSON or inspect output. */
function withRequestId(value, requestId) {
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    Object.defineProperty(value, '_request_id', { value: requestId ?? null, configurable: true })
  }
  return value
}

/** `{ data, response }` for a raw call: the status, headers (a fetch `Headers`) and request id. */
function withResponse(data, reply) {
  const headers = new Headers()
  const pairs = reply.headers ?? []
  for (let i = 0; i + 1 < pairs.length; i += 2) headers.append(pairs[i], pairs[i + 1])
  return { data, response: { status: reply.status, headers, requestId: reply.requestId ?? null } }
}

function localPathOf(value) {
  if (value instanceof URL) return fileURLToPath(value)
  if (typeof value !== 'string' || value === '') throw invalid('`localPath` must be a non-empty path string or a file: URL')
  return value
}

function requireString(value, name) {
  if (typeof value !== 'string' || value === '') throw invalid(`\`${name}\` must be a non-empty string`)
}

/** The progress callback and the rest of a transfer's options. */
function transferOptions(options) {
  if (options === undefined || options === null) return [undefined, undefined]
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('options must be an object')
  const { onProgress, ...rest } = options
  if (onProgress !== undefined && onProgress !== null && typeof onProgress !== 'function') {
    throw invalid('`onProgress` must be a function (done, total)')
  }
  return [onProgress ?? undefined, rest]
}

/** Calls `onProgress` from the addon; a throwing callback is reported once as a warning, the transfer goes on. */
function guardedProgress(onProgress) {
  if (!onProgress) return undefined
  let warned = false
  return (done, total) => {
    try {
      onProgress(done, total ?? null)
    } catch (err) {
      if (!warned) process.emitWarning(`miosa-native: onProgress threw: ${err && err.message}`)
      warned = true
    }
  }
}

/** Runs the addon's streamed transfer `method` after checking its arguments. */
function transfer(nativeClient, method, id, path, localPath, options, decode) {
  let call
  try {
    requireString(id, 'id')
    requireString(path, 'path')
    const local = localPathOf(localPath)
    const [onProgress, rest] = transferOptions(options)
    const progress = guardedProgress(onProgress)
    const encoded = encodeOptions(rest)
    call = (token) => nativeClient[method](id, path, local, progress, encoded, token)
  } catch (err) {
    return Promise.reject(fromNative(err))
  }
  const fail = (err) => {
    throw fromNative(err)
  }
  const signal = options && options.signal
  if (!signal) return call(null).then(decode, fail)
  return withSignal(signal, call).then(decode, fail)
}

class Core {
  constructor(nativeClient) {
    this.native = nativeClient
    this.raw = false
    this.plain = this
  }

  /** This core with every call resolving to `{ data, response }`. */
  withResponse() {
    const raw = Object.create(this)
    raw.raw = true
    return raw
  }

  /** Any operation that answers once: JSON (objects, lists, pages, booleans) or bytes. */
  call(op, args, params, options) {
    let encoded
    try {
      encoded = [encodeArgs(args), encodeParams(params), encodeOptions(options)]
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
    const [a, p, o] = encoded
    const signal = options && options.signal
    const shape =
      RESULTS.get(op)?.returns === 'page' ? (out) => this.page(op, args, params, options, decodeResult(out)) : resultOf(op)
    const raw = this.raw
    const decode = (reply) => {
      const data = withRequestId(shape(reply.value), reply.requestId)
      return raw ? withResponse(data, reply) : data
    }
    // A wait given `onState` reports each new lifecycle state through it (the core refuses other calls).
    const onState = (options && options.onState) || null
    const send = (token) => this.native.call(op, a, p, o, token, raw, onState)
    const fail = (err) => {
      throw fromNative(err)
    }
    if (!signal) return send(null).then(decode, fail)
    return withSignal(signal, send).then(decode, fail)
  }

  /** `sandbox.files.download`: the sandbox file streamed into a local path; resolves with the bytes written. */
  download(id, path, localPath, options) {
    return transfer(this.native, 'downloadToPath', id, path, localPath, options, (written) => written)
  }

  /** `sandbox.files.upload`: a local file streamed to a sandbox path; resolves with a `FileWritten`. */
  upload(id, path, localPath, options) {
    return transfer(this.native, 'uploadFromPath', id, path, localPath, options, (reply) =>
      withRequestId(toModel('FileWritten', JSON.parse(reply.value)), reply.requestId),
    )
  }

  /** Every item of a paginated operation, one page fetched at a time. */
  iter(op, args, params, options) {
    return new Pager(this, op, args, params, options)
  }

  /** A page answer with `nextPage()`: the same call at `next_cursor` (the core maps `cursor` to the wire). */
  page(op, args, params, options, page) {
    const shaped = shapeResult('page', RESULTS.get(op)?.model, page)
    const next = () =>
      page.next_cursor === null || page.next_cursor === undefined
        ? Promise.resolve(null)
        : this.plain.call(op, args, { ...(params ?? {}), cursor: page.next_cursor }, options)
    Object.defineProperty(shaped, 'nextPage', { value: next })
    return shaped
  }

  /**
   * An SSE operation. `rest` holds what followed the positional arguments:
   * `[params?, options?]`, or `[onEvent, params?, options?]` for the seed's callback form
   * (without params when the operation has none).
   */
  stream(op, args, rest, hasParams) {
    const callback = typeof rest[0] === 'function' ? rest.shift() : null
    const params = hasParams ? rest.shift() : undefined
    const options = rest.shift()
    const open = (token) => {
      const encoded = [encodeArgs(args), encodeParams(params), encodeOptions(options)]
      return this.native.openStream(op, ...encoded, token)
    }
    const stream = new EventStream(open, options && options.signal)
    return callback ? stream.forEach(callback) : stream
  }

  /** A WebSocket operation: resolves with an open Socket once the upgrade is done. */
  socket(op, args, params, options) {
    let encoded
    try {
      encoded = [encodeArgs(args), encodeParams(params), encodeOptions(options)]
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
    const signal = options && options.signal
    return withSignal(signal, (token) => this.native.openSocket(op, ...encoded, token)).then(
      (native) => new Socket(native, signal),
      (err) => {
        throw fromNative(err)
      },
    )
  }

  verifyWebhook(payload, signature, secret, options) {
    return verifyWebhook(payload, signature, secret, options)
  }

  unwrapWebhook(payload, headers, secret, options) {
    return unwrapWebhook(payload, headers, secret, options)
  }
}

function webhookPayload(payload) {
  if (typeof payload === 'string') return payload
  if (payload instanceof ArrayBuffer) return Buffer.from(payload)
  if (ArrayBuffer.isView(payload)) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  throw invalid(
    '`payload` must be the raw request body as a string, Buffer, Uint8Array or ArrayBuffer, not a parsed object',
  )
}

/** Absent stays `undefined` (the core decides what that means); anything else must be a string. */
function optionalString(value, name) {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw invalid(`\`${name}\` must be a string`)
  return value
}

function webhookOptions(options) {
  if (options === undefined || options === null) return [undefined, undefined]
  if (typeof options !== 'object') throw invalid('`options` must be an object')
  return ['now', 'tolerance'].map((name) => {
    const value = options[name]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'number') throw invalid(`\`${name}\` must be a number of seconds`)
    return value
  })
}

/** (name, value) string pairs from a plain object (string[] values too), a Map or a fetch `Headers`. */
function headerPairs(headers) {
  if (headers === null || typeof headers !== 'object') {
    throw invalid('`headers` must be an object, Map or Headers of header names to values')
  }
  const entries = typeof headers[Symbol.iterator] === 'function' ? Array.from(headers) : Object.entries(headers)
  const names = []
  const values = []
  for (const entry of entries) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') {
      throw invalid('`headers` must be an object, Map or Headers of header names to values')
    }
    const [name, value] = entry
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one === undefined || one === null) continue
      if (typeof one !== 'string') throw invalid(`\`headers\` value of ${JSON.stringify(name)} must be a string`)
      names.push(name)
      values.push(one)
    }
  }
  return [names, values]
}

/** `webhooks.verify`: `true`, or a WebhookVerificationError saying why not. */
function verifyWebhook(payload, signature, secret, options) {
  const body = webhookPayload(payload)
  const [now, tolerance] = webhookOptions(options)
  const sig = optionalString(signature, 'signature')
  const key = optionalString(secret, 'secret')
  try {
    native.verifyWebhook(body, sig, key, now, tolerance)
  } catch (err) {
    throw fromNative(err)
  }
  return true
}

/** `webhooks.unwrap`: the verified, parsed event. */
function unwrapWebhook(payload, headers, secret, options) {
  const body = webhookPayload(payload)
  const [names, values] = headerPairs(headers)
  const [now, tolerance] = webhookOptions(options)
  const key = optionalString(secret, 'secret')
  let event
  try {
    event = native.unwrapWebhook(body, names, values, key, now, tolerance)
  } catch (err) {
    throw fromNative(err)
  }
  return JSON.parse(event)
}

module.exports = { Core, Pager, native, toBuffer, isBytes, toJson, verifyWebhook, unwrapWebhook }
