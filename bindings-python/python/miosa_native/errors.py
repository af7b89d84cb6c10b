"""Exceptions raised by miosa_native. Every failure is a `MiosaError`; HTTP
statuses, network failures and bad input each have their own subclass."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Type

__all__ = [
    "MiosaError",
    "APIStatusError",
    "AuthenticationError",
    "InsufficientCreditsError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "ValidationError",
    "RateLimitError",
    "ServerError",
    "APIConnectionError",
    "APITimeoutError",
    "DecodeError",
    "InvalidArgumentError",
    "RequestCancelledError",
    "UsageError",
    "WebhookVerificationError",
]


class MiosaError(Exception):
    """Base of every error of this package.

    Attributes: `message` (human-readable), `status` (HTTP status or None),
    `code` (machine code such as ``NOT_FOUND``), `body` (the decoded error
    body), `request_id`, `kind` (the core's stable error kind, e.g.
    ``not_found``), `retry_after` (seconds the server asked to wait) and
    `attempts` (requests made before giving up).
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "api",
        status: Optional[int] = None,
        code: Optional[str] = None,
        body: Any = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.code = code
        self.body = body
        self.request_id = request_id
        self.retry_after = retry_after
        self.attempts = attempts

    def __str__(self) -> str:
        if self.status is not None and self.code:
            return f"{self.message} (status {self.status}, code {self.code})"
        if self.status is not None:
            return f"{self.message} (status {self.status})"
        if self.code:
            return f"{self.message} (code {self.code})"
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"code={self.code!r}, request_id={self.request_id!r})"
        )

    def __reduce__(self) -> Tuple[Any, ...]:
        # Keyword-only fields would be lost by the default pickling of exceptions.
        return (_rebuild, (type(self), self.message, self._fields()))

    def _fields(self) -> Dict[str, Any]:
        return {
            "kind": self.kind,
            "status": self.status,
            "code": self.code,
            "body": self.body,
            "request_id": self.request_id,
            "retry_after": self.retry_after,
            "attempts": self.attempts,
        }


def _rebuild(cls: Type[MiosaError], message: str, fields: Dict[str, Any]) -> MiosaError:
    return cls(message, **fields)


class APIStatusError(MiosaError):
    """The server answered with a non-success HTTP status; `status` is set."""


class AuthenticationError(APIStatusError):
    """401: the API key was refused."""


class InsufficientCreditsError(APIStatusError):
    """402: the account has no credits left."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this (admin routes need an admin key)."""


class NotFoundError(APIStatusError):
    """404: no such resource."""


class ConflictError(APIStatusError):
    """409: the resource is in the wrong state."""


class ValidationError(APIStatusError):
    """400 or 422: the server rejected the request's content."""


class RateLimitError(APIStatusError):
    """429: slow down; `retry_after` says for how many seconds when the server knows."""


class ServerError(APIStatusError):
    """5xx: the server failed."""


class APIConnectionError(MiosaError):
    """The connection could not be made or broke; there is no status."""


class APITimeoutError(APIConnectionError):
    """A connect, response or stream-idle timeout expired."""


class DecodeError(MiosaError):
    """A success response could not be decoded."""


class InvalidArgumentError(MiosaError, ValueError, TypeError):
    """The arguments were refused before any network use (also a ValueError and a TypeError)."""


class RequestCancelledError(MiosaError):
    """The request was cancelled (its stream closed or its client released)."""


class UsageError(MiosaError, RuntimeError):
    """The call cannot run here: a closed client, or a blocking call inside a running event loop's thread."""


class LimitExceededError(MiosaError):
    """A response body, download or SSE line/event went over its limit; the
    message names the setting (``max_response_bytes``, ``max_download_bytes``,
    ``max_event_bytes``)."""


class WebhookVerificationError(MiosaError, ValueError):
    """A webhook delivery was refused; `code` is ``missing_signature``,
    ``malformed_header``, ``invalid_signature``, ``timestamp_too_old`` or
    (from `webhooks.unwrap`) ``invalid_payload``."""


_BY_KIND: Dict[str, Type[MiosaError]] = {
    "authentication": AuthenticationError,
    "insufficient_credits": InsufficientCreditsError,
    "permission_denied": PermissionDeniedError,
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "validation": ValidationError,
    "rate_limited": RateLimitError,
    "server": ServerError,
    "api": APIStatusError,
    "timeout": APITimeoutError,
    "connection": APIConnectionError,
    "decode": DecodeError,
    "invalid_argument": InvalidArgumentError,
    "cancelled": RequestCancelledError,
    "usage": UsageError,
    "limit_exceeded": LimitExceededError,
    "webhook": WebhookVerificationError,
}


def _from_native(
    kind: str,
    message: str,
    status: Optional[int],
    code: Optional[str],
    body: Any,
    request_id: Optional[str],
    retry_after: Optional[float],
    attempts: int,
) -> MiosaError:
    """Called by the native module to build the exception for a core error."""
    cls = _BY_KIND.get(kind, MiosaError)
    if cls is APIStatusError and status is None:
        cls = MiosaError
    return cls(
        message,
        kind=kind,
        status=status,
        code=code,
        body=body,
        request_id=request_id,
        retry_after=retry_after,
        attempts=attempts,
    )
