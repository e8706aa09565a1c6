"""Token verification: access and ID tokens, the signing keys, bearer tokens and
revoked Authonomy sessions.
"""

from __future__ import annotations

import logging
import math
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

__all__ = ["DEFAULT_TOKEN_LIFETIME", "ENDED_SESSIONS", "SESSION_END_EVENTS", "TokenVerifier"]

logger = logging.getLogger("authonomy_integrations")

#: Ended sessions remembered (logged-out ids, revoked ``sid`` values).
ENDED_SESSIONS = 100_000
#: Seconds an access token lives unless Authonomy says otherwise (the wire contract's
#: default): the shortest a revocation is kept, since tokens of the ended session may
#: live that long even in a process that has not seen one yet.
DEFAULT_TOKEN_LIFETIME = 3600
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
        #: tokens are refused for the rest of their lifetime (see :meth:`revocation_ttl`).
        self._revoked_sids = TokenCache(ENDED_SESSIONS)
        #: The longest lifetime (``exp`` - ``iat``) of a token verified here.
        self.longest_token_life = float(DEFAULT_TOKEN_LIFETIME)
        self.shared_revocations = shared_revocations
        #: Called when a revocation makes other caches stale (the decoded sessions).
        self.forget_sessions: Callable[[], None] = _nothing

    def verify_access_token(self, token: str) -> Flow[dict[str, Any]]:
        """Verify an access token (signature, claims) and return its claims."""
        now = self.clock()
        header = read_header(token, self.config.max_token_bytes)
        key = yield from self._signing_key(header.get("kid"), now)
        claims = verify(token, _only(key), self.access_options, now)
        self._note_lifetime(claims, now)
        return claims

    def verify_id_token(self, token: str, nonce: str) -> Flow[dict[str, Any]]:
        """Verify an ID token, including the ``nonce`` sent at login."""
        now = self.clock()
        header = read_header(token, self.config.max_token_bytes)
        key = yield from self._signing_key(header.get("kid"), now)
        claims = verify(token, _only(key), self.id_options, now, nonce=nonce)
        self._note_lifetime(claims, now)
        return claims

    def _note_lifetime(self, claims: dict[str, Any], now: float) -> None:
        """Remember how long a verified token lives, so a revocation outlasts its kind."""
        exp, iat = _number(claims.get("exp")), _number(claims.get("iat"))
        life = None if exp is None else exp - (now if iat is None else iat)
        if life is not None and life > self.longest_token_life:
            self.longest_token_life = life

    def revocation_ttl(self, expires: float | None = None) -> int:
        """Seconds a revocation made now is kept: until no token of the ended session
        can be accepted any more. That is the longest of ``session_max_age``, the
        longest token lifetime seen (an hour at least) and ``expires`` (the ``exp`` of
        the session's last known token) from now, plus ``leeway``."""
        life = max(float(self.config.session_max_age), self.longest_token_life)
        if expires is not None:
            life = max(life, expires - self.clock())
        return math.ceil(life + self.config.leeway)

    def repeat_bearer(self, header: bytes | str, token: str) -> AuthonomyUser | None:
        """The user of ``token`` (carried by the raw ``header``) when it was verified
        already and may be answered from memory, reported as a repeat (see
        :meth:`report_repeat`); ``None``: run :meth:`authenticate_bearer`.

        With a shared store it finds nothing: every request asks the store about
        revocations. A hit is filed under ``header`` in the cache's index, which the
        next request with the same header reads first (:class:`~.caller.Callers`).
        """
        if self.shared_revocations:
            return None
        user: AuthonomyUser | None = self.bearer_cache.index(header, token, self.clock())
        if user is not None:
            self.report_repeat(user)
        return user

    def cached_bearer(self, token: str) -> AuthonomyUser | None:
        """The user of an already verified, unexpired bearer token when no flow is needed
        (``None`` with a shared store: every request asks it about revocations)."""
        if self.shared_revocations:
            return None
        user: AuthonomyUser | None = self.bearer_cache.get(token, self.clock())
        if user is not None:
            self.report_repeat(user)
        return user

    def report_repeat(self, user: AuthonomyUser) -> None:
        """Count a verified token that came again (``token.accepted``, reason ``cached``):
        a repeat is no decision, so no hook call, span or log line is made per request
        (see :class:`~.events.Events`). The one place a repeat is counted from, but for
        :meth:`~.caller.Callers.known`'s inline copy."""
        self.events.repeats += 1

    def _accepted(self, user: AuthonomyUser) -> None:
        """Report a token verified for the first time."""
        self.events.emit(ev.TOKEN_ACCEPTED, user_id=user.id, customer_id=user.customer_id)

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
        if claims is None:
            self.report_repeat(user)
        else:
            self._accepted(user)
        return user

    def revoke_sid(self, sid: str | None, expires: float | None = None) -> Flow[None]:
        """Refuse the tokens and sessions of Authonomy session ``sid`` from now on: in
        this process, and in every process sharing the session store, for as long as
        one of them may still be accepted (``expires``: the latest ``exp`` known of them;
        see :meth:`revocation_ttl`)."""
        if not sid:
            return
        ttl = self.revocation_ttl(expires)
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
            self._revoked_sids.keep(sid, True, now + self.revocation_ttl())
        return revoked

    def login_claims(self, tokens: TokenSet) -> Flow[dict[str, Any]]:
        """The verified access-token claims of a login's token answer.

        Check its ID token with :meth:`check_login_id_token` next: the claims are known
        first so that tokens refused by that check can still be revoked by their ``sid``.
        """
        try:
            claims: dict[str, Any] = yield from self.verify_access_token(tokens.access_token)
        except TokenError as exc:
            raise _refused_login(exc) from exc
        return claims

    def check_login_id_token(
        self, tokens: TokenSet, nonce: str, claims: dict[str, Any]
    ) -> Flow[None]:
        """Verify a login's ID token (``nonce`` included): it must name the user its
        access token (``claims``) names, else the two are another pairing's halves."""
        if not tokens.id_token:
            raise LoginError("Authonomy returned no ID token", error="no_id_token")
        try:
            id_claims = yield from self.verify_id_token(tokens.id_token, nonce)
        except TokenError as exc:
            raise _refused_login(exc) from exc
        if id_claims.get("sub") != claims.get("sub"):
            raise LoginError(
                "ID token and access token name different users", error="subject_mismatch"
            )

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


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _refused_login(exc: TokenError) -> LoginError:
    return LoginError(
        f"token from Authonomy rejected: {exc.reason}", error=f"token_{token_reason(exc)}"
    )


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
