"""Webhook signature verification.

    from miosa_native import webhooks
    webhooks.verify(request_body, request.headers[webhooks.SIGNATURE_HEADER], secret)

Both schemes are accepted: ``sha256=<hex>`` over the raw body, and the legacy
``t=<unix>,v1=<hex>`` over ``"<t>." + body`` with a timestamp tolerance.
Comparisons are constant-time.
"""

from __future__ import annotations

from typing import Optional, Union

from ._native import verify_webhook

__all__ = ["SIGNATURE_HEADER", "verify"]

SIGNATURE_HEADER = "X-MIOSA-Signature"


def verify(
    payload: Union[bytes, str],
    signature: str,
    secret: str,
    *,
    tolerance: Optional[float] = None,
    now: Optional[int] = None,
) -> None:
    """Returns when `signature` matches; raises `WebhookVerificationError` otherwise.

    `tolerance` (seconds, default 300) and `now` (unix seconds, default the
    current time) apply to the legacy timestamped scheme.
    """
    verify_webhook(payload, signature, secret, tolerance=tolerance, now=now)
