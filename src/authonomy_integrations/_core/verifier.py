"""Token verification: access and ID tokens, the signing keys, bearer tokens and
revoked Authonomy sessions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .._config import AuthonomyConfig
from .._errors import (
    AuthonomyError,
    AuthonomyUnavailableError,
    LoginError,
    StoreUnavailableError,
    TokenError,
)
from . import events as ev
from .context import Context, Part
from .effects import (
    Exclusive,
    Flow,
    RevokeSid,
    SidRevoked,
)
from .events import token_reason
from .keys import KeySetCache, VerificationKey
from .sessions import TokenSet
from .token_cache import TokenCache
from .tokens import VerifyOptions, read_header, verify
from .urls import url_problem
from .user import AuthonomyUser

__all__ = ["ENDED_SESSIONS", "SESSION_END_EVENTS", "TokenVerifier"]

logger = logging.getLogger("authonomy_integrations")
_token_logger = logging.getLogger("authonomy_integrations.tokens")

#: Ended sessions remembered (logged-out ids, revoked ``sid`` values).
ENDED_SESSIONS = 100_000
#: Webhook events that say an Authonomy session is over (back-channel logout).
SESSION_END_EVENTS = frozenset({"user.logged_out", "session.revoked"})


class TokenVerifier(Part):
    """Verifies tokens against the issuer's keys and remembers verified bearer tokens."""

    def __init__(self, ctx: Context, *, shared_revocations: bool = False) -> None:
        """``shared_revocations``: the session store records ended Authonomy sessions for
        every process (the ``RevokeSid`` and ``SidRevoked`` effects), so each bearer token
        and session is checked there, not only against this process's memory."""
        super().__init__(ctx)
        config = ctx.config
        self.access_options = _options(config, "at+jwt")
        self.id_options = _options(config, "JWT")
        self.keys = KeySetCache()
        self._discovered_jwks_url: str | None = config.jwks_url
        self.bearer_cache = TokenCache(config.token_cache_size)
        #: Authonomy session ids (``sid``) ended by logout or back-channel logout; their
        #: tokens are refused for the rest of their lifetime, which a session bounds.
        self._revoked_sids = TokenCache(ENDED_SESSIONS)
        self.shared_revocations = shared_revocations
        #: Called when a revocation makes other caches stale (the decoded sessions).
        self.forget_sessions: Callable[[], None] = _nothing
        self._fast_bearer = self.fast_bearer()

    def verify_access_token(self, token: str) -> Flow[dict[str, Any]]:
        """Verify an access token (signature, claims) and return its claims."""
        now = self.clock()
        header = read_header(token, self.config.max_token_bytes)
        key = yield from self._signing_key(header.get("kid"), now)
        return verify(token, _only(key), self.access_options, now)

    def verify_id_token(self, token: str, nonce: str) -> Flow[dict[str, Any]]:
        """Verify an ID token, including the ``nonce`` sent at login."""
        now = self.clock()
        header = read_header(token, self.config.max_token_bytes)
        key = yield from self._signing_key(header.get("kid"), now)
        return verify(token, _only(key), self.id_options, now, nonce=nonce)

    def fast_bearer(self) -> Callable[[str, float], AuthonomyUser | None]:
        """The repeat-token lookup adapters call before anything else, ``(token, now)``.

        When nobody listens (no hook, no telemetry, the tokens logger not at DEBUG as
        the app starts) it is the cache's own ``get``: observability costs nothing
        there. Otherwise each hit is reported as ``token.accepted`` at DEBUG. With a
        shared store it finds nothing: every request asks the store about revocations.
        """
        if self.shared_revocations:
            return _never
        if self.plain_bearer_cache() is not None:
            return self.bearer_cache.get

        def reporting_get(token: str, now: float) -> AuthonomyUser | None:
            user: AuthonomyUser | None = self.bearer_cache.get(token, now)
            if user is not None:
                self._accepted(user, cached=True)
            return user

        return reporting_get

    def plain_bearer_cache(self) -> TokenCache | None:
        """The verified-token cache when a hit is the whole answer (no shared store to
        ask, nobody to tell about the hit): callers may then keep copies of its entries
        (:meth:`TokenCache.attach`). ``None`` otherwise."""
        if self.shared_revocations or self.events.listening:
            return None
        if _token_logger.isEnabledFor(logging.DEBUG):
            return None
        return self.bearer_cache

    def cached_bearer(self, token: str) -> AuthonomyUser | None:
        """The user of an already verified, unexpired bearer token when no flow is needed
        (``None`` with a shared store: every request asks it about revocations)."""
        return self._fast_bearer(token, self.clock())

    def _accepted(self, user: AuthonomyUser, *, cached: bool) -> None:
        self.events.emit(
            ev.TOKEN_ACCEPTED,
            user_id=user.id,
            customer_id=user.customer_id,
            level=logging.DEBUG if cached else None,
            cached=cached,
        )

    def authenticate_bearer(self, token: str) -> Flow[AuthonomyUser]:
        """The user of a bearer access token; raises :class:`TokenError` when invalid."""
        try:
            user = yield from self._authenticate_bearer(token)
        except TokenError as exc:
            self.events.emit(
                ev.TOKEN_REFUSED, token_reason(exc), detail=exc.reason, claim=exc.claim
            )
            raise
        return user

    def _authenticate_bearer(self, token: str) -> Flow[AuthonomyUser]:
        user: AuthonomyUser | None = self.bearer_cache.get(token, self.clock())
        claims = None
        if user is None:
            claims = yield from self.verify_access_token(token)
            if not self.config.accepts_customer(claims.get("customer_id")):
                raise TokenError("the token's customer is not accepted by this app")
            user = AuthonomyUser.from_claims(claims)
        revoked = yield from self.sid_revoked(user.session_id)
        if revoked:
            raise TokenError("the token's session has ended (signed out)")
        if claims is not None:
            self.bearer_cache.put(token, claims, user)
        self._accepted(user, cached=claims is None)
        return user

    def revoke_sid(self, sid: str | None) -> Flow[None]:
        """Refuse the tokens and sessions of Authonomy session ``sid`` from now on: in
        this process, and in every process sharing the session store."""
        if not sid:
            return
        ttl = self.config.session_max_age
        self._revoked_sids.keep(sid, True, self.clock() + ttl)
        # Verified tokens and decoded sessions of that sid may be cached; revocations
        # are rare enough to forget them all rather than index them by sid.
        self.bearer_cache.clear()
        self.forget_sessions()
        if self.shared_revocations:
            yield RevokeSid(sid, ttl)

    def back_channel_logout(self, event_type: str, sid: str | None) -> Flow[None]:
        """React to a verified webhook: ``user.logged_out`` and ``session.revoked`` end
        the Authonomy session ``sid`` here (its local sessions and tokens are refused)."""
        if event_type in SESSION_END_EVENTS and sid:
            self.events.emit(ev.SESSION_ENDED, "back_channel_logout", event_type=event_type)
            yield from self.revoke_sid(sid)

    def sid_revoked(self, sid: Any, *, ask_store: bool = True) -> Flow[bool]:
        """Whether Authonomy session ``sid`` was ended (here, or in the shared store
        unless ``ask_store`` is false: the caller knows the store's answer already)."""
        if not isinstance(sid, str) or not sid:
            return False
        now = self.clock()
        if self._revoked_sids.get(sid, now) is not None:
            return True
        if not (self.shared_revocations and ask_store):
            return False
        try:
            revoked = bool((yield SidRevoked(sid)))
        except StoreUnavailableError as exc:
            # Bearer tokens need no store and keep working while it is out of reach; only
            # revocations recorded there by other processes go unseen until it is back.
            logger.warning("revocations of other processes not checked: %s", exc)
            return False
        if revoked:
            self._revoked_sids.keep(sid, True, now + self.config.session_max_age)
        return revoked

    def login_claims(self, tokens: TokenSet, nonce: str) -> Flow[dict[str, Any]]:
        """The access token's claims of a login's token answer, its ID token checked too."""
        try:
            claims = yield from self.verify_access_token(tokens.access_token)
            if not tokens.id_token:
                raise LoginError("Authonomy returned no ID token", error="no_id_token")
            id_claims = yield from self.verify_id_token(tokens.id_token, nonce)
        except TokenError as exc:
            raise LoginError(
                f"token from Authonomy rejected: {exc.reason}", error=f"token_{token_reason(exc)}"
            ) from exc
        if id_claims.get("sub") != claims.get("sub"):
            raise LoginError(
                "ID token and access token name different users", error="subject_mismatch"
            )
        return claims

    def _signing_key(self, kid: Any, now: float) -> Flow[VerificationKey | None]:
        if not isinstance(kid, str) or not kid:
            raise TokenError("token header has no kid")
        if self.keys.should_fetch(kid, now):
            yield Exclusive("jwks", lambda: self._refresh_keys(kid), self.config.http_timeout)
        if self.keys.keys is None:
            raise AuthonomyUnavailableError("the signing keys could not be fetched", retry_after=5)
        return self.keys.lookup(kid, now)

    def _refresh_keys(self, kid: str) -> Flow[None]:
        now = self.clock()
        if not self.keys.begin_fetch(kid, now):  # another request fetched meanwhile
            return
        with self.events.span("authonomy.keys.fetch", **{"authonomy.kid": kid}):
            try:
                url = yield from self._jwks_url()
                doc, headers = yield from self.api.fetch_json(url)
            except AuthonomyError as exc:
                self.keys.fetch_failed(now)
                why = "unavailable" if isinstance(exc, AuthonomyUnavailableError) else exc.code
                self.events.emit(
                    ev.KEYS_FAILED, why.lower(), duration=self.clock() - now, detail=str(exc)
                )
                return
            self.keys.fetched(
                doc if isinstance(doc, dict) else {}, headers.get("cache-control"), now
            )
            found = self.keys.keys
            self.events.emit(
                ev.KEYS_FETCHED,
                duration=self.clock() - now,
                keys=len(found) if found is not None else 0,
                kid=kid,
            )

    def _jwks_url(self) -> Flow[str]:
        """``config.jwks_url``, else the discovery document's ``jwks_uri``, else the
        conventional ``{issuer}/.well-known/jwks.json``."""
        if self._discovered_jwks_url is not None:
            return self._discovered_jwks_url
        issuer = self.config.resolved_issuer
        try:
            doc, _ = yield from self.api.fetch_json(
                f"{issuer.rstrip('/')}/.well-known/openid-configuration"
            )
        except AuthonomyError as exc:
            logger.info("no discovery document (%s); using the conventional key set URL", exc)
            return self.config.resolved_jwks_url
        url = _jwks_uri(doc, issuer)
        self._discovered_jwks_url = url or self.config.resolved_jwks_url
        return self._discovered_jwks_url


def _jwks_uri(doc: Any, issuer: str) -> str | None:
    """The ``jwks_uri`` of a discovery document that names exactly our issuer."""
    if not isinstance(doc, dict) or doc.get("issuer") != issuer:
        logger.error("discovery document ignored: it is not for issuer %s", issuer)
        return None
    uri = doc.get("jwks_uri")
    problem = url_problem(uri)
    if problem is not None:
        logger.error("discovery document ignored: jwks_uri %s", problem)
        return None
    return str(uri)


def _never(token: str, now: float) -> None:
    return None


def _only(key: VerificationKey | None) -> Callable[[str], VerificationKey | None]:
    return lambda kid: key


def _nothing() -> None:
    return None


def _options(config: AuthonomyConfig, typ: str) -> VerifyOptions:
    """What a token of header type ``typ`` from this app's issuer must satisfy."""
    return VerifyOptions(
        issuer=config.resolved_issuer,
        audience=config.audience,
        algorithms=config.algorithms,
        leeway=config.leeway,
        max_token_bytes=config.max_token_bytes,
        typ=typ,
    )
