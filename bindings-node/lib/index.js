'use strict'

// miosa-native: the MIOSA API client for Node.js, backed by the Rust core.
//
//   const { Client } = require('miosa-native')
//   const client = new Client('msk_live_...')
//   const sb = await client.sandboxes.create({ name: 'quick-exec' })
//
// Params and results use the API's own snake_case keys; the client's settings
// and per-call options are camelCase. See README.md.

const { ApiRoot } = require('./api.js')
const { Core, native, toBuffer, isBytes, verifyWebhook, unwrapWebhook } = require('./core.js')
const errors = require('./errors.js')
const { EventStream } = require('./stream.js')
const { version } = require('../package.json')

function nativeClient(make) {
  try {
    return make()
  } catch (err) {
    throw errors.fromNative(err)
  }
}

// Lets `fromEnv` hand an already-built native client to the constructor.
const FROM_NATIVE = Symbol('miosa.fromNative')

class Client extends ApiRoot {
  /**
   * @param {string} apiKey must start with `msk_`
   * @param {import('./index').ClientOptions} [options]
   */
  constructor(apiKey, options) {
    let inner
    if (apiKey === FROM_NATIVE) {
      inner = options
    } else {
      if (typeof apiKey !== 'string') {
        throw new errors.InvalidArgumentError('the API key must be a string', { kind: 'invalid_argument' })
      }
      const settings = options === undefined || options === null ? null : JSON.stringify(options)
      inner = nativeClient(() => new native.NativeClient(apiKey, settings))
    }
    super(new Core(inner))
  }

  /** A client from `MIOSA_API_KEY` and, when set, `MIOSA_BASE_URL`. */
  static fromEnv() {
    return new this(FROM_NATIVE, nativeClient(() => native.NativeClient.fromEnv()))
  }

  /** The API root requests go to. */
  get baseUrl() {
    return this._c.native.baseUrl
  }
}

const webhooks = { verify: verifyWebhook, unwrap: unwrapWebhook }

function parseSse(chunks) {
  if (!Array.isArray(chunks)) {
    throw new errors.InvalidArgumentError('parseSse takes an array of chunks', { kind: 'invalid_argument' })
  }
  try {
    return native.parseSse(chunks.map((c) => (isBytes(c) ? toBuffer(c) : String(c))))
  } catch (err) {
    throw errors.fromNative(err)
  }
}

module.exports = {
  Client,
  EventStream,
  webhooks,
  parseSse,
  version,
  MiosaError: errors.MiosaError,
  AuthenticationError: errors.AuthenticationError,
  InsufficientCreditsError: errors.InsufficientCreditsError,
  PermissionDeniedError: errors.PermissionDeniedError,
  NotFoundError: errors.NotFoundError,
  ConflictError: errors.ConflictError,
  ValidationError: errors.ValidationError,
  RateLimitError: errors.RateLimitError,
  ServerError: errors.ServerError,
  APITimeoutError: errors.APITimeoutError,
  APIConnectionError: errors.APIConnectionError,
  InvalidArgumentError: errors.InvalidArgumentError,
  AbortError: errors.AbortError,
  LimitExceededError: errors.LimitExceededError,
  WebhookVerificationError: errors.WebhookVerificationError,
}
