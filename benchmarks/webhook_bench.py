"""Webhook verification: the kit's ``WebhookVerifier`` against ``standardwebhooks`` and a
minimal hand-written check, on 1 KiB and 64 KiB deliveries.

All three check the timestamp window and the HMAC-SHA256 signature in constant time and
parse the JSON body; the kit also validates the event's shape. ``standardwebhooks``
returns a dict, the kit a ``WebhookEvent``.

``python -m benchmarks.webhook_bench [--quick]``
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from standardwebhooks import Webhook

from authonomy_integrations.webhooks import WebhookVerifier, sign

from ._harness import (
    Row,
    Settings,
    SuiteResult,
    Target,
    Variant,
    finish,
    measure,
    median_of,
    profile,
    rows,
)

KIT = "kit: WebhookVerifier.verify"
STANDARD = "standardwebhooks: Webhook.verify"
MINIMAL = "minimal: hmac + compare_digest + json.loads"
SIZES = {"1 KiB": (1024, 20_000), "64 KiB": (64 * 1024, 1_000)}


def delivery(size: int) -> bytes:
    """A ``user.authenticated`` event padded with groups to about ``size`` bytes."""
    event: dict[str, Any] = {
        "id": f"evt_{secrets.token_hex(12)}",
        "type": "user.authenticated",
        "timestamp": "2026-01-01T00:00:00Z",
        "data": {
            "user": {
                "id": "user_alice",
                "email": "alice@acme-corp.com",
                "name": "Alice Anderson",
                "customer_id": "acme-corp",
                "groups": [],
            },
            "session": {"id": "sess_0123456789abcdef", "expires_at": "2026-01-01T08:00:00Z"},
        },
    }
    groups = event["data"]["user"]["groups"]
    while len(json.dumps(event)) < size:
        groups.append(f"group-{len(groups):05d}")
    return json.dumps(event).encode()


def minimal_verifier(key: bytes, tolerance: int = 300) -> Callable[[Mapping[str, str], bytes], Any]:
    """The least a correct receiver does: timestamp window, HMAC, constant-time compare, parse."""

    def verify(headers: Mapping[str, str], body: bytes) -> Any:
        timestamp = int(headers["webhook-timestamp"])
        if abs(time.time() - timestamp) > tolerance:
            raise ValueError("timestamp outside the window")
        signed = f"{headers['webhook-id']}.{timestamp}.".encode() + body
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        for entry in headers["webhook-signature"].split(" "):
            version, _, value = entry.partition(",")
            if version == "v1" and hmac.compare_digest(expected, base64.b64decode(value)):
                return json.loads(body)
        raise ValueError("no matching signature")

    return verify


def _batch(
    verify: Callable[[Mapping[str, str], bytes], Any], headers: Mapping[str, str], body: bytes
) -> Callable[[int], int]:
    def run(n: int) -> int:
        start = time.perf_counter_ns()
        for _ in range(n):
            verify(headers, body)
        return time.perf_counter_ns() - start

    return run


def variants_for(size: int, iterations: int) -> list[Variant]:
    """The three verifiers on one signed delivery of ``size`` bytes."""
    key = secrets.token_bytes(32)
    secret = "whsec_" + base64.b64encode(key).decode()
    body = delivery(size)
    event_id = json.loads(body)["id"]
    headers = sign(secret, event_id, int(time.time()), body)
    kit = WebhookVerifier([secret]).verify
    standard = Webhook(secret)

    def standard_verify(h: Mapping[str, str], b: bytes) -> Any:
        return standard.verify(b, dict(h))

    return [
        Variant(STANDARD, _batch(standard_verify, headers, body), iterations),
        Variant(KIT, _batch(kit, headers, body), iterations),
        Variant(MINIMAL, _batch(minimal_verifier(key), headers, body), iterations),
    ]


def target(result_rows: list[Row]) -> Target:
    """The kit at 1 KiB must be at least 1.3x as fast as ``standardwebhooks``."""
    standard = median_of(result_rows, "webhooks 1 KiB", STANDARD)
    kit = median_of(result_rows, "webhooks 1 KiB", KIT)
    speedup = standard.median_us / kit.median_us
    return Target(
        "webhook verify + parse, 1 KiB",
        ">= 1.3x faster than standardwebhooks' verify",
        f"{speedup:.2f}x ({kit.median_us:.1f} µs vs {standard.median_us:.1f} µs)",
        speedup >= 1.3,
    )


def main(argv: list[str]) -> None:
    """Run both sizes; the ratio column is throughput relative to ``standardwebhooks``."""
    settings = Settings.from_argv(argv)
    result = SuiteResult(suite="webhooks")
    for label, (size, iterations) in SIZES.items():
        variants = variants_for(size, iterations)
        result.rows += rows(f"webhooks {label}", measure(variants, settings), STANDARD)
        if label == "1 KiB":
            result.targets.append(target(result.rows))
            if not result.targets[-1].met:
                result.profiles["webhooks 1 KiB: kit"] = profile(variants[1].batch, 5000)
    result.notes.append(
        "webhooks: ratio = standardwebhooks time / variant time (higher is faster); "
        "the timestamp window is 300 s in all three"
    )
    finish(result, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
