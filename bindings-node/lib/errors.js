'use strict'

// The error classes of the package, and the one function that turns an error
// thrown by the native addon into them. The addon encodes the core's structured
// error as JSON in the message (see src/errors.rs); anything else it throws (a
// caught Rust panic, a failed conversion) still becomes a MiosaError.

const MARKER = '$miosa'

/** Every error the client raises. `status` is null for failures without an HTTP answer. */
class MiosaError extends Error {
  constructor(message, fields = {}) {
    super(message)
    this.name = new.target.name
    /** Stable snake_case class of the failure (`not_found`, `timeout`, ...). */
    this.kind = fields.kind ?? 'api'
    this.status = fields.status ?? null
    this.code = fields.code ?? null
    this.body = fields.body ?? null
    this.requestId = fields.requestId ?? null
    this.attempts = fields.attempts ?? 1
  }
}

/** 401: the API key was refused. */
class AuthenticationError extends MiosaError {}
/** 402: the account has no credits left. */
class InsufficientCreditsError extends MiosaError {}
/** 403: the key may not do this. */
class PermissionDeniedError extends MiosaError {}
/** 404: no such resource. */
class NotFoundError extends MiosaError {}
/** 409: the resource is in the wrong state. */
class ConflictError extends MiosaError {}
/** 400 and 422: the server rejected the request's content. */
class ValidationError extends MiosaError {}
/** 429: slow down; `retryAfter` (seconds) says for how long when the server knows. */
class RateLimitError extends MiosaError {
  constructor(message, fields = {}) {
    super(message, fields)
    this.retryAfter = fields.retryAfter ?? null
  }
}
/** 5xx. */
class ServerError extends MiosaError {}
/** A connect, attempt, operation or stream-idle timeout expired. */
class APITimeoutError extends MiosaError {}
/** The connection could not be made or broke. */
class APIConnectionError extends MiosaError {}
/** The arguments were refused before any network use (bad key, missing id, wrong type). */
class InvalidArgumentError extends MiosaError {}
/** The call was cancelled by its `AbortSignal`. */
class AbortError extends MiosaError {}
/** A response body, download or SSE line/event went over its limit; the message names the setting. */
class LimitExceededError extends MiosaError {}
/**
 * A webhook delivery was refused; `code` is `missing_signature`, `malformed_header`,
 * `invalid_signature`, `timestamp_too_old` or (from `webhooks.unwrap`) `invalid_payload`.
 */
class WebhookVerificationError extends MiosaError {}

const BY_KIND = {
  authentication: AuthenticationError,
  insufficient_credits: InsufficientCreditsError,
  permission_denied: PermissionDeniedError,
  not_found: NotFoundError,
  conflict: ConflictError,
  validation: ValidationError,
  rate_limited: RateLimitError,
  server: ServerError,
  timeout: APITimeoutError,
  connection: APIConnectionError,
  invalid_argument: InvalidArgumentError,
  cancelled: AbortError,
  webhook_verification: WebhookVerificationError,
  limit_exceeded: LimitExceededError,
}

function decode(message) {
  if (typeof message !== 'string' || !message.startsWith('{')) return null
  try {
    const payload = JSON.parse(message)
    return payload && payload[MARKER] === true ? payload : null
  } catch {
    return null
  }
}

/** The MiosaError for anything the native addon threw. */
function fromNative(err) {
  if (err instanceof MiosaError) return err
  const payload = decode(err && err.message)
  if (payload === null) {
    // Not a core error: a Rust panic caught at the boundary or a conversion failure.
    const detail = err && err.message ? err.message : String(err)
    const wrapped = new MiosaError(`internal error in the native addon: ${detail}`, { kind: 'internal' })
    wrapped.cause = err
    return wrapped
  }
  const Class = BY_KIND[payload.kind] ?? MiosaError
  return new Class(payload.message, {
    kind: payload.kind,
    status: payload.status,
    code: payload.code,
    body: payload.body,
    requestId: payload.request_id,
    attempts: payload.attempts,
    retryAfter: payload.retry_after,
  })
}

/** The error of a call whose AbortSignal was already aborted. */
function aborted() {
  return new AbortError('the request was aborted', { kind: 'cancelled' })
}

module.exports = {
  MiosaError,
  AuthenticationError,
  InsufficientCreditsError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  ValidationError,
  RateLimitError,
  ServerError,
  APITimeoutError,
  APIConnectionError,
  InvalidArgumentError,
  AbortError,
  LimitExceededError,
  WebhookVerificationError,
  fromNative,
  aborted,
}
