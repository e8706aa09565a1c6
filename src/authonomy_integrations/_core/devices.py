"""A user's sessions as the user may see them: which device, from which network, when.

What a listing shows must not let anyone take a session over: each session is named by
an opaque handle (a keyed hash of its id, useless as a cookie), and the address it
signed in from appears only as its network prefix.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .crypto import b64url_encode
from .sessions import SessionRecord

__all__ = ["device_of", "handle_key", "ip_prefix", "listing", "session_handle"]

#: Characters of ``User-Agent`` kept: enough to tell browsers apart, small in a cookie.
_USER_AGENT_CHARS = 200
#: Network prefix lengths shown: an IPv4 /24, an IPv6 /48 (a site).
_V4_PREFIX = 24
_V6_PREFIX = 48


def ip_prefix(address: str | None) -> str | None:
    """The network ``address`` is in (``203.0.113.0/24``, ``2001:db8:1::/48``), or ``None``."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # an IPv4 client on a dual-stack socket
    length = _V4_PREFIX if ip.version == 4 else _V6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{length}", strict=False))


def device_of(headers: Mapping[str, str], client_ip: str | None) -> tuple[str | None, str | None]:
    """The ``User-Agent`` (cut short, printable only) and network prefix of a sign-in."""
    agent = "".join(c for c in headers.get("user-agent", "") if c.isprintable())
    return agent[:_USER_AGENT_CHARS] or None, ip_prefix(client_ip)


def handle_key(session_secret: str) -> bytes:
    """The key of session handles, derived from the app's session secret so every worker
    names a session alike."""
    return hashlib.sha256(b"authonomy session handle\x00" + session_secret.encode()).digest()


def session_handle(key: bytes, session_id: str) -> str:
    """The opaque name of a session in listings and in ``{sessions_path}/{id}/end``."""
    digest = hmac.new(key, session_id.encode(), hashlib.sha256).digest()
    return b64url_encode(digest[:16])


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(record: SessionRecord, key: bytes, current: str | None) -> dict[str, Any]:
    return {
        "id": session_handle(key, record.id),
        "current": record.id == current,
        "created_at": _when(record.created_at),
        "last_seen_at": _when(record.last_seen),
        "user_agent": record.user_agent,
        "ip_prefix": record.ip_prefix,
        "mfa": "mfa" in (record.claims.get("amr") or ()),
    }


def listing(records: Iterable[SessionRecord], key: bytes, current: str | None) -> bytes:
    """``{"sessions": [...]}``, newest first; ``current`` is the id of the caller's own."""
    newest = sorted(records, key=lambda record: record.created_at, reverse=True)
    body = {"sessions": [_entry(record, key, current) for record in newest]}
    return json.dumps(body).encode()
