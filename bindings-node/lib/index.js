'use strict'

// miosa-native: the MIOSA API client for Node.js, backed by the Rust core.
//
//   const { Client } = require('miosa-native')
//   const client = new Client('msk_live_...')
//   const sb = await client.sandboxes.create({ name: 'quick-exec' })
//
// Params and results use the API's own snake_case keys; the client's settings
// and per-call options are camelCase. See README.md.

// `require('miosa-native')` loads only the errors: the client, the generated
// namespaces and the native addon load when a name that needs them is first
// read, so a program that never makes a call does not pay for them.
const errors = require('./errors.js')

/** Each export but the errors, and how to load it; in the order of the typings. */
const LAZY = {
  Client: () => require('./client.js').Client,
  EventStream: () => require('./stream.js').EventStream,
  Pager: () => require('./core.js').Pager,
  Socket: () => require('./socket.js').Socket,
  SocketMessage: () => require('./socket.js').SocketMessage,
  webhooks: () => require('./client.js').webhooks,
  parseSse: () => require('./client.js').parseSse,
  version: () => require('../package.json').version,
}

for (const [name, load] of Object.entries(LAZY)) {
  Object.defineProperty(module.exports, name, {
    enumerable: true,
    configurable: true,
    get() {
      // Replaced by the value itself, so later reads are plain property reads.
      const value = load()
      Object.defineProperty(module.exports, name, { value, enumerable: true, writable: true, configurable: true })
      return value
    },
  })
}
for (const [name, value] of Object.entries(errors)) {
  if (name !== 'fromNative' && name !== 'aborted') module.exports[name] = value
}
