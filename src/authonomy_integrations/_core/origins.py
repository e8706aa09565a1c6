"""The app's origins: which request ``Host`` is one of them, and the customer it pins.

``app_url`` names one origin, or several (a list, or text separated by commas), and one
of them may hold a ``{customer}`` placeholder as its leftmost host label:
``https://{customer}.myapp.example``. A request's ``Host`` is matched against these and
nothing else, port included; the origin it matches is where ``return_url``, redirects and
cookies belong, and a tenant host's label is the customer every login there is for.
A ``Host`` that matches none is never put into a URL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .urls import url_problem

__all__ = ["PLACEHOLDER", "Origin", "Origins", "origins_problem", "split_origins"]

#: Stands for the customer's label in a tenant origin.
PLACEHOLDER = "{customer}"
#: A DNS label as a browser sends it (lower case): what a tenant host's label may be.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
#: A label put in the placeholder's place to check a tenant origin as a plain URL.
_SAMPLE = "customer"


@dataclass(frozen=True, slots=True)
class Origin:
    """One origin of the app, as a request's ``Host`` matched it."""

    url: str
    """``scheme://host[:port]``, without a trailing slash."""
    host: str
    """``host[:port]`` as browsers send it in ``Host`` (lower case, default port left out)."""
    customer: str | None = None
    """The customer a tenant host pins (its leftmost label), else ``None``."""


def split_origins(value: object) -> tuple[str, ...]:
    """``app_url`` as a tuple of origins without trailing ``/`` (text is split at commas;
    anything else that is not a list is kept as it is, for the checks to name)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    else:
        items = list(value) if isinstance(value, Sequence) else [value]
    return tuple(item.strip().rstrip("/") if isinstance(item, str) else item for item in items)


def origins_problem(origins: Sequence[object]) -> str | None:
    """Why ``origins`` (from :func:`split_origins`) cannot be the app's, or ``None``."""
    if not origins:
        return "must name at least one origin"
    problems = (_origin_problem(origin) for origin in origins)
    problem = next((p for p in problems if p is not None), None)
    if problem is not None:
        return problem
    texts = [str(origin) for origin in origins]
    if sum(PLACEHOLDER in text for text in texts) > 1:
        return f"only one origin may hold {PLACEHOLDER}"
    if len({urlsplit(text).scheme for text in texts}) > 1:
        # The cookies' names and flags (``__Host-``, ``Secure``) are one per app.
        return "origins must all use the same scheme (all https, or all http on this machine)"
    hosts = [_host_of(text) for text in texts]
    if len(set(hosts)) < len(hosts):
        return "names the same origin twice"
    return None


def _origin_problem(origin: object) -> str | None:
    if not isinstance(origin, str) or not origin:
        return f"each origin must be a non-empty string, got {origin!r}"
    text = origin
    if PLACEHOLDER in origin:
        sample = _tenant_sample(origin)
        if sample is None:
            return (
                f"{PLACEHOLDER} must be the whole leftmost label of the host, below a "
                f"domain of its own (https://{PLACEHOLDER}.myapp.example), got {origin!r}"
            )
        text = sample
    problem = url_problem(text)
    if problem is not None and not _local_tenant(text):
        return problem
    parts = urlsplit(text)
    if parts.path not in ("", "/"):
        return (
            f"must be an origin without a path, got {origin!r}; an app under a URL prefix "
            "is given it by its server: ASGI root_path (uvicorn --root-path), WSGI "
            "SCRIPT_NAME, Django FORCE_SCRIPT_NAME"
        )
    if parts.query or parts.fragment or parts.username:
        return f"must be an origin without a path, got {origin!r}"
    return None


def _tenant_sample(origin: str) -> str | None:
    """``origin`` with a sample label in the placeholder's place, if it is well placed:
    the whole leftmost label, above a domain of the app's own (not a bare TLD)."""
    scheme, sep, rest = origin.partition("://")
    if not sep or not rest.startswith(PLACEHOLDER + "."):
        return None
    below = rest[len(PLACEHOLDER) + 1 :]
    domain = below.partition(":")[0]
    if PLACEHOLDER in below or not ("." in domain.strip(".") or domain == "localhost"):
        return None
    return f"{scheme}://{_SAMPLE}.{below}"


def _local_tenant(url: str) -> bool:
    """Whether ``url`` is plain http on a subdomain of ``localhost``, which resolves to
    this machine (RFC 6761) and so may go without TLS, like ``localhost`` itself."""
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "").endswith(".localhost")


def _host_of(origin: str) -> str:
    parts = urlsplit(origin)
    return parts.netloc.lower().removesuffix(_DEFAULT_PORTS.get(parts.scheme, ""))


class Origins:
    """The app's origins, checked (see :func:`origins_problem`), and the ``Host`` match."""

    def __init__(self, origins: Sequence[str]) -> None:
        fixed = [origin for origin in origins if PLACEHOLDER not in origin]
        tenant = next((origin for origin in origins if PLACEHOLDER in origin), None)
        self.by_host = {_host_of(url): Origin(url, _host_of(url)) for url in fixed}
        #: The first origin: where a sign-in goes when the ``Host`` decides nothing.
        self.primary = Origin(origins[0], _host_of(origins[0])) if origins else None
        #: Several origins or a tenant one: the ``Host`` decides which is in use.
        self.several = len(origins) > 1 or tenant is not None
        #: A tenant origin: every caller's customer must be its host's.
        self.tenants = tenant is not None
        self._scheme = origins[0].partition("://")[0] if origins else ""
        self._default_port = _DEFAULT_PORTS.get(self._scheme, "")
        #: ``.myapp.example[:port]``: what a tenant host ends with, after its label.
        self._suffix = _host_of(tenant).removeprefix(PLACEHOLDER) if tenant else ""

    def match(self, host: str | None) -> Origin | None:
        """The origin ``host`` (a request's ``Host``) names, or ``None`` when it is none
        of the app's."""
        if not host:
            return None
        host = host.lower().removesuffix(self._default_port)
        known = self.by_host.get(host)
        if known is not None or not self._suffix or not host.endswith(self._suffix):
            return known
        label = host[: -len(self._suffix)]
        if not _LABEL.fullmatch(label):
            return None
        return Origin(f"{self._scheme}://{host}", host, customer=label)

    def in_use(self, host: str | None) -> Origin | None:
        """The origin a request to ``host`` is served at: with one origin, always that
        one (the ``Host`` is never trusted for it); with several, the one ``host`` names,
        or ``None``."""
        return self.match(host) if self.several else self.primary
