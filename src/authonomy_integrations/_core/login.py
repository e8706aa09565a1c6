"""The login transaction: PKCE, nonce, the ``next`` path and the callback checks.

A login starts when the app calls ``POST /auth/authorize``; Authonomy answers with an
opaque ``state``. The app keeps a :class:`LoginAttempt` for it in a sealed cookie bound
to the browser (several at once, so logins started in several tabs all complete) and
checks the callback against those attempts with :func:`check_callback`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from .._errors import (
    AuthonomyAPIError,
    AuthonomyUnavailableError,
    InternalServerError,
    LoginError,
    SessionError,
    SessionTooLargeError,
)
from .crypto import SecretBox, b64url_encode

__all__ = [
    "CALLBACK_REFUSALS",
    "MAX_NEXT_LENGTH",
    "CallbackResult",
    "LoginAttempt",
    "LoginAttempts",
    "after_exchange",
    "check_callback",
    "new_nonce",
    "new_pkce",
    "next_in_app",
    "pkce_challenge",
    "safe_next",
]

logger = logging.getLogger("authonomy_integrations")

#: Longest ``next`` path kept; longer ones fall back to the default.
MAX_NEXT_LENGTH = 1024
_MAX_PENDING = 5
#: The attempts cookie must fit in one cookie next to its name and attributes.
_MAX_COOKIE_CHARS = 3800
_MAX_DESCRIPTION = 200
#: Percent-decoding rounds tried on ``next`` before giving up on it.
_DECODE_ROUNDS = 3
#: Kept as they are when a ``next`` path is made ASCII (``%`` too: it is encoded already).
_PRINTABLE_ASCII = "".join(chr(code) for code in range(0x21, 0x7F))


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """One login started by this browser and not yet completed."""

    state: str
    """Authonomy's opaque ``state`` from the authorize answer."""
    code_verifier: str
    """PKCE verifier (RFC 7636) sent with the code exchange."""
    nonce: str
    """Expected ``nonce`` of the ID token."""
    next_path: str
    """Same-origin path to return to after the login."""
    customer_id: str | None
    """Customer the login was started for."""
    return_url: str
    """Callback URL given to authorize; the token exchange must repeat it."""
    created_at: float
    """When the login started (Unix seconds)."""
    subject: str | None = None
    """For a step-up login, the ``sub`` of the signed-in user who must sign in again."""

    def is_expired(self, now: float, ttl: float) -> bool:
        """Whether the attempt is older than ``ttl`` seconds (or from the future)."""
        return not (0 <= now - self.created_at <= ttl)


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """A callback that passed every check: exchange ``code`` using ``attempt``."""

    attempt: LoginAttempt
    code: str
    remaining: list[LoginAttempt]
    """The other pending attempts, to write back to the cookie."""


def new_pkce(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> tuple[str, str]:
    """A PKCE ``(code_verifier, code_challenge)`` pair, method S256 (RFC 7636)."""
    verifier = b64url_encode(random_bytes(32))
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier: ``BASE64URL(SHA256(ASCII(verifier)))``."""
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def new_nonce(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A fresh OpenID Connect ``nonce`` (256 random bits, URL-safe)."""
    return b64url_encode(random_bytes(32))


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default``.

    Refuses anything a browser (or a server that decodes and redirects again) could
    read as another origin: ``//host``, ``/\\host``, schemes, control characters, and
    the percent-encoded forms of those. The path returned is ASCII: characters beyond
    it are percent-encoded as UTF-8 (``/café`` gives ``/caf%C3%A9``), so it can be sent
    in a ``Location`` header.
    """
    if not value or len(value) > MAX_NEXT_LENGTH:
        return default
    if not value.isascii():
        try:
            value = quote(value, safe=_PRINTABLE_ASCII)
        except UnicodeEncodeError:  # lone surrogates: not text any browser sent
            return default
        if len(value) > MAX_NEXT_LENGTH:
            return default
    form = value
    for _ in range(_DECODE_ROUNDS):
        if not _is_local_path(form):
            return default
        decoded = unquote(form)
        if decoded == form:
            return value
        form = decoded
    return default  # still changing after several rounds: deliberately obfuscated


def next_in_app(value: str | None, prefix: str) -> str:
    """:func:`safe_next` for an app served under the URL ``prefix`` (``""`` at the
    site's root): ``value`` when it is a path inside the app, else the app's root.

    Under a prefix the site may hold other apps: a path outside the prefix, or one that
    climbs out of it with ``..`` (however encoded), goes to the app's root instead.
    """
    home = prefix + "/"
    target = safe_next(value, home)
    if not prefix or target is home:
        return target
    route = target.partition("?")[0].partition("#")[0]
    for _ in range(_DECODE_ROUNDS):  # safe_next found it stable within these rounds
        route = unquote(route)
    root = unquote(prefix)  # the prefix is percent-encoded; ``route`` is decoded now
    inside = route == root or route.startswith(root + "/")
    escapes = any(segment in (".", "..") for segment in route.split("/"))
    return target if inside and not escapes else home


def _is_local_path(path: str) -> bool:
    if not path.startswith("/") or path.startswith("//"):
        return False
    # Browsers read "\" as "/" in a URL's path (a query or fragment keeps it as it is),
    # and drop tabs and newlines anywhere in it.
    route = path.partition("?")[0].partition("#")[0]
    return "\\" not in route and not any(unicodedata.category(c) in ("Cc", "Cf") for c in path)


class LoginAttempts:
    """The cookie codec and list operations for pending :class:`LoginAttempt` values.

    Each attempt is kept compact (short keys) and at most ``max_pending`` are kept, so
    the cookie never outgrows a single ``Set-Cookie``.
    """

    @staticmethod
    def encode(
        attempts: Sequence[LoginAttempt], box: SecretBox, *, max_chars: int = _MAX_COOKIE_CHARS
    ) -> str:
        """Seal ``attempts`` for the cookie, dropping the oldest until it fits."""
        kept = list(attempts)
        while True:
            payload = json.dumps([_to_compact(a) for a in kept], separators=(",", ":"))
            sealed = box.seal(payload.encode("utf-8"))
            if len(sealed) <= max_chars or not kept:
                return sealed
            kept.pop(0)

    @staticmethod
    def decode(
        cookie_value: str | None, box: SecretBox, now: float, ttl: float
    ) -> list[LoginAttempt]:
        """The unexpired attempts in the cookie; none if it is missing or forged."""
        if not cookie_value:
            return []
        payload = box.open(cookie_value)
        if payload is None:
            return []
        try:
            items = json.loads(payload)
            attempts = [_from_compact(item) for item in items]
        except (ValueError, TypeError, KeyError):
            return []
        return [a for a in attempts if not a.is_expired(now, ttl)]

    @staticmethod
    def add(
        attempts: Sequence[LoginAttempt], attempt: LoginAttempt, max_pending: int = _MAX_PENDING
    ) -> list[LoginAttempt]:
        """``attempts`` plus ``attempt``, keeping only the newest ``max_pending``."""
        others = [a for a in attempts if a.state != attempt.state]
        return [*others, attempt][-max_pending:]

    @staticmethod
    def take(
        attempts: Sequence[LoginAttempt], state: str | None
    ) -> tuple[LoginAttempt | None, list[LoginAttempt]]:
        """The attempt for ``state`` (used once) and the attempts left."""
        if not state:
            return None, list(attempts)
        found = None
        remaining = []
        for attempt in attempts:
            if found is None and hmac.compare_digest(attempt.state, state):
                found = attempt
            else:
                remaining.append(attempt)
        return found, remaining


def _to_compact(attempt: LoginAttempt) -> dict[str, Any]:
    return {
        "s": attempt.state,
        "v": attempt.code_verifier,
        "n": attempt.nonce,
        "p": attempt.next_path,
        "c": attempt.customer_id,
        "r": attempt.return_url,
        "t": attempt.created_at,
        **({"u": attempt.subject} if attempt.subject is not None else {}),
    }


def _from_compact(item: Mapping[str, Any]) -> LoginAttempt:
    customer_id = item["c"]
    if customer_id is not None and not isinstance(customer_id, str):
        raise TypeError("customer id is not a string")
    return LoginAttempt(
        state=_text(item, "s"),
        code_verifier=_text(item, "v"),
        nonce=_text(item, "n"),
        next_path=_text(item, "p"),
        customer_id=customer_id,
        return_url=_text(item, "r"),
        created_at=float(item["t"]),
        subject=_text(item, "u") if "u" in item else None,
    )


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item[key]
    if not isinstance(value, str):
        raise TypeError(f"login attempt field {key!r} is not a string")
    return value


def check_callback(
    params: Mapping[str, str],
    attempts: Sequence[LoginAttempt],
    *,
    issuer: str,
    now: float,
    ttl: float,
) -> CallbackResult:
    """Check the query of a login callback against this browser's pending attempts.

    Raises :class:`LoginError` when ``state`` matches no unexpired attempt of this
    browser, when ``iss`` is missing or differs from ``issuer`` (RFC 9207), when
    Authonomy reports an ``error`` (``LoginError.error`` carries its code), or when
    ``code`` is missing. Except for an unknown ``state``, the attempt is spent either
    way: write ``LoginAttempts.take(attempts, params.get("state"))[1]`` back to the
    cookie after a failure.
    """
    fresh = [a for a in attempts if not a.is_expired(now, ttl)]
    attempt, remaining = LoginAttempts.take(fresh, params.get("state"))
    if attempt is None:
        raise LoginError(
            "state does not match a login started in this browser (or it expired)",
            error="unknown_state",
        )
    _check_issuer(params.get("iss"), issuer)
    error = params.get("error")
    if error:
        raise LoginError(_describe_error(error, params.get("error_description")), error=error)
    code = params.get("code")
    if not code:
        raise LoginError("callback has no authorization code", error="missing_code")
    return CallbackResult(attempt=attempt, code=code, remaining=remaining)


#: ``LoginError.error`` codes of a callback request refused before any code exchange.
CALLBACK_REFUSALS = frozenset(
    {"unknown_state", "missing_code", "missing_issuer", "wrong_issuer", "wrong_origin"}
)


def _check_issuer(received: str | None, expected: str) -> None:
    if not received:
        raise LoginError("callback has no iss parameter (RFC 9207)", error="missing_issuer")
    if not hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8")):
        raise LoginError(
            f"callback iss {received[:100]!r} is not the configured issuer", error="wrong_issuer"
        )


def _describe_error(error: str, description: str | None) -> str:
    text = f"login failed: {error[:_MAX_DESCRIPTION]}"
    if description:
        printable = "".join(c for c in description if c.isprintable())
        text += f": {printable[:_MAX_DESCRIPTION]}"
    return text


def after_exchange(exc: Exception) -> Exception:
    """What a failure after the code exchange becomes: temporary troubles stay so (503,
    a new sign-in later works); anything else ends this sign-in with a clear reason."""
    if isinstance(exc, SessionTooLargeError):
        logger.error(
            "sign-in refused: %s. Configure a server-side session store "
            "(RedisSessionStore, MemorySessionStore) instead of CookieSessionStore",
            exc,
        )
        return LoginError(
            "the session is too large to be kept in a cookie", error="session_too_large"
        )
    if isinstance(exc, LoginError | AuthonomyUnavailableError | InternalServerError):
        return exc
    if isinstance(exc, SessionError):
        return exc
    logger.error("sign-in failed after the code exchange", exc_info=exc)
    if isinstance(exc, AuthonomyAPIError):
        return LoginError(f"Authonomy answered unexpectedly: {exc.message}")
    return LoginError("the sign-in could not be completed")
