// Error classes of `miosa-native`. Every error the client raises is a MiosaError;
// API errors by status get a subclass, so `instanceof` picks them out.

/** Stable snake_case classes of failures. */
export type ErrorKind =
  | 'authentication'
  | 'insufficient_credits'
  | 'permission_denied'
  | 'not_found'
  | 'conflict'
  | 'validation'
  | 'rate_limited'
  | 'server'
  | 'api'
  | 'timeout'
  | 'connection'
  | 'decode'
  | 'invalid_argument'
  | 'cancelled'
  | 'usage'
  | 'limit_exceeded'
  | 'internal'
  | 'webhook_verification'

/** Every error the client raises. */
export declare class MiosaError extends Error {
  /** What kind of failure this is. */
  readonly kind: ErrorKind
  /** HTTP status; `null` for failures without an HTTP answer (timeouts, connection, local errors). */
  readonly status: number | null
  /** Machine-readable code such as `NOT_FOUND`, when the server sent one. */
  readonly code: string | null
  /** The decoded error body (JSON, or the raw text as a string). */
  readonly body: unknown
  /** The server's request id (`X-Request-ID` or the body). */
  readonly requestId: string | null
  /** How many attempts were made before giving up. */
  readonly attempts: number
}
/** 401: the API key was refused. */
export declare class AuthenticationError extends MiosaError {}
/** 402: the account has no credits left. */
export declare class InsufficientCreditsError extends MiosaError {}
/** 403: the key may not do this. */
export declare class PermissionDeniedError extends MiosaError {}
/** 404: no such resource. */
export declare class NotFoundError extends MiosaError {}
/** 409: the resource is in the wrong state. */
export declare class ConflictError extends MiosaError {}
/** 400 and 422: the server rejected the request's content. */
export declare class ValidationError extends MiosaError {}
/** 429: slow down. */
export declare class RateLimitError extends MiosaError {
  /** Seconds the server asked to wait, when it said. */
  readonly retryAfter: number | null
}
/** 5xx. */
export declare class ServerError extends MiosaError {}
/** A connect, attempt, operation or stream-idle timeout expired. */
export declare class APITimeoutError extends MiosaError {}
/** The connection could not be made or broke. */
export declare class APIConnectionError extends MiosaError {}
/** The arguments were refused before any network use (bad key, missing id, wrong type). */
export declare class InvalidArgumentError extends MiosaError {}
/** The call was cancelled by its `AbortSignal`. */
export declare class AbortError extends MiosaError {}
/** A response body, download or SSE line/event went over its limit; the message names the setting. */
export declare class LimitExceededError extends MiosaError {}
/** A webhook signature was refused; `code` says why. */
export declare class WebhookVerificationError extends MiosaError {
  readonly code: 'malformed_header' | 'invalid_signature' | 'timestamp_too_old'
}
