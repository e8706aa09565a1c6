"""What the kit answers on the web, framework-free: redirects, error envelopes, pages.

Both adapters turn a :class:`Reply` into their own response type, so a 401, a step-up
redirect or a 503 looks the same under Starlette, FastAPI and Flask. Cookies
(:mod:`.cookies`) and request targets (:mod:`.targets`) have their own modules; their
names are importable from here too, where the adapters take them from.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from .._config import AuthonomyConfig
from .._errors import AuthonomyUnavailableError, LoginError, TokenError
from .cookies import (
    asgi_cookie_header,
    clear_cookie,
    cookie_value,
    login_cookie_name,
    session_cookie_name,
    set_cookie,
)
from .policies import PolicyDecision
from .targets import (
    ascii_target,
    ascii_url,
    asgi_target,
    prefixed,
    url_prefix,
    wsgi_target,
)

__all__ = [
    "Reply",
    "app_host",
    "ascii_target",
    "ascii_url",
    "asgi_cookie_header",
    "asgi_target",
    "bearer_token",
    "clear_cookie",
    "cookie_value",
    "error_envelope",
    "foreign_host",
    "is_browser_navigation",
    "login_cookie_missing",
    "login_cookie_name",
    "login_failed",
    "login_url",
    "logout_allowed",
    "logout_refused",
    "method_not_allowed",
    "policy_denied",
    "post_only",
    "redirect",
    "session_cookie_name",
    "set_cookie",
    "too_many_logins",
    "unauthenticated",
    "unavailable",
    "unknown_host",
    "url_prefix",
    "wsgi_target",
]


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete HTTP answer: status, headers (besides Content-Type), body."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def error_envelope(code: str, message: str, details: Mapping[str, Any] | None = None) -> bytes:
    """The contract's error envelope, encoded."""
    error = {"code": code, "message": message, "details": dict(details or {})}
    return json.dumps({"success": False, "error": error}).encode()


def is_browser_navigation(method: str, headers: Mapping[str, str]) -> bool:
    """Whether a request is a browser loading a page (redirect it) or an API call (401).

    ``headers`` has lower-case names. A request that carries ``Authorization`` is an API
    call whatever it accepts.
    """
    if method not in ("GET", "HEAD") or "authorization" in headers:
        return False
    mode = headers.get("sec-fetch-mode")
    if mode is not None:
        return mode == "navigate"
    return "text/html" in headers.get("accept", "")


def login_url(
    config: AuthonomyConfig, next_path: str, step_up: str | None = None, prefix: str = ""
) -> str:
    """The login route with ``next`` (and the policy to step up for), both under the URL
    ``prefix`` the app is served at (``""`` at the site's root)."""
    query = {"next": prefixed(next_path, prefix)}
    if step_up:
        query["step_up"] = step_up
    return f"{prefix}{config.login_path}?{urlencode(query)}"


def redirect(location: str, *extra: tuple[str, str], status: int = 302) -> Reply:
    """A redirect that no cache keeps (``extra`` headers are added).

    ``location`` is made ASCII (see :func:`ascii_url`): header values are bytes, and a
    non-ASCII one would fail while the response is sent.
    """
    headers = (("location", ascii_url(location)), ("cache-control", "no-store"), *extra)
    return Reply(status, content_type="text/plain", headers=headers)


def method_not_allowed(*allowed: str) -> Reply:
    """405 with ``Allow``."""
    body = error_envelope("METHOD_NOT_ALLOWED", "Method not allowed")
    return Reply(405, body, headers=(("allow", ", ".join(allowed)),))


def post_only(config: AuthonomyConfig, method: str, headers: Mapping[str, str]) -> Reply:
    """405 for a route that ends sessions reached without ``POST`` (a link, the address
    bar), saying how to sign out; a browser gets it as a page. Nothing is ended: a GET
    that signed users out would let any page do it with an image."""
    message = (
        "Signing out takes a POST from this site's own pages, not a link or an address "
        f'typed in: a form such as <form method="post" action="{config.logout_path}">'
        '<button>Sign out</button></form>, or fetch(url, {method: "POST"}) from a page.'
    )
    allow = ("allow", "POST")
    if is_browser_navigation(method, headers):
        return _page(405, "Sign out", message, allow)
    return Reply(405, error_envelope("METHOD_NOT_ALLOWED", message), headers=(allow,))


def logout_refused() -> Reply:
    """403 for a logout that did not come from the app's own pages."""
    return Reply(403, error_envelope("FORBIDDEN", "Logout must come from this site's own pages"))


def _page(status: int, title: str, message: str, *headers: tuple[str, str]) -> Reply:
    body = _PAGE.format(title=html.escape(title), message=html.escape(message))
    return Reply(status, body.encode(), "text/html; charset=utf-8", headers)


def unauthenticated(
    config: AuthonomyConfig,
    method: str,
    headers: Mapping[str, str],
    path_with_query: str,
    error: TokenError | None = None,
    prefix: str = "",
) -> Reply:
    """No user: a browser goes to login and back; an API call gets 401. ``prefix`` is
    the URL prefix the app is served under."""
    if error is None and config.login_path is not None and is_browser_navigation(method, headers):
        return redirect(login_url(config, path_with_query, prefix=prefix))
    challenge = 'Bearer realm="authonomy"'
    message = "Authentication required"
    if error is not None:
        reason = error.reason.replace('"', "'")
        challenge += f', error="invalid_token", error_description="{reason}"'
        message = f"Invalid token: {error.reason}"
    return Reply(
        401,
        error_envelope("UNAUTHENTICATED", message),
        headers=(("www-authenticate", challenge),),
    )


def policy_denied(
    config: AuthonomyConfig,
    decision: PolicyDecision,
    method: str,
    headers: Mapping[str, str],
    path_with_query: str,
    prefix: str = "",
) -> Reply:
    """A user who fails a policy: step-up login when a fresh login cures it, else 403.
    ``prefix`` is the URL prefix the app is served under."""
    can_log_in = decision.login_can_cure and config.login_path is not None
    if can_log_in and is_browser_navigation(method, headers):
        return redirect(login_url(config, path_with_query, decision.policy, prefix))
    details = {"policy": decision.policy, "reason": decision.reason or "denied"}
    message = f"Policy '{decision.policy}' not satisfied: {decision.reason or 'denied'}"
    if is_browser_navigation(method, headers):
        return _page(403, "Access denied", message)
    return Reply(403, error_envelope("POLICY_VIOLATED", message, details))


def unavailable(
    exc: AuthonomyUnavailableError | Exception, method: str, headers: Mapping[str, str]
) -> Reply:
    """Authonomy cannot be reached: 503 with ``Retry-After``; the session is kept."""
    retry_after = getattr(exc, "retry_after", None) or 5
    retry = (("retry-after", str(max(1, math.ceil(retry_after)))),)
    message = "Sign-in is temporarily unavailable. Please try again in a moment."
    if is_browser_navigation(method, headers):
        return _page(503, "Temporarily unavailable", message, *retry)
    return Reply(503, error_envelope("TEMPORARILY_UNAVAILABLE", message), headers=retry)


def policy_unavailable(method: str, headers: Mapping[str, str]) -> Reply:
    """500: a policy the request needs could not be had from Authonomy for a reason of
    the app's own setup (logged with the cause); the request is refused, not let through."""
    message = "Access to this page could not be checked. Please try again later."
    if is_browser_navigation(method, headers):
        return _page(500, "Access could not be checked", message)
    return Reply(500, error_envelope("INTERNAL_ERROR", message))


def too_many_logins(retry_after: float, method: str, headers: Mapping[str, str]) -> Reply:
    """429 with ``Retry-After``: this client started too many logins in a short time."""
    retry = (("retry-after", str(max(1, math.ceil(retry_after)))),)
    message = "Too many sign-in attempts from this address. Please wait a moment."
    if is_browser_navigation(method, headers):
        return _page(429, "Too many sign-in attempts", message, *retry)
    return Reply(429, error_envelope("RATE_LIMITED", message), headers=retry)


def login_failed(exc: LoginError) -> Reply:
    """A callback or login start that cannot complete: a plain page, never a traceback."""
    if exc.error == "access_denied":
        return _page(403, "Sign-in cancelled", "The sign-in was cancelled or denied.")
    if exc.error == "wrong_user":
        return _page(
            400,
            "Signed in as someone else",
            "The extra verification was completed as a different user than the one signed "
            "in here, so it was not accepted. You are still signed in as before; verify "
            "again as yourself.",
        )
    if exc.error in ("customer_mismatch", "customer_not_allowed"):
        return _page(400, "Sign-in refused", f"The sign-in was refused: {exc.reason}.")
    return _page(400, "Sign-in failed", f"The sign-in could not be completed: {exc.reason}")


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def app_host(config: AuthonomyConfig) -> str:
    """``host[:port]`` of ``app_url`` (its first origin) as a browser sends it in ``Host``
    (default port left out)."""
    parts = urlsplit(_first_origin(config))
    return parts.netloc.lower().removesuffix(_DEFAULT_PORTS.get(parts.scheme, ""))


def _first_origin(config: AuthonomyConfig) -> str:
    origins = config.origins
    return origins[0] if origins else ""


def foreign_host(config: AuthonomyConfig, headers: Mapping[str, str]) -> str | None:
    """The request's ``Host`` when it is not ``app_url``'s, else ``None``.

    Cookies belong to a host: a sign-in started on ``localhost`` sets its cookie there,
    and the browser does not bring it back to the callback at ``127.0.0.1``.
    """
    parts = urlsplit(_first_origin(config))
    host = headers.get("host", "").lower().removesuffix(_DEFAULT_PORTS.get(parts.scheme, ""))
    return host if host and config.app_url and host != app_host(config) else None


def other_port(config: AuthonomyConfig, headers: Mapping[str, str]) -> str | None:
    """The request's ``Host`` when it names ``app_url``'s host with another port, else
    ``None``: the app was opened on a port the sign-in will not come back to."""
    host = foreign_host(config, headers)
    if host is None:
        return None
    app = urlsplit(_first_origin(config))
    seen = urlsplit(f"//{host}")
    return host if seen.hostname == app.hostname else None


def login_on_other_port(config: AuthonomyConfig, host: str) -> Reply:
    """The page of a sign-in started on ``host``, a port of ``app_url``'s host that is
    not its own: Authonomy would send the browser back to ``app_url``, elsewhere."""
    app_url = _first_origin(config)
    message = (
        f"This sign-in cannot start here: the app is open at {host}, but its address "
        f"(AUTHONOMY_APP_URL) is {app_url}, where the sign-in would come back to. Open "
        f"the app at {app_url}, or set AUTHONOMY_APP_URL to the address you use "
        "(with the sandbox: its --app-url)."
    )
    return _page(400, "Sign-in failed", message)


def login_cookie_missing(config: AuthonomyConfig, host: str, origin: str | None = None) -> Reply:
    """A callback without the cookie its login set: where the app must be opened.

    ``origin`` is the origin in use (the first of ``app_url`` when not given)."""
    app_url = origin or _first_origin(config)
    elsewhere = ""
    # With several origins, ``origin`` is the one the request's host named: no mismatch.
    if origin is None and host != app_host(config):
        elsewhere = f", but this page was reached at {host}"
    message = (
        "The sign-in could not be completed: this browser did not bring back the cookie "
        f"set when the sign-in started. The app's address is {app_url}{elsewhere}. "
        f"Sign-ins must start at {app_url}: open the app there and sign in again."
    )
    return _page(400, "Sign-in failed", message)


def unknown_host(method: str, headers: Mapping[str, str]) -> Reply:
    """400: the request's ``Host`` is none of the app's origins. The host is not repeated
    back: it came from the request and is nothing the app vouches for."""
    message = "This address is not one of the app's. Open the app at its own address."
    if is_browser_navigation(method, headers):
        return _page(400, "Unknown address", message)
    return Reply(400, error_envelope("INVALID_REQUEST", message, {"reason": "unknown_host"}))


def logout_allowed(
    config: AuthonomyConfig, headers: Mapping[str, str], origin: str | None = None
) -> bool:
    """Whether a logout POST comes from the app's own pages (CSRF defence).

    ``Sec-Fetch-Site: same-origin`` or an ``Origin`` equal to the origin in use
    (``origin``; the first of ``app_url`` when not given) passes; anything else,
    including no header at all, is refused.
    """
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    sent = headers.get("origin")
    if sent is None:
        return site == "same-origin"
    return same_origin(sent, origin or _first_origin(config))


def same_origin(sent: str, expected: str) -> bool:
    """Whether ``sent`` (a request's ``Origin`` value) is the origin ``expected`` names:
    the same scheme, host and port (a default port written out or not). ``null``, an
    empty value or a malformed one is no origin of the app's."""
    seen = _origin(sent)
    return bool(expected) and seen is not None and seen[1] != "" and seen == _origin(expected)


def _origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of ``url``; ``None`` when it is malformed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unclosed ``[``, a port out of range: no origin at all
        return None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), port or default


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header; ``None`` when there is none.

    A header of another scheme is not ours (``None``); ``Bearer`` with no token or with
    spaces inside is an invalid token.
    """
    if not authorization:
        return None
    if authorization.startswith("Bearer "):  # the usual spelling, checked first: hot path
        token = authorization[7:]
    else:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
    token = token.strip()
    if not token or " " in token:
        raise TokenError("malformed Authorization header")
    return token


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;
color:#1f2933}}h1{{font-size:1.4rem}}a{{color:#2563eb}}</style></head>
<body><h1>{title}</h1><p>{message}</p><p><a href="/">Back to the start page</a></p></body></html>
"""
