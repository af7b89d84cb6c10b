'use strict'

// What sandbox and computer handles share: the bound id, the record the server
// last sent, and destroy-on-dispose for `await using`. The handle classes
// themselves are generated (lib/handles.js).

const util = require('node:util')
const { InvalidArgumentError, NotFoundError } = require('./errors.js')

class Handle {
  /**
   * @param flat the client's flat namespaces, which the bound methods call
   * @param data the record of the resource (at least its `id`)
   */
  constructor(flat, data) {
    const id = data === null || typeof data !== 'object' ? undefined : data.id
    if (typeof id !== 'string' || id === '') {
      throw new InvalidArgumentError('id: a handle needs a non-empty id', { kind: 'invalid_argument' })
    }
    Object.defineProperty(this, '_flat', { value: flat })
    Object.defineProperty(this, '_id', { value: id })
    Object.defineProperty(this, '_data', { value: data, writable: true })
    Object.defineProperty(this, '_kept', { value: false, writable: true })
  }

  get id() {
    return this._id
  }

  /** The namespace `name`, made on its first use (most handles, such as a list's records, never need one). */
  _space(name, Kind) {
    const space = new Kind(this)
    Object.defineProperty(this, name, { value: space, enumerable: false })
    return space
  }

  /** The record as the server last sent it. */
  get data() {
    return this._data
  }

  get extra() {
    return this._data.extra || {}
  }

  /** Leave the resource running when `await using` ends. */
  keep() {
    this._kept = true
    return this
  }

  toJSON() {
    return this._data
  }

  [util.inspect.custom](depth, options, inspect) {
    return `${this.constructor.name} ${inspect(this._data, options)}`
  }

  /** The `x-request-id` of the response the record last came from, or `null`. */
  get _request_id() {
    return this._data._request_id ?? null
  }

  /** A view of this handle whose namespaces resolve to `{ data, response }`. */
  _withResponse() {
    return Object.create(this, { _flat: { value: rawFlat(this._flat) } })
  }

  /** A record of this resource refreshes the handle; another (a fork, a clone) becomes a new handle. */
  _adopt(value) {
    if (value === null || typeof value !== 'object') return value
    if (value.id === this._id) {
      this._data = value
      return this
    }
    return new this.constructor(this._flat, value)
  }

  async [Symbol.asyncDispose]() {
    if (this._kept) return
    try {
      await this.destroy()
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err // already gone is fine
    }
  }
}

/** The flat namespaces `flat` with every call resolving to `{ data, response }`. */
function rawFlat(flat) {
  const raw = new flat.constructor(flat._c.withResponse())
  Object.defineProperty(raw, '_plain', { value: flat })
  return raw
}

/** Records (one or a list) as handles of class `Kind`; a raw answer keeps its response. */
function toHandles(Kind, flat, value) {
  if (flat._plain) return { data: toHandles(Kind, flat._plain, value.data), response: value.response }
  if (!Array.isArray(value)) return new Kind(flat, value)
  const list = value.map((v) => new Kind(flat, v))
  if (value._request_id !== undefined) Object.defineProperty(list, '_request_id', { value: value._request_id })
  return list
}

module.exports = { Handle, rawFlat, toHandles }
