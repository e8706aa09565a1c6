"""Request targets and URLs as ASCII text, exactly as the client sent them.

Where to come back to after a login is the path and query the browser asked for,
percent-encoded as received: decoding and encoding again would lose the difference
between ``/files/a%3Fb`` and ``/files/a?b``. Header values are bytes, so every URL the
kit sends back is made ASCII.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_from_bytes

__all__ = [
    "ascii_target",
    "ascii_url",
    "asgi_target",
    "prefixed",
    "url_prefix",
    "wsgi_target",
]

#: Characters kept as they are in a URL the kit sends back: printable ASCII, ``%``
#: included (the URL is already percent-encoded); anything else is percent-encoded.
_PRINTABLE_ASCII = "".join(chr(code) for code in range(0x21, 0x7F))


def ascii_target(raw: bytes) -> str:
    """A request target (path, query) exactly as received, as ASCII text.

    Bytes the client sent percent-encoded stay so (``/files/a%3Fb`` keeps its ``%3F``);
    raw non-ASCII bytes, spaces and controls are percent-encoded, never decoded.
    """
    return quote_from_bytes(raw, safe=_PRINTABLE_ASCII)


#: Characters a path keeps when it has to be encoded again from its decoded form.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def asgi_target(scope: Mapping[str, Any]) -> str:
    """The path and query of an ASGI request as the client sent them (percent-encoded,
    ASCII): where to come back to after a login.

    The raw path is used when the server gives it: the decoded ``path`` has lost the
    difference between ``/files/a%3Fb`` and ``/files/a?b``.
    """
    raw: bytes | None = scope.get("raw_path")
    # ASGI's raw path has no query, but Litestar's test client leaves it on: the query
    # comes from ``query_string`` alone (a ``?`` in a path is always encoded).
    path = ascii_target(raw.partition(b"?")[0]) if raw else quote(scope["path"], safe=_PATH_SAFE)
    query: bytes | str = scope.get("query_string", b"")
    if isinstance(query, str):  # Django's AsyncClient writes text where servers give bytes
        query = query.encode("latin-1")
    return f"{path}?{ascii_target(query)}" if query else path


def wsgi_target(environ: Mapping[str, Any]) -> str:
    """The path and query of a WSGI request as the client sent them (percent-encoded,
    ASCII).

    ``REQUEST_URI`` (or ``RAW_URI``) is the target before any decoding, which keeps
    ``/files/a%3Fb`` apart from ``/files/a?b``; servers that do not give it get the
    decoded ``SCRIPT_NAME`` + ``PATH_INFO`` encoded again.
    """
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if isinstance(raw, str) and raw.startswith("/") and not raw.startswith("//"):
        with contextlib.suppress(UnicodeEncodeError):
            return ascii_target(raw.encode("latin-1"))
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    try:
        # WSGI strings carry the request's bytes as Latin-1 (PEP 3333).
        encoded = quote_from_bytes(path.encode("latin-1"), safe=_PATH_SAFE)
    except UnicodeEncodeError:
        encoded = quote(path, safe=_PATH_SAFE)
    query = environ.get("QUERY_STRING")
    if not query:
        return encoded
    with contextlib.suppress(UnicodeEncodeError):
        return f"{encoded}?{ascii_target(query.encode('latin-1'))}"
    return f"{encoded}?{ascii_url(query)}"


def ascii_url(url: str) -> str:
    """``url`` with every character outside printable ASCII percent-encoded (as UTF-8),
    so it can go into a ``Location`` header whatever it came from."""
    if url.isascii() and url.isprintable() and " " not in url:
        return url
    return quote(url, safe=_PRINTABLE_ASCII, errors="replace")


def url_prefix(root: str | None) -> str:
    """The URL prefix an app is served under, as the kit puts it in front of the URLs it
    builds: ASGI's ``root_path`` or WSGI's ``SCRIPT_NAME`` (decoded, as servers give
    them) percent-encoded again, without a trailing ``/``; ``""`` at the site's root."""
    if not root:
        return ""
    return quote(root, safe=_PATH_SAFE).rstrip("/")


def prefixed(target: str, prefix: str) -> str:
    """``target`` (a path and query of the app's) with ``prefix`` in front, unless it
    already starts with it: ASGI servers and most WSGI ones give the full path, and a
    server behind a proxy that stripped the prefix gives the path without it."""
    if not prefix or target == prefix or target.startswith((prefix + "/", prefix + "?")):
        return target
    return prefix + target
