"""Which URLs the kit will talk to: absolute http(s), and plain http only on this machine.

One rule for every URL the kit is given or discovers (API base, issuer, key set, app),
so that an API key, a session or a signing key never crosses the network unencrypted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["LOCAL_HOSTS", "url_problem"]

#: Hosts where plain http is allowed: this machine only. Test clients' made-up host
#: names (``testserver``) are not among them: a production setting naming one would
#: send secrets in clear text to whatever that name resolves to. Tests use ``localhost``.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def url_problem(url: object) -> str | None:
    """Why ``url`` is not acceptable, or ``None`` when it is."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"must be an absolute http(s) URL, got {url!r}"
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        return f"must use https outside localhost, got {url!r}"
    return None
