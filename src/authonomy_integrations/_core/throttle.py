"""A local throttle for login starts, per client address.

Every login start is a call to Authonomy's ``/auth/authorize``, which counts against the
application's quota. Without a limit, one script could spend that quota (and lock real
users out of signing in) by fetching the login route in a loop. :class:`LoginThrottle`
is a token bucket per client address: ``limit`` starts per ``window`` seconds, refilled
continuously. It does no I/O; ``now`` is a parameter.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import OrderedDict

__all__ = ["LoginThrottle", "client_key"]

#: Client addresses tracked at once. When full, the address seen least recently is
#: forgotten (it gets a full bucket back), so memory stays bounded whatever the traffic.
_MAX_CLIENTS = 10_000


def client_key(client_ip: str | None) -> str:
    """The bucket of a client address: the address, or its /64 for IPv6.

    One IPv6 host usually owns a whole /64, so counting single addresses would let it
    start logins from as many addresses as it likes.
    """
    if not client_ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class LoginThrottle:
    """At most ``limit`` login starts per ``window`` seconds from one client address.

    ``limit`` 0 turns the throttle off.
    """

    def __init__(self, limit: int, window: float, *, max_clients: int = _MAX_CLIENTS) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client_ip: str | None, now: float) -> float | None:
        """Count one start from ``client_ip``; ``None`` if allowed, else the seconds to
        wait before the next one would be."""
        if self.limit <= 0:
            return None
        key = client_key(client_ip)
        rate = self.limit / self.window
        with self._lock:
            tokens, updated = self._buckets.pop(key, (float(self.limit), now))
            # A clock that went backwards refills nothing.
            tokens = min(float(self.limit), tokens + max(0.0, now - updated) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        if allowed:
            return None
        return max(1.0, math.ceil((1.0 - tokens) / rate))

    def __len__(self) -> int:
        return len(self._buckets)
