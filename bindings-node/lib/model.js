'use strict'

// Model objects: answers the core has already checked against the model table,
// reshaped as the typings declare them: the table's fields at the top, unknown
// fields under `extra`. util.inspect and toString hide the fields the table marks
// secret and the query of token-carrying URLs; the values stay readable as properties.

const util = require('node:util')
const native = require('./binding.js')
const { MODELS } = require('./models.js')

const REDACTED = '<redacted>'

// Unknown fields and token-carrying URLs go through the core's one list of
// secret names and its URL rule.
function redactedJson(value) {
  return JSON.parse(native.redacted(JSON.stringify(value)))
}

function withoutQuery(url) {
  return typeof url === 'string' ? redactedJson({ url }).url : url
}

function redactedExtra(extra) {
  return redactedJson(extra)
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
