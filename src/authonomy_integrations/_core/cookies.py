"""The kit's cookies: their names, ``Set-Cookie`` values, and reading a ``Cookie`` header."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._config import AuthonomyConfig

__all__ = [
    "asgi_cookie_header",
    "clear_cookie",
    "cookie_value",
    "login_cookie_name",
    "session_cookie_name",
    "set_cookie",
]


def asgi_cookie_header(request: Any, default: str | None) -> str | None:
    """The ``Cookie`` header of ``request`` when it carries its ASGI ``scope`` (as
    Starlette's and Django's ASGI requests do), else ``default``.

    HTTP/2 may split cookies over several ``Cookie`` headers, which are one value joined
    with ``"; "`` (RFC 9113, section 8.2.3). A framework that joins every repeated header
    with ``","`` (Django's ASGI requests do) would run the last cookie of one header into
    the first of the next, so the scope's own pairs are read instead.
    """
    scope = getattr(request, "scope", None)
    # An ASGI scope is a ``dict`` (ASGI spec); the exact test runs on every Django
    # request, where an abstract ``Mapping`` check costs more than the rest of this.
    if not isinstance(scope, dict):
        return default
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", ())
    values = [value for name, value in headers if name == b"cookie" and value]
    return b"; ".join(values).decode("latin-1") if values else None


def cookie_value(header: str | None, name: str) -> str | None:
    """The value of cookie ``name`` in a ``Cookie`` header; ``None`` when absent or empty.

    The header is split into ``name=value`` pairs at ``;`` as RFC 6265 section 5.4
    writes them (whitespace around names and values ignored, a pair without ``=``
    skipped), and names are compared exactly, so text inside another cookie's value is
    never read. A name sent twice makes the cookie absent: a duplicate planted by a
    sibling domain or an earlier response must neither win over the real cookie nor be
    mistaken for it, whichever order the browser sends them in.
    """
    if not header or name not in header:  # most requests: the cookie is not there at all
        return None
    found: str | None = None
    seen = False
    for pair in header.split(";"):
        key, sep, value = pair.partition("=")
        if not sep or key.strip() != name:
            continue
        if seen:
            return None
        seen = True
        found = value.strip()
    return found or None


def session_cookie_name(config: AuthonomyConfig) -> str:
    """The session cookie's name (``__Host-`` prefixed on https)."""
    return _prefixed(config, config.session_cookie)


def login_cookie_name(config: AuthonomyConfig) -> str:
    """The login-attempts cookie's name (``__Host-`` prefixed on https)."""
    return _prefixed(config, config.login_cookie)


def _prefixed(config: AuthonomyConfig, name: str) -> str:
    return f"__Host-{name}" if config.secure_cookies else name


def set_cookie(config: AuthonomyConfig, name: str, value: str, max_age: int) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite, Path=/, Secure on https."""
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly"]
    parts.append(f"SameSite={config.cookie_samesite.capitalize()}")
    if config.secure_cookies:
        parts.append("Secure")
    return "; ".join(parts)


def clear_cookie(config: AuthonomyConfig, name: str) -> str:
    """A ``Set-Cookie`` value that deletes the cookie."""
    return set_cookie(config, name, "", 0)
