'use strict'

// Core: what every generated method calls. It converts JavaScript arguments to
// what the addon takes (JSON text, Buffers), wires AbortSignals to native
// cancel tokens, decodes results, and maps errors. No protocol logic lives here:
// the addon runs each operation through the Rust core's table-driven dispatch.

const native = require('./binding.js')
const { fromNative, WebhookVerificationError, InvalidArgumentError } = require('./errors.js')
const { EventStream } = require('./stream.js')
const { withSignal } = require('./signal.js')

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

function toJson(value, what) {
  try {
    return JSON.stringify(value)
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
  const { signal, ...rest } = options
  if (signal !== undefined && signal !== null && typeof signal.aborted !== 'boolean') {
    throw invalid('options.signal must be an AbortSignal')
  }
  for (const key of Object.keys(rest)) if (rest[key] === undefined) delete rest[key]
  return Object.keys(rest).length === 0 ? null : toJson(rest, 'the options')
}

function decodeResult(out) {
  return typeof out === 'string' ? JSON.parse(out) : out
}

class Core {
  constructor(nativeClient) {
    this.native = nativeClient
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
    if (!signal) {
      return this.native.call(op, a, p, o, null).then(decodeResult, (err) => {
        throw fromNative(err)
      })
    }
    return withSignal(signal, (token) => this.native.call(op, a, p, o, token)).then(decodeResult, (err) => {
      throw fromNative(err)
    })
  }

  /** Every item of a paginated operation, one page fetched at a time. */
  async *iter(op, args, params, options) {
    let pager
    try {
      pager = this.native.pager(op, encodeArgs(args), encodeParams(params), encodeOptions(options))
    } catch (err) {
      throw fromNative(err)
    }
    const signal = options && options.signal
    for (;;) {
      let page
      try {
        page = await withSignal(signal, (token) => pager.nextPage(token))
      } catch (err) {
        throw fromNative(err)
      }
      if (page === null) return
      yield* JSON.parse(page)
    }
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

  verifyWebhook(payload, signature, secret, options) {
    return verifyWebhook(payload, signature, secret, options)
  }
}

/** `webhooks.verify`: `true`, or a WebhookVerificationError saying why not. */
function verifyWebhook(payload, signature, secret, options) {
  const { now, tolerance } = options ?? {}
  let refusal
  try {
    refusal = native.verifyWebhook(
      isBytes(payload) ? toBuffer(payload) : String(payload),
      String(signature),
      String(secret),
      now,
      tolerance,
    )
  } catch (err) {
    throw fromNative(err)
  }
  if (refusal === null) return true
  throw new WebhookVerificationError(`webhook signature refused: ${refusal}`, {
    kind: 'webhook_verification',
    code: refusal,
  })
}

module.exports = { Core, native, toBuffer, isBytes, verifyWebhook }
