"""A throttle for login starts, per client address.

Every login start is a call to Authonomy's ``/auth/authorize``, which counts against the
application's quota. Without a limit, one script could spend that quota (and lock real
users out of signing in) by fetching the login route in a loop. The rules:

- every start counts, a signed-in browser's too (one cheap account must not spend the
  quota either);
- an IPv4 address has ``limit`` starts per ``window`` seconds; an IPv6 client counts per
  /64 (one host usually owns one) with ``limit``, and per /48 (one site) with
  :data:`WIDE_FACTOR` times it, so the holder of a /48 cannot rotate through its /64s;
  either limit refuses;
- a request without a client address is not throttled: one bucket shared by every such
  client would let one of them block everyone's sign-in. The throttle says once in the
  log that addresses are missing and how to pass them;
- buckets are named by a keyed hash, so neither an event nor a shared store holds an
  address.

:class:`LoginThrottle` keeps token buckets in this process (``limit`` per ``window``,
refilled continuously); with a shared store the login flow counts there instead (see
:mod:`.signin`). It does no I/O; ``now`` is a parameter.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["WIDE_FACTOR", "Bucket", "LoginThrottle", "client_key"]

logger = logging.getLogger("authonomy_integrations.login")

#: Client buckets tracked at once. When full, the bucket seen least recently is
#: forgotten (it gets a full allowance back), so memory stays bounded whatever the traffic.
_MAX_CLIENTS = 10_000
#: How many times ``limit`` an IPv6 /48 may start, all its /64s together.
WIDE_FACTOR = 8

_MISSING_ADDRESS = (
    "login starts are not throttled for requests without a client address (the server "
    "reports none, as behind a proxy on a Unix socket). Let the server take the browser's "
    "address from the proxy's headers: uvicorn --proxy-headers --forwarded-allow-ips, "
    "gunicorn --forwarded-allow-ips, Werkzeug's ProxyFix, Hypercorn's ProxyFixMiddleware"
)


def client_key(client_ip: str | None) -> str:
    """The narrowest bucket of a client address: the address, or its /64 for IPv6."""
    return _prefixes(client_ip)[0][0] if client_ip else ""


def _prefixes(client_ip: str) -> list[tuple[str, int]]:
    """``(bucket, limit factor)`` pairs for an address; text that is no IP address (a
    test client's name) is its own bucket."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return [(client_ip[:64], 1)]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return [(str(address.ipv4_mapped), 1)]
        return [
            (str(ipaddress.IPv6Network((address, 64), strict=False)), 1),
            (str(ipaddress.IPv6Network((address, 48), strict=False)), WIDE_FACTOR),
        ]
    return [(str(address), 1)]


@dataclass(frozen=True, slots=True)
class Bucket:
    """One allowance a login start draws on: ``key`` names it (a keyed hash, never the
    address), ``limit`` starts per window."""

    key: str
    limit: int


class LoginThrottle:
    """At most ``limit`` login starts per ``window`` seconds from one client (see the
    module's rules). ``limit`` 0 turns the throttle off. ``secret`` keys the hashes that
    name buckets: the same secret in every worker names a client alike in all of them.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        max_clients: int = _MAX_CLIENTS,
        secret: bytes | None = None,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._warned = False

    def buckets(self, client_ip: str | None) -> Sequence[Bucket]:
        """The allowances a start from ``client_ip`` draws on; none without an address
        (said once in the log) or with the throttle off."""
        if self.limit <= 0:
            return ()
        if not client_ip:
            self._missing_address()
            return ()
        return [
            Bucket(self._name(prefix), self.limit * factor)
            for prefix, factor in _prefixes(client_ip)
        ]

    def _name(self, prefix: str) -> str:
        return hmac.new(self._secret, prefix.encode(), hashlib.sha256).hexdigest()[:16]

    def _missing_address(self) -> None:
        if not self._warned:
            self._warned = True
            logger.warning(_MISSING_ADDRESS)

    def take(self, client_ip: str | None, now: float) -> float | None:
        """Count one start from ``client_ip`` here; ``None`` if allowed, else the
        seconds to wait before the next one would be."""
        return self.take_buckets(self.buckets(client_ip), now)

    def take_buckets(self, buckets: Sequence[Bucket], now: float) -> float | None:
        """Count one start against every bucket, in this process: allowed only when each
        has a start left (then each gives one), else the longest wait."""
        with self._lock:
            levels = [self._level(bucket, now) for bucket in buckets]
            allowed = all(level >= 1.0 for level in levels)
            for bucket, level in zip(buckets, levels, strict=True):
                self._buckets.pop(bucket.key, None)
                self._buckets[bucket.key] = (level - 1.0 if allowed else level, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        if allowed:
            return None
        waits = [
            (1.0 - level) * self.window / bucket.limit
            for bucket, level in zip(buckets, levels, strict=True)
            if level < 1.0
        ]
        return max(1.0, math.ceil(max(waits)))

    def _level(self, bucket: Bucket, now: float) -> float:
        tokens, updated = self._buckets.get(bucket.key, (float(bucket.limit), now))
        # A clock that went backwards refills nothing.
        rate = bucket.limit / self.window
        return min(float(bucket.limit), tokens + max(0.0, now - updated) * rate)

    def label(self, client_ip: str | None) -> str | None:
        """What an event may say of the client: its narrowest bucket's keyed hash."""
        buckets = self.buckets(client_ip)
        return buckets[0].key[:12] if buckets else None

    def __len__(self) -> int:
        return len(self._buckets)
