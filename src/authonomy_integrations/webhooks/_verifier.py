"""``WebhookVerifier``: check a delivery's signature and timestamp, then parse its event."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from .._errors import ConfigurationError, WebhookVerificationError
from ._event import WebhookEvent, parse_event
from ._signature import (
    Headers,
    Secret,
    WebhookKey,
    check_timestamp,
    decode_signatures,
    read_signed_headers,
    signed_by_any,
    signed_prefix,
)

__all__ = ["DEFAULT_TOLERANCE", "NO_MATCHING_SIGNATURE", "WebhookVerifier"]

#: Why a delivery whose signature no configured secret produces is refused.
NO_MATCHING_SIGNATURE = "no matching signature"

DEFAULT_TOLERANCE = 300
"""Seconds a delivery's timestamp may be away from now, either way (the contract's 300 s)."""


def _seconds(now: float | datetime) -> float:
    if isinstance(now, datetime):
        return now.timestamp()
    return float(now)


class WebhookVerifier:
    """Verifies Standard Webhooks deliveries signed with any of ``secrets``.

    Several secrets are accepted at once so a rotation needs no downtime. Every failure
    raises :class:`~authonomy_integrations._errors.WebhookVerificationError` with a short
    ``reason``; nothing else escapes :meth:`verify`.
    """

    __slots__ = ("_keys", "_tolerance")

    def __init__(
        self, secrets: Secret | Sequence[Secret], *, tolerance: float = DEFAULT_TOLERANCE
    ) -> None:
        items = [secrets] if isinstance(secrets, str | bytes) else list(secrets)
        if not items:
            raise ConfigurationError(
                "webhook_secret",
                "at least one secret is required",
                variable="AUTHONOMY_WEBHOOK_SECRET",
            )
        if tolerance <= 0:
            raise ConfigurationError("tolerance", "must be positive")
        self._keys = tuple(WebhookKey(item) for item in items)
        self._tolerance = tolerance

    @property
    def tolerance(self) -> float:
        """Seconds a timestamp may be away from now."""
        return self._tolerance

    def verify(
        self, headers: Headers, body: bytes, now: float | datetime | None = None
    ) -> WebhookEvent:
        """The event in ``body`` once its headers, timestamp and signature check out.

        ``body`` must be the raw bytes as received; ``now`` (Unix seconds or an aware
        datetime) defaults to the system clock.
        """
        if type(body) is not bytes:
            body = _as_bytes(body)
        webhook_id, timestamp, signature = read_signed_headers(headers)
        check_timestamp(timestamp, time.time() if now is None else _seconds(now), self._tolerance)
        candidates = decode_signatures(signature)
        if not signed_by_any(self._keys, signed_prefix(webhook_id, timestamp), body, candidates):
            raise WebhookVerificationError(NO_MATCHING_SIGNATURE)
        return parse_event(body, webhook_id, timestamp)


def _as_bytes(body: object) -> bytes:
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    raise WebhookVerificationError("body must be the raw request bytes")
