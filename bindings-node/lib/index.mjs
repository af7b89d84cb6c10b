// ESM entry of miosa-native: the same objects as the CommonJS entry.
import cjs from './index.js'

export const {
  Client,
  EventStream,
  Pager,
  Socket,
  SocketMessage,
  webhooks,
  parseSse,
  version,
  MiosaError,
  AuthenticationError,
  InsufficientCreditsError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  ValidationError,
  RateLimitError,
  ServerError,
  APIStatusError,
  APITimeoutError,
  APIConnectionError,
  DecodeError,
  InvalidArgumentError,
  AbortError,
  UsageError,
  WebhookVerificationError,
  LimitExceededError,
  InternalError,
} = cjs

export default cjs
