'use strict'

// Model objects: answers the core has already checked against the model table,
// reshaped as the typings declare them: the table's fields at the top, unknown
// fields under `extra`. util.inspect and toString hide the fields the table marks
// secret and the query of token-carrying URLs; the values stay readable as properties.

const util = require('node:util')
const { MODELS } = require('./models.js')

const REDACTED = '<redacted>'
// Names of unknown fields that hold credentials (the core's rule for `extra`).
const SENSITIVE = new Set(['token', 'secret', 'key', 'api_key', 'password', 'plaintext', 'credentials', 'connection_string', 'url_with_token'])

function sensitiveName(name) {
  return SENSITIVE.has(name) || name.endsWith('_token') || name.endsWith('_secret') || name.endsWith('password')
}

function urlName(name) {
  return name === 'url' || name.endsWith('_url')
}

function withoutQuery(url) {
  if (typeof url !== 'string') return url
  const at = url.indexOf('?')
  return at < 0 ? url : `${url.slice(0, at)}?${REDACTED}`
}

function redactedExtra(extra) {
  const shown = {}
  for (const [k, v] of Object.entries(extra)) {
    shown[k] = sensitiveName(k) ? REDACTED : urlName(k) ? withoutQuery(v) : v
  }
  return shown
}

/** What util.inspect and toString show: the same object with its secrets hidden. */
function printable(spec, model) {
  const shown = {}
  for (const [k, v] of Object.entries(model)) {
    if (k === 'extra') shown.extra = redactedExtra(v)
    else if (spec.secret.includes(k)) shown[k] = v === null || v === undefined ? v : REDACTED
    else if (spec.tokenUrls.includes(k)) shown[k] = withoutQuery(v)
    else shown[k] = v
  }
  return shown
}

/** Turns one answer object into the model `name`; other values pass through. */
function toModel(name, value) {
  const spec = MODELS[name]
  if (!spec || value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const model = {}
  const extra = {}
  for (const [k, v] of Object.entries(value)) {
    if (!spec.fields.includes(k)) extra[k] = v
    else if (k in spec.nested) model[k] = Array.isArray(v) ? v.map((item) => toModel(spec.nested[k], item)) : toModel(spec.nested[k], v)
    else model[k] = v
  }
  model.extra = extra
  Object.defineProperty(model, util.inspect.custom, {
    value: (depth, options, inspect) => `${name} ${(inspect ?? util.inspect)(printable(spec, model), options)}`,
  })
  Object.defineProperty(model, 'toString', {
    value: () => `${name} ${util.inspect(printable(spec, model), { depth: 4 })}`,
  })
  return model
}

/** Shapes a call's result by the operation's result kind and model. */
function shapeResult(kind, name, value) {
  if (!name) return value
  if (kind === 'model') return toModel(name, value)
  if (kind === 'list' && Array.isArray(value)) return value.map((item) => toModel(name, item))
  if (kind === 'page' && value && Array.isArray(value.items)) {
    return { ...value, items: value.items.map((item) => toModel(name, item)) }
  }
  return value
}

module.exports = { toModel, shapeResult }
