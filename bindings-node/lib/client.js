'use strict'

// `Client` and the functions that need the native addon; lib/index.js loads
// this file on first use of one of them.

const { ApiRoot } = require('./api.js')
const handles = require('./handles.js')
const { Core, native, toBuffer, isBytes, toJson, verifyWebhook, unwrapWebhook } = require('./core.js')
const errors = require('./errors.js')

const LOG_LEVELS = ['debug', 'info', 'warn', 'off']

function invalidOption(message) {
  return new errors.InvalidArgumentError(message, { kind: 'invalid_argument' })
}

/** The settings for the core, and the `logger` / `logLevel` options this layer handles. */
function splitLogging(options) {
  if (options === undefined || options === null || typeof options !== 'object' || Array.isArray(options)) {
    return [options === undefined ? {} : options, undefined, undefined]
  }
  const { logger, logLevel, ...settings } = options
  if (logger !== undefined && logger !== null) {
    const missing = ['debug', 'info', 'warn'].filter((name) => typeof logger[name] !== 'function')
    if (typeof logger !== 'object' || missing.length > 0) {
      throw invalidOption('`logger` must be an object with debug, info and warn methods (console fits)')
    }
  }
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel)) {
    throw invalidOption(`\`logLevel\` must be one of ${LOG_LEVELS.join(', ')}`)
  }
  return [settings, logger ?? undefined, logLevel ?? 'info']
}

/**
 * The function the addon calls (on the event loop, never blocking an I/O
 * thread) with each record as JSON. A logger that throws is reported once as a
 * process warning instead of failing the call or crashing the process.
 */
function forwarder(logger) {
  let warned = false
  return (text) => {
    const r = JSON.parse(text)
    const record = {
      level: r.level,
      method: r.method,
      route: r.route,
      status: r.status ?? null,
      attempt: r.attempt,
      durationMs: r.duration_ms,
      requestId: r.request_id ?? null,
      error: r.error ?? null,
    }
    try {
      logger[r.level](`miosa ${r.level}: ${r.message}`, record)
    } catch (err) {
      if (!warned) process.emitWarning(`miosa-native: the logger threw: ${err && err.message}`)
      warned = true
    }
  }
}

class Client extends ApiRoot {
  /**
   * `new Client(apiKey?, options?)` or `new Client(options?)`: the key defaults to
   * `MIOSA_API_KEY` and the base URL to `MIOSA_BASE_URL`; an explicit value wins.
   * @param {string} [apiKey] must start with `msk_`
   * @param {import('./index').ClientOptions} [options]
   */
  constructor(apiKey, options) {
    if (options === undefined && apiKey !== null && typeof apiKey === 'object') {
      options = apiKey
      apiKey = undefined
    }
    let inner
    try {
      const [settings, logger, logLevel] = splitLogging(options)
      const key = toJson(apiKey === undefined ? null : apiKey, 'the API key')
      inner = new native.NativeClient(key, toJson(settings, 'the options'))
      if (logger) inner.setLogger(logLevel, forwarder(logger))
    } catch (err) {
      throw errors.fromNative(err)
    }
    const core = new Core(inner)
    super(core)
    // Sandbox and computer records come back as handles; they call the plain namespaces.
    const flat = new ApiRoot(core)
    this.sandboxes = new handles.SandboxesHandlesApi(flat)
    this.computers = new handles.ComputersHandlesApi(flat)
  }

  /** The same as `new Client(options)`: the key from `MIOSA_API_KEY`, the base URL from `MIOSA_BASE_URL` when set. */
  static fromEnv(options) {
    return new this(options)
  }

  /** The API root requests go to. */
  get baseUrl() {
    return this._c.native.baseUrl
  }

  /** The settings in effect (snake_case names, seconds), secrets redacted. */
  get settings() {
    return JSON.parse(this._c.native.settings)
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

module.exports = { Client, webhooks, parseSse }
