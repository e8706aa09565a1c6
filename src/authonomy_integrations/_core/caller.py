"""Who is calling: a request's ``Authorization`` and ``Cookie`` headers to a decision.

The request pipeline (:class:`~.serving.Serving`) asks :class:`Callers` the same two
questions for every adapter: :meth:`Callers.known` answers from memory (a repeat bearer
token, a session seen moments ago, no credentials at all) without a flow; when it says
:data:`ASK`, :meth:`Callers.flow` gives a :class:`Caller`: the user, the ``Set-Cookie``
a refreshed or ended session needs, or why the request is refused (an invalid token:
401; Authonomy or the store out of reach: 503).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from .._config import AuthonomyConfig
from .._errors import TokenError
from . import web
from .effects import Flow
from .events import REPEAT, TOKEN_REFUSED
from .origins import Origins
from .routes import TEMPORARY_ERRORS
from .token_cache import TAIL
from .user import AuthonomyUser

if TYPE_CHECKING:
    from .engine import Engine
    from .session_flows import SessionState

__all__ = ["ASK", "Ask", "Caller", "Callers", "Pending", "by_session_cookie", "refusal"]

logger = logging.getLogger("authonomy_integrations")


class Ask(enum.Enum):
    """The type of :data:`ASK`."""

    FLOW = "flow"


#: :meth:`Callers.known` cannot tell without I/O: run :meth:`Callers.flow`.
ASK: Final = Ask.FLOW


@dataclass(frozen=True, slots=True)
class Caller:
    """The caller of one request.

    ``user`` is ``None`` for nobody; ``set_cookie`` a ``Set-Cookie`` value to add to the
    response; ``refused`` the error the request is answered with instead of the app
    (build the answer with :func:`refusal`).
    """

    user: AuthonomyUser | None
    set_cookie: str | None = None
    refused: Exception | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """:meth:`~.serving.Serving.known_in` cannot tell without I/O: run the flow with
    the ``Authorization`` and ``Cookie`` values it found."""

    authorization: bytes | None
    cookies: bytes | None


_NOBODY = Caller(None)
#: Fewest raw header values remembered, however small the token cache.
_MIN_REMEMBERED = 1024


def by_session_cookie(authorization: bytes | str | None) -> bool:
    """Whether a request with this ``Authorization`` value is judged by its session cookie.

    The one rule every caller decision follows: a non-empty ``Authorization`` header
    decides alone (a bearer token, or nobody), an absent or empty one leaves it to the
    cookie. Whatever must hold for cookie callers only (a CSRF check) asks this, so it
    cannot skip a caller the cookie signed in.
    """
    return not authorization


def _text(value: bytes | str) -> str:
    """A header value as text: HTTP header bytes read as Latin-1, like every server."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


_TAIL_KEY = slice(-TAIL, None)
#: A header's tail -> (the whole header, the session id read out of it).
Memo = dict[bytes | str, tuple[bytes | str, str]]


def _remember(memo: dict[bytes | str, Any], raw: bytes | str, entry: Any, limit: int) -> None:
    """Remember ``entry`` for ``raw`` (whose first item it is); start over when full (a
    burst of new users only costs the parse again, never a wrong answer)."""
    if len(memo) >= limit:
        memo.clear()
    memo[raw[-TAIL:]] = entry


class Callers:
    """The one place that decides who is calling, for every adapter."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.config = engine.config
        self.cookie_name = web.session_cookie_name(engine.config)
        # Bound once: a repeat bearer header is one lookup in the token cache's index
        # (``TokenCache.by_header``), a comparison and a clock read, whoever listens.
        self._by_header = engine.bearer_cache.by_header.get
        self._repeat_bearer = engine.repeat_bearer
        self._count_repeat = engine.events.tally.adder(REPEAT)
        # ``Engine.cached_session`` without its extra call: the same lookup, same clock.
        self._session_hit: Callable[[str, float], SessionState | None]
        self._session_hit = engine.recent_sessions.get
        self._ctx = engine.ctx
        # Raw ``Cookie`` values (``bytes`` from ASGI, ``str`` from WSGI) that answered
        # from memory before, each to its session id, which the session cache then
        # decides on (expiry, logout): a repeat request skips parsing its header. Only a
        # value that led to a cached session is kept, so hostile headers cannot fill it.
        self._cookies: Memo = {}
        self._remembered = max(_MIN_REMEMBERED, engine.config.token_cache_size)
        self.origins = Origins(engine.config.origins)
        if self.origins.tenants:
            # A caller's customer must be the one its host names, and memory holds no
            # host: every request with credentials goes to the flow, given the Host.
            # Apps with one origin (or fixed ones) keep the memo path as it is.
            self.known = self._known_by_host  # type: ignore[method-assign]

    def known(
        self, authorization: bytes | str | None, cookies: bytes | str | None
    ) -> AuthonomyUser | Ask | None:
        """The user when memory answers (``None``: nobody), else :data:`ASK`.

        ``authorization`` and ``cookies`` are the request's headers as the server gave
        them (``bytes`` from ASGI, see :meth:`~.serving.Serving.known_in`; ``str`` from
        WSGI), ``None`` or empty when absent. An ``Authorization`` header decides alone,
        even beside a session cookie.
        """
        if authorization:
            held = self._by_header(authorization[_TAIL_KEY])
            if held is not None and held[0] == authorization and self._ctx.clock() < held[1]:
                # ``report_repeat`` inline: this runs on every repeat request.
                self._count_repeat()
                found: AuthonomyUser = held[2]
                return found
            return self._known_bearer(authorization)
        if not cookies:
            return None
        entry = self._cookies.get(cookies[_TAIL_KEY])
        if entry is not None and entry[0] == cookies:
            state = self._session_hit(entry[1], self._ctx.clock())
            if state is not None:
                return state.user
        return self._known_session(cookies)

    def refused_on_socket(
        self, cookies: bytes | None, headers: Iterable[tuple[bytes, bytes]]
    ) -> bool:
        """Whether a WebSocket handshake's session cookie must not sign its caller in
        (cross-site WebSocket hijacking): its ``Origin`` is not the app's origin for its
        ``Host``, as the logout's CSRF check judges it (:func:`~.web.same_origin`).

        Browsers send cookies on a handshake from a sibling subdomain (SameSite=Lax does
        not stop it) and a socket is not subject to CORS, so only ``Origin`` tells the
        app's pages from a hostile one. ``Origin: null``, several ``Origin`` headers and
        none at all are refused too (fail closed: every browser sends one, and other
        clients authenticate with a bearer token). Reported as ``token.refused``.
        """
        if not cookies or web.cookie_value(_text(cookies), self.cookie_name) is None:
            return False
        host: bytes | None = None
        sent: list[bytes] = []
        for name, value in headers:
            if name == b"host":
                host = value
            elif name == b"origin":
                sent.append(value)
        origin = self.origins.in_use(_text(host) if host else None)
        if len(sent) == 1 and origin is not None and web.same_origin(_text(sent[0]), origin.url):
            return False
        self._refused_origin(sent)
        return True

    def _refused_origin(self, sent: list[bytes]) -> None:
        """Report a handshake's cookie refused for the ``Origin`` values it ``sent``."""
        events = self.engine.events
        if not sent:
            events.emit(
                TOKEN_REFUSED, "missing_origin", level=logging.WARNING, credential="session"
            )
            return
        # repr: the Origin is the client's text, kept to one printable line.
        origin = repr(b", ".join(sent).decode("latin-1"))[:200]
        events.emit(
            TOKEN_REFUSED,
            "wrong_origin",
            level=logging.WARNING,
            credential="session",
            origin=origin,
        )

    def _known_bearer(self, raw: bytes | str) -> AuthonomyUser | Ask:
        authorization = _text(raw)
        if not authorization.startswith("Bearer "):  # other spellings: the flow decides
            return ASK
        user = self._repeat_bearer(raw, authorization[7:])
        return ASK if user is None else user

    def _known_session(self, raw: bytes | str) -> AuthonomyUser | Ask | None:
        cookie = web.cookie_value(_text(raw), self.cookie_name)
        if cookie is None:
            return None
        state = self._session_hit(cookie, self._ctx.clock())
        if state is None:
            return ASK
        _remember(self._cookies, raw, (raw, cookie), self._remembered)
        return state.user

    def _known_by_host(
        self, authorization: bytes | str | None, cookies: bytes | str | None
    ) -> AuthonomyUser | Ask | None:
        """:meth:`known` of an app with a tenant origin: nobody without credentials,
        else :data:`ASK` (the flow, given the ``Host``, decides)."""
        if authorization:
            return ASK
        if not cookies or web.cookie_value(_text(cookies), self.cookie_name) is None:
            return None
        return ASK

    def flow(
        self,
        authorization: bytes | str | None,
        cookies: bytes | str | None,
        host: bytes | str | None = None,
    ) -> Flow[Caller]:
        """The caller, verifying the token or loading (and refreshing) the session.

        ``host`` is the request's ``Host``, read only by an app with a tenant origin: a
        caller whose customer is not the one its host names (or on a host that is none
        of the app's) is refused there, see :meth:`_on_host`.
        """
        if not self.origins.tenants:
            caller: Caller = yield from self._caller(authorization, cookies, None)
            return caller
        on_host = self._on_host(authorization, _text(host) if host else None)
        caller = yield from self._caller(authorization, cookies, on_host)
        if authorization and caller.user is not None and not on_host(caller.user.customer_id):
            return Caller(None, refused=TokenError("the token is not for this host's customer"))
        return caller

    def _on_host(
        self, authorization: bytes | str | None, host: str | None
    ) -> Callable[[object], bool]:
        """Whether a customer may call on ``host`` (reporting a refusal): on a fixed
        origin any customer, on a tenant host its own. A bearer token refused is
        answered 401; a session refused is not used here (nobody), neither refreshed
        nor ended: on its own tenant's host it goes on."""
        origin = self.origins.match(host)

        def accepts(customer_id: object) -> bool:
            if origin is not None and origin.customer in (None, customer_id):
                return True
            self.engine.events.emit(
                TOKEN_REFUSED,
                "unknown_host" if origin is None else "wrong_host",
                customer_id=customer_id if isinstance(customer_id, str) else None,
                credential="bearer" if authorization else "session",
            )
            return False

        return accepts

    def _caller(
        self,
        authorization: bytes | str | None,
        cookies: bytes | str | None,
        accepts: Callable[[object], bool] | None,
    ) -> Flow[Caller]:
        """The caller by its credentials (a session's customer judged by ``accepts``)."""
        try:
            if authorization:  # as by_session_cookie says
                token = web.bearer_token(_text(authorization))
                if token is None:
                    return _NOBODY
                user = yield from self.engine.authenticate_bearer(token)
                return Caller(user)
            cookie = web.cookie_value(_text(cookies) if cookies else None, self.cookie_name)
            if cookie is None:
                return _NOBODY
            state = yield from self.engine.authenticate_session(cookie, accepts)
        except TokenError as exc:
            return Caller(None, refused=exc)
        except TEMPORARY_ERRORS as exc:
            # The cookie is left alone: the session is still good once Authonomy is back.
            logger.warning("request answered 503: %s", exc)
            return Caller(None, refused=exc)
        config = self.config
        if state.set_cookie is not None:
            header = web.set_cookie(
                config, self.cookie_name, state.set_cookie, config.session_max_age
            )
            return Caller(state.user, header)
        if state.clear_cookie:
            return Caller(state.user, web.clear_cookie(config, self.cookie_name))
        return Caller(state.user)

    def access_token(
        self, authorization: bytes | str | None, cookies: bytes | str | None
    ) -> Flow[str | None]:
        """The access token the caller authenticated with, to call other APIs as its
        user: its bearer token, or its session's (refreshed first when due); ``None``
        for nobody. Read as :meth:`flow` reads the caller, so it is the same user's."""
        if authorization:
            try:
                return web.bearer_token(_text(authorization))
            except TokenError:
                return None
        cookie = web.cookie_value(_text(cookies) if cookies else None, self.cookie_name)
        if cookie is None:
            return None
        token: str | None = yield from self.engine.access_token(cookie)
        return token


def refusal(
    config: AuthonomyConfig,
    exc: Exception,
    method: str,
    headers: Mapping[str, str],
    target: str,
    prefix: str = "",
) -> web.Reply:
    """The answer to a refused caller: 503 while Authonomy is out of reach, else 401
    (``prefix``: the URL prefix the app is served under)."""
    if isinstance(exc, TEMPORARY_ERRORS):
        return web.unavailable(exc, method, headers)
    error = exc if isinstance(exc, TokenError) else None
    return web.unauthenticated(config, method, headers, target, error=error, prefix=prefix)
