'use strict'

// AbortSignal -> native CancelToken, for the duration of one native call.

const native = require('./binding.js')
const { aborted } = require('./errors.js')

/**
 * Runs `run(token)` with a fresh cancel token that `signal` flips on abort.
 * Without a signal no token is made (the common, cheaper path).
 */
async function withSignal(signal, run) {
  if (!signal) return run(null)
  if (signal.aborted) throw aborted()
  const token = new native.CancelToken()
  const onAbort = () => token.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await run(token)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

module.exports = { withSignal }
