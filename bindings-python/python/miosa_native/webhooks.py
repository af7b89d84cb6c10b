"""Webhook signature verification.

    from miosa_native import webhooks
    event = webhooks.unwrap(request_body, request.headers, secret)

or, with the header already in hand,

    webhooks.verify(request_body, request.headers.get(webhooks.SIGNATURE_HEADER), secret)

Both schemes are accepted: ``sha256=<hex>`` over the raw body, and the legacy
``t=<unix>,v1=<hex>`` over ``"<t>." + body`` with a timestamp tolerance.
Comparisons are constant-time. A refused delivery (a missing, malformed or
wrong signature, a stale timestamp) raises `WebhookVerificationError`; the
caller's own unusable input (a missing or empty secret, a negative or
non-finite `tolerance` or `now`, a parsed object instead of the raw body)
raises `InvalidArgumentError`. Nothing is ever silently accepted.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Union

from ._native import unwrap_webhook, verify_webhook

__all__ = ["SIGNATURE_HEADER", "Payload", "unwrap", "verify"]

SIGNATURE_HEADER = "X-MIOSA-Signature"

#: The raw request body, exactly as received.
Payload = Union[str, bytes, bytearray, memoryview]


def verify(
    payload: Payload,
    signature: Optional[str],
    secret: str,
    *,
    tolerance: Optional[float] = None,
    now: Optional[float] = None,
) -> None:
    """Returns when `signature` matches; raises `WebhookVerificationError` otherwise.

    `signature` is the ``X-MIOSA-Signature`` header's value (``None`` when the
    request had none). `tolerance` (seconds, default 300) and `now` (unix
    seconds, default the current time) apply to the legacy timestamped scheme.
    """
    verify_webhook(payload, signature, secret, tolerance=tolerance, now=now)


def unwrap(
    payload: Payload,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: Optional[float] = None,
    now: Optional[float] = None,
) -> Dict[str, Any]:
    """Verifies a delivery and returns its parsed event.

    `headers` is the request's header mapping (a dict, or a framework's
    headers object with ``items()``); names match in any case. Raises as
    `verify` does, and `WebhookVerificationError` with code
    ``invalid_payload`` when the signed body is not a JSON object.
    """
    event: Dict[str, Any] = unwrap_webhook(payload, headers, secret, tolerance=tolerance, now=now)
    return event
