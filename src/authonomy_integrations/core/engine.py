"""The kit's authentication engine: every decision of a request, as flows without I/O.

The adapters call it through :class:`~authonomy_integrations.runtime.Authonomy` (threads)
or :class:`~authonomy_integrations.runtime.AsyncAuthonomy` (event loop), which drive these
flows. The engine keeps the process-wide state: the key-set cache, verified tokens,
policies, and sessions ended by logout.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..config import CUSTOMER_ID_PATTERN, AuthonomyConfig
from ..errors import (
    AuthonomyAPIError,
    AuthonomyError,
    AuthonomyUnavailableError,
    InternalServerError,
    InvalidGrantError,
    LoginError,
    SessionError,
    SessionTooLargeError,
    StoreUnavailableError,
    TokenError,
)
from . import events as ev
from .api import ApiFlows
from .crypto import SecretBox
from .effects import (
    Background,
    DeleteSession,
    Exclusive,
    Flow,
    LoadSession,
    RevokeSid,
    SaveSession,
    SessionExclusive,
    SidRevoked,
)
from .events import Events, short_hash, token_reason
from .keys import KeySetCache, SigningKey
from .login import LoginAttempt, LoginAttempts, check_callback, new_nonce, new_pkce, safe_next
from .policies import Policy, PolicyDecision, PolicyRegistry, evaluate, is_guard_policy
from .sessions import (
    SessionRecord,
    TokenSet,
    is_expired,
    needs_refresh,
    new_record,
    new_session_id,
    store_ttl,
    touch,
    with_tokens,
)
from .throttle import LoginThrottle
from .token_cache import TokenCache
from .tokens import VerifyOptions, read_header, verify
from .urls import url_problem
from .user import AuthonomyUser

__all__ = ["SESSION_END_EVENTS", "Engine", "LoginDone", "LoginStart", "SessionState"]

logger = logging.getLogger("authonomy_integrations")
_token_logger = logging.getLogger("authonomy_integrations.tokens")
_policy_logger = logging.getLogger("authonomy_integrations.policies")

_CUSTOMER_ID = CUSTOMER_ID_PATTERN
#: Seconds between rewrites of a session's ``last_seen`` (see ``sessions.touch``).
_TOUCH_INTERVAL = 60.0
#: Sessions kept decoded in memory, so a repeat cookie costs a lookup.
_RECENT_SESSIONS = 10_000
#: Logged-out session ids remembered (cookie store: refuse copies of their cookies).
_ENDED_SESSIONS = 100_000
#: Webhook events that say an Authonomy session is over (back-channel logout).
SESSION_END_EVENTS = frozenset({"user.logged_out", "session.revoked"})
#: Conditions whose failure a fresh login with MFA can cure.
_STEP_UP_MFA = "mfa_required"
_STEP_UP_AGE = "max_session_duration"


@dataclass(frozen=True, slots=True)
class LoginStart:
    """Send the browser to ``redirect_url`` and set the login cookie to ``login_cookie``."""

    redirect_url: str
    login_cookie: str


@dataclass(frozen=True, slots=True)
class LoginDone:
    """A completed login: set both cookies and send the browser to ``redirect_to``."""

    redirect_to: str
    session_cookie: str
    login_cookie: str
    user: AuthonomyUser


@dataclass(frozen=True, slots=True)
class SessionState:
    """What a session cookie stands for on this request.

    ``user`` is ``None`` when the cookie names no live session; ``set_cookie`` is a new
    cookie value to send (after a refresh or a touch), ``clear_cookie`` asks the adapter
    to delete the cookie.
    """

    user: AuthonomyUser | None
    set_cookie: str | None = None
    clear_cookie: bool = False


_NO_SESSION = SessionState(None, clear_cookie=True)


class Engine:
    """Login, callback, bearer and session authentication, refresh, logout, policies."""

    def __init__(
        self,
        config: AuthonomyConfig,
        *,
        api: ApiFlows | None = None,
        clock: Callable[[], float] = time.time,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
        session_cache_ttl: float = 0.0,
        shared_revocations: bool = False,
        events: Events | None = None,
    ) -> None:
        """``session_cache_ttl``: seconds a decoded session may be reused without reading
        the store again; 0 (the default) for stores other processes write to.
        ``shared_revocations``: the session store records ended Authonomy sessions for
        every process (the ``RevokeSid`` and ``SidRevoked`` effects), so each bearer
        token and session is checked there, not only against this process's memory.
        ``events``: where decisions are reported (the log and ``config.on_event`` when
        not given)."""
        self.config = config
        self.events = events if events is not None else Events(config.on_event)
        self.clock = clock
        self.random_bytes = random_bytes
        self.api = api or ApiFlows(
            config.resolved_api_base_url,
            config.api_key or "unset",
            timeout=config.http_timeout,
            max_retries=config.max_retries,
            clock=clock,
            events=self.events,
        )
        self.access_options = VerifyOptions(
            issuer=config.resolved_issuer,
            audience=config.audience,
            algorithms=config.algorithms,
            leeway=config.leeway,
            max_token_bytes=config.max_token_bytes,
            typ="at+jwt",
        )
        self.id_options = VerifyOptions(
            issuer=config.resolved_issuer,
            audience=config.audience,
            algorithms=config.algorithms,
            leeway=config.leeway,
            max_token_bytes=config.max_token_bytes,
            typ="JWT",
        )
        self.keys = KeySetCache()
        self._discovered_jwks_url: str | None = config.jwks_url
        self.bearer_cache = TokenCache(config.token_cache_size)
        self.policies = PolicyRegistry(config.policies, ttl=config.policy_cache_ttl)
        #: Ids of sessions logged out here, refused even when a copy of the cookie comes
        #: back (the cookie store cannot forget a cookie); kept for a session's lifetime.
        self._ended = TokenCache(_ENDED_SESSIONS)
        #: Authonomy session ids (``sid``) ended by logout or back-channel logout; their
        #: tokens are refused for the rest of their lifetime, which a session bounds.
        self._revoked_sids = TokenCache(_ENDED_SESSIONS)
        self.shared_revocations = shared_revocations
        self.session_cache_ttl = session_cache_ttl
        #: Decoded sessions by cookie value, while no refresh, touch or expiry is due.
        self.recent_sessions = TokenCache(_RECENT_SESSIONS)
        secrets_ = config.session_secrets
        self.login_box = SecretBox(secrets_, purpose="login") if secrets_ else None
        self.login_throttle = LoginThrottle(config.login_rate_limit, config.login_rate_window)
        self.return_url = (
            f"{config.app_url.rstrip('/')}{config.callback_path}" if config.app_url else None
        )
        self._fast_bearer = self.fast_bearer()

    # --- tokens ----------------------------------------------------------------------

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
        if not (self.events.listening or _token_logger.isEnabledFor(logging.DEBUG)):
            return self.bearer_cache.get

        def reporting_get(token: str, now: float) -> AuthonomyUser | None:
            user: AuthonomyUser | None = self.bearer_cache.get(token, now)
            if user is not None:
                self._accepted(user, cached=True)
            return user

        return reporting_get

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
        revoked = yield from self._sid_revoked(user.session_id)
        if revoked:
            raise TokenError("the token's session has ended (signed out)")
        if claims is not None:
            self.bearer_cache.put(token, claims, user)
        self._accepted(user, cached=claims is None)
        return user

    # --- revocation ------------------------------------------------------------------

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
        self.recent_sessions.clear()
        if self.shared_revocations:
            yield RevokeSid(sid, ttl)

    def back_channel_logout(self, event_type: str, sid: str | None) -> Flow[None]:
        """React to a verified webhook: ``user.logged_out`` and ``session.revoked`` end
        the Authonomy session ``sid`` here (its local sessions and tokens are refused)."""
        if event_type in SESSION_END_EVENTS and sid:
            self.events.emit(ev.SESSION_ENDED, "back_channel_logout", event_type=event_type)
            yield from self.revoke_sid(sid)

    def _sid_revoked(self, sid: Any) -> Flow[bool]:
        if not isinstance(sid, str) or not sid:
            return False
        now = self.clock()
        if self._revoked_sids.get(sid, now) is not None:
            return True
        if not self.shared_revocations:
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

    def _signing_key(self, kid: Any, now: float) -> Flow[SigningKey | None]:
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

    # --- login -----------------------------------------------------------------------

    def resolve_customer(self, requested: str | None, request: Any) -> str:
        """The customer a login is for.

        The app chooses: with ``customer_resolver`` or ``customer_id`` configured, that is
        the customer, and a ``?customer=`` naming another one is refused. Otherwise
        ``?customer=`` decides, limited to ``allowed_customers`` when that is set.
        """
        config = self.config
        requested = requested or None
        pinned = None
        if config.customer_resolver is not None:
            pinned = config.customer_resolver(request)
        pinned = pinned or config.customer_id
        if pinned and requested and requested != pinned:
            raise LoginError(
                "this app does not sign in users of the requested customer",
                error="customer_not_allowed",
            )
        customer = pinned or requested
        if not customer:
            raise LoginError("no customer chosen for this login", error="customer_required")
        if not _CUSTOMER_ID.fullmatch(customer):
            raise LoginError("the customer id is not valid", error="invalid_customer")
        if not config.accepts_customer(customer):
            raise LoginError(
                "this app does not sign in users of the requested customer",
                error="customer_not_allowed",
            )
        return customer

    def start_login(
        self,
        *,
        customer_id: str,
        next_path: str | None,
        login_cookie: str | None,
        step_up: str | None = None,
        session_cookie: str | None = None,
    ) -> Flow[LoginStart]:
        """Ask Authonomy for a login URL and remember the attempt in the login cookie.

        A step-up login (``step_up``) of a browser with a live session asks Authonomy to
        sign in that same user again (``login_hint``); the callback insists on it.
        """
        with self.events.span("authonomy.login", **{"authonomy.customer_id": customer_id}):
            start: LoginStart = yield from self._start_login(
                customer_id, next_path, login_cookie, step_up, session_cookie
            )
        return start

    def _start_login(
        self,
        customer_id: str,
        next_path: str | None,
        login_cookie: str | None,
        step_up: str | None,
        session_cookie: str | None,
    ) -> Flow[LoginStart]:
        box, return_url = self._login_settings()
        now = self.clock()
        verifier, challenge = new_pkce(self.random_bytes)
        nonce = new_nonce(self.random_bytes)
        extra = yield from self._step_up_parameters(step_up)
        subject = None
        if step_up and session_cookie:
            subject, hint = yield from self._signed_in_subject(session_cookie)
            if subject is not None:
                extra["login_hint"] = hint
        answer = yield from self.api.auth.authorize(
            customer_id=customer_id,
            return_url=return_url,
            scopes=self.config.scopes,
            code_challenge=challenge,
            nonce=nonce,
            **extra,
        )
        attempt = LoginAttempt(
            state=answer["state"],
            code_verifier=verifier,
            nonce=nonce,
            next_path=safe_next(next_path),
            customer_id=customer_id,
            return_url=return_url,
            created_at=now,
            subject=subject,
        )
        pending = LoginAttempts.decode(login_cookie, box, now, self.config.login_timeout)
        cookie = LoginAttempts.encode(LoginAttempts.add(pending, attempt), box)
        start = LoginStart(_checked_redirect(answer["authorization_url"]), cookie)
        stepping_up = "prompt" in extra
        if stepping_up:
            self.events.emit(
                ev.STEP_UP_STARTED,
                user_id=subject,
                customer_id=customer_id,
                policy=step_up,
                mfa=extra.get("acr_values") == "mfa",
            )
        self.events.emit(ev.LOGIN_STARTED, customer_id=customer_id, step_up=stepping_up or None)
        return start

    def _signed_in_subject(self, cookie: str) -> Flow[tuple[str | None, str]]:
        """The ``sub`` of the live session behind ``cookie``, and the hint naming them."""
        record: SessionRecord | None = yield LoadSession(cookie)
        if record is None or not self._acceptable(record):
            return None, ""
        sub = record.claims.get("sub")
        if not isinstance(sub, str) or not sub:
            return None, ""
        email = record.claims.get("email")
        return sub, email if isinstance(email, str) and email else sub

    def uses_policy(self, name: str) -> bool:
        """Whether the application itself uses the policy ``name``: defined in
        ``config.policies`` or checked by a ``require_policy`` guard."""
        return name in self.config.policies or is_guard_policy(name)

    def _step_up_parameters(self, step_up: str | None) -> Flow[dict[str, Any]]:
        # A step_up value comes from the query string: any other name would cost a
        # policy fetch and a cache entry per value an anonymous client makes up.
        if not step_up or not self.uses_policy(step_up):
            return {}
        policy = yield from self._policy(step_up)
        conditions = policy.conditions if policy is not None else {}
        extra: dict[str, Any] = {"prompt": "login"}
        if conditions.get(_STEP_UP_MFA):
            extra["acr_values"] = "mfa"
        if _STEP_UP_AGE in conditions:
            extra["max_age"] = 0
        return extra

    def finish_login(
        self,
        params: Mapping[str, str],
        *,
        login_cookie: str | None,
        old_session: str | None,
    ) -> Flow[LoginDone]:
        """Check the callback, exchange the code, verify the tokens, start a session."""
        with self.events.span("authonomy.callback"):
            done: LoginDone = yield from self._finish_login(params, login_cookie, old_session)
        return done

    def _finish_login(
        self, params: Mapping[str, str], login_cookie: str | None, old_session: str | None
    ) -> Flow[LoginDone]:
        box, _ = self._login_settings()
        now = self.clock()
        pending = LoginAttempts.decode(login_cookie, box, now, self.config.login_timeout)
        result = check_callback(
            params,
            pending,
            issuer=self.config.resolved_issuer,
            now=now,
            ttl=self.config.login_timeout,
        )
        attempt = result.attempt
        answer = yield from self._exchange(result.code, attempt)
        # The code is spent now: whatever goes wrong from here, the tokens it gave are
        # revoked (nobody else may use them) and the browser gets an answer, never a 500.
        claims: Mapping[str, Any] | None = None
        try:
            tokens = TokenSet.from_response(answer, now)
            claims = yield from self._login_claims(tokens, attempt.nonce)
            mismatch = self._login_mismatch(attempt, claims)
            if mismatch is not None:
                # The old session stays as it was.
                raise mismatch
            record = new_record(
                new_session_id(self.random_bytes),
                tokens,
                claims,
                now,
                iss=self.config.resolved_issuer,
                aud=self.config.audience,
            )
            if old_session:
                yield from self._end_local(old_session)
            session_cookie = yield from self._save(record, now)
        except Exception as exc:
            yield from self._revoke(answer, claims)
            replacement = _after_exchange(exc)
            if replacement is exc:
                raise
            raise replacement from exc
        user = AuthonomyUser.from_claims(claims)
        self._login_completed(user, record, self.clock() - attempt.created_at, attempt)
        return LoginDone(
            redirect_to=safe_next(attempt.next_path),
            session_cookie=session_cookie,
            login_cookie=LoginAttempts.encode(result.remaining, box),
            user=user,
        )

    def _login_completed(
        self, user: AuthonomyUser, record: SessionRecord, took: float, attempt: LoginAttempt
    ) -> None:
        uid, customer = user.id, user.customer_id
        session = short_hash(record.id)
        self.events.emit(ev.SESSION_CREATED, user_id=uid, customer_id=customer, session=session)
        self.events.emit(
            ev.LOGIN_COMPLETED,
            user_id=uid,
            customer_id=customer,
            duration=max(0.0, took),
            mfa=user.mfa,
            step_up=attempt.subject is not None or None,
        )

    def _login_mismatch(
        self, attempt: LoginAttempt, claims: Mapping[str, Any]
    ) -> LoginError | None:
        """Why tokens that verified still cannot start a session here, if they cannot."""
        customer = claims.get("customer_id")
        if customer != attempt.customer_id or not self.config.accepts_customer(customer):
            return LoginError(
                "the user signed in through another customer than the one this sign-in "
                "was started for",
                error="customer_mismatch",
            )
        if attempt.subject is not None and claims.get("sub") != attempt.subject:
            return LoginError(
                "the verification was completed by another user than the one signed in",
                error="wrong_user",
            )
        return None

    def _revoke(
        self, answer: Mapping[str, Any], claims: Mapping[str, Any] | None = None
    ) -> Flow[None]:
        """End the Authonomy session of a token answer the app refused or cannot use: its
        ``sid`` refused here, its refresh token logged out at Authonomy (best effort)."""
        if claims is not None:
            yield from self.revoke_sid(_text_claim(claims, "sid"))
        refresh_token = answer.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            return
        try:
            yield from self.api.auth.logout(refresh_token=refresh_token)
        except AuthonomyError as exc:
            logger.warning("revoking refused tokens at Authonomy failed: %s", exc)

    def spent_login_cookie(self, state: str | None, login_cookie: str | None) -> str | None:
        """The login cookie without the attempt a failed callback used up (``None``: leave
        the cookie as it is), so the same callback URL cannot be tried again here."""
        if self.login_box is None or not login_cookie:
            return None
        now = self.clock()
        pending = LoginAttempts.decode(login_cookie, self.login_box, now, self.config.login_timeout)
        _, remaining = LoginAttempts.take(pending, state)
        return LoginAttempts.encode(remaining, self.login_box)

    def _exchange(self, code: str, attempt: LoginAttempt) -> Flow[Mapping[str, Any]]:
        try:
            answer = yield from self.api.auth.token(
                code=code,
                state=attempt.state,
                code_verifier=attempt.code_verifier,
                return_url=attempt.return_url,
            )
        except InvalidGrantError as exc:
            raise LoginError(
                f"the sign-in could not be completed: {exc.message}", error="invalid_grant"
            ) from exc
        return answer

    def _login_claims(self, tokens: TokenSet, nonce: str) -> Flow[dict[str, Any]]:
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

    def _login_settings(self) -> tuple[SecretBox, str]:
        if self.login_box is None or self.return_url is None or not self.config.api_key:
            raise LoginError(
                "logins need api_key, app_url and session_secret in the configuration",
                error="not_configured",
            )
        return self.login_box, self.return_url

    def login_refused_for(self, client_ip: str | None) -> float | None:
        """Count a login start from ``client_ip``: ``None`` when allowed, else the seconds
        before this address may start another (see ``config.login_rate_limit``)."""
        return self.login_throttle.take(client_ip, self.clock())

    def has_live_session(self, cookie: str | None) -> Flow[bool]:
        """Whether ``cookie`` names a session that is neither ended nor expired (no
        refresh, no write: only to tell a signed-in browser from an anonymous one)."""
        if not cookie:
            return False
        if self.cached_session(cookie) is not None:
            return True
        record = yield LoadSession(cookie)
        config = self.config
        return (
            record is not None
            and not self._has_ended(record)
            and not is_expired(
                record, self.clock(), config.session_idle_timeout, config.session_max_age
            )
        )

    # --- sessions --------------------------------------------------------------------

    def cached_session(self, cookie: str) -> SessionState | None:
        """The state of a session seen moments ago that needs no refresh, touch or check."""
        state: SessionState | None = self.recent_sessions.get(cookie, self.clock())
        return state

    def authenticate_session(self, cookie: str) -> Flow[SessionState]:
        """The user of a session cookie, refreshing the session when its token expires."""
        now = self.clock()
        record = yield LoadSession(cookie)
        if record is None or self._has_ended(record):
            return _NO_SESSION
        if self._foreign(record):
            # Another app's session (shared store or secret): not ours to end there.
            logger.warning("session refused: it was made by another app (iss or aud differs)")
            return _NO_SESSION
        if not self.config.accepts_customer(record.claims.get("customer_id")):
            self._ended_event(record, "customer_not_accepted", logging.WARNING)
            yield from self._end_local(cookie)
            return _NO_SESSION
        revoked = yield from self._sid_revoked(record.claims.get("sid"))
        if revoked:
            self._ended_event(record, "signed_out")
            yield from self._end_local(cookie)
            return _NO_SESSION
        if is_expired(record, now, self.config.session_idle_timeout, self.config.session_max_age):
            self._ended_event(record, "expired")
            yield DeleteSession(cookie)
            return _NO_SESSION
        if needs_refresh(record, now, self.config.refresh_margin):
            refreshed: SessionState = yield SessionExclusive(
                record.id, lambda: self._refresh_session(cookie)
            )
            return refreshed
        touched = touch(record, now, _TOUCH_INTERVAL)
        if touched is not None:
            try:
                new_cookie = yield from self._save(touched, now)
            except SessionTooLargeError:
                new_cookie = None  # the session stays as it was; a refresh decides
            return _state(record, cookie, new_cookie)
        state = _state(record, cookie, None)
        self._remember(cookie, record, state, now)
        return state

    def _remember(
        self, cookie: str, record: SessionRecord, state: SessionState, now: float
    ) -> None:
        if self.session_cache_ttl <= 0:
            return
        config = self.config
        until = min(
            now + self.session_cache_ttl,
            record.tokens.expires_at - config.refresh_margin,
            record.last_seen + _TOUCH_INTERVAL,
            record.last_seen + config.session_idle_timeout,
            record.created_at + config.session_max_age,
        )
        self.recent_sessions.keep(cookie, state, until)

    def _ended_event(self, record: SessionRecord, why: str, level: int | None = None) -> None:
        """Report that the session of ``record`` ended, and ``why``."""
        claims = record.claims
        self.events.emit(
            ev.SESSION_ENDED,
            why,
            user_id=_text_claim(claims, "sub"),
            customer_id=_text_claim(claims, "customer_id"),
            level=level,
            session=short_hash(record.id),
        )

    def _refresh_session(self, cookie: str) -> Flow[SessionState]:
        with self.events.span("authonomy.refresh"):
            state: SessionState = yield from self._refresh_locked(cookie)
        return state

    def _refresh_locked(self, cookie: str) -> Flow[SessionState]:
        now = self.clock()
        # Another request may have refreshed while this one waited for the lock.
        current = yield LoadSession(cookie)
        if current is None or not self._acceptable(current):
            return _NO_SESSION
        if not needs_refresh(current, now, self.config.refresh_margin):
            return _state(current, cookie, None)
        try:
            answer = yield from self.api.auth.refresh(current.tokens.refresh_token)
            tokens = TokenSet.from_response(answer, now)
            claims = yield from self.verify_access_token(tokens.access_token)
        except (InvalidGrantError, TokenError) as exc:
            why = token_reason(exc) if isinstance(exc, TokenError) else "invalid_grant"
            self._refresh_failed(current, why, now, detail=str(exc))
            self._ended_event(current, "refresh_refused")
            yield from self._end_local(cookie)
            return _NO_SESSION
        except (AuthonomyUnavailableError, InternalServerError) as exc:
            self._refresh_failed(current, "unavailable", now, detail=str(exc))
            return self._keep_while_unavailable(current, cookie, now, exc)
        changed = _identity_change(current.claims, claims)
        if changed is not None:
            self._ended_event(current, f"{changed}_changed", logging.WARNING)
            yield from self._revoke(answer, claims)
            yield from self._end_local(cookie)
            return _NO_SESSION
        refreshed = with_tokens(current, tokens, claims, now)
        try:
            new_cookie = yield from self._save(refreshed, now)
        except SessionTooLargeError as exc:
            # Permanent: the grown session will never fit again; end it cleanly.
            self._ended_event(current, "too_large", logging.ERROR)
            logger.error("the refreshed session does not fit its store: %s", exc)
            yield from self._revoke(answer)
            yield from self._end_local(cookie)
            return _NO_SESSION
        self.events.emit(
            ev.SESSION_REFRESHED,
            user_id=_text_claim(claims, "sub"),
            customer_id=_text_claim(claims, "customer_id"),
            duration=max(0.0, self.clock() - now),
            session=short_hash(current.id),
        )
        return _state(refreshed, cookie, new_cookie)

    def _refresh_failed(self, record: SessionRecord, why: str, now: float, detail: str) -> None:
        self.events.emit(
            ev.REFRESH_FAILED,
            why,
            user_id=_text_claim(record.claims, "sub"),
            customer_id=_text_claim(record.claims, "customer_id"),
            duration=max(0.0, self.clock() - now),
            session=short_hash(record.id),
            detail=detail,
        )

    def _keep_while_unavailable(
        self, record: SessionRecord, cookie: str, now: float, exc: AuthonomyError
    ) -> SessionState:
        if record.tokens.expires_at + self.config.leeway > now:
            return _state(record, cookie, None)
        raise AuthonomyUnavailableError(
            "Authonomy is temporarily unavailable; the session is kept",
            retry_after=getattr(exc, "retry_after", None) or 5,
        ) from exc

    def _foreign(self, record: SessionRecord) -> bool:
        """Whether the session was made by another app (issuer or audience differs)."""
        config = self.config
        return record.issuer != config.resolved_issuer or record.audience != config.audience

    def _acceptable(self, record: SessionRecord) -> bool:
        """Whether this app may use the session: its own, of an accepted customer, live."""
        return (
            not self._foreign(record)
            and self.config.accepts_customer(record.claims.get("customer_id"))
            and not self._has_ended(record)
        )

    def _has_ended(self, record: SessionRecord) -> bool:
        return self._ended.get(record.id, self.clock()) is not None

    def _save(self, record: SessionRecord, now: float) -> Flow[str]:
        ttl = store_ttl(record, now, self.config.session_idle_timeout, self.config.session_max_age)
        cookie: str = yield SaveSession(record, ttl)
        return cookie

    def _end_local(self, cookie: str) -> Flow[SessionRecord | None]:
        record: SessionRecord | None = yield LoadSession(cookie)
        if record is not None:
            self._ended.keep(record.id, True, record.created_at + self.config.session_max_age)
        # Other cookie values of this session may be cached; logouts are rare enough
        # to forget every cached session rather than index them by id.
        self.recent_sessions.clear()
        yield DeleteSession(cookie)
        return record

    def logout(self, cookie: str | None) -> Flow[None]:
        """End the session here and at Authonomy (its refresh tokens stop working)."""
        if not cookie:
            return
        found: SessionRecord | None = yield LoadSession(cookie)
        if found is None:
            record = yield from self._end_local(cookie)
        else:
            # Under the session's refresh lock: a refresh running in another worker
            # saves its result first and the delete comes after, instead of the
            # refreshed record being saved back over the logout.
            record = yield SessionExclusive(found.id, lambda: self._end_local(cookie))
        if record is None:
            return
        self._ended_event(record, "logout")
        yield from self.revoke_sid(_text_claim(record.claims, "sid"))
        try:
            yield from self.api.auth.logout(refresh_token=record.tokens.refresh_token)
        except AuthonomyError as exc:
            # The local session is gone; the refresh token left with it.
            logger.warning("logout at Authonomy failed: %s", exc)

    # --- policies --------------------------------------------------------------------

    def check_policy(
        self, name: str, user: AuthonomyUser | None, client_ip: str | None
    ) -> Flow[PolicyDecision]:
        """Evaluate the policy called ``name`` for ``user`` on this request."""
        policy = yield from self._policy(name)
        decision = self._decide(name, policy, user, client_ip)
        self.report_policy(decision, user)
        return decision

    def report_policy(self, decision: PolicyDecision, user: AuthonomyUser | None) -> None:
        """Report a policy decision. Passes are DEBUG and built only when someone listens:
        they happen on every guarded request."""
        if decision.allowed and not (self.events.listening or _policy_logger.isEnabledFor(10)):
            return
        uid = user.id if user is not None else None
        customer = user.customer_id if user is not None else None
        if decision.allowed:
            self.events.emit(
                ev.POLICY_PASSED, user_id=uid, customer_id=customer, policy=decision.policy
            )
            return
        reason = "+".join(decision.failed) or (
            "unauthenticated" if decision.login_can_cure else "undefined"
        )
        self.events.emit(
            ev.POLICY_FAILED,
            reason,
            user_id=uid,
            customer_id=customer,
            policy=decision.policy,
            failed=list(decision.failed),
            detail=decision.reason,
        )

    def policy_now(
        self, name: str, user: AuthonomyUser | None, client_ip: str | None
    ) -> PolicyDecision | None:
        """The decision when the policy is known and fresh, so no flow is needed; else
        ``None`` (run :meth:`check_policy`)."""
        now = self.clock()
        if self.policies.needs_fetch(name, now):
            return None
        policy = self.policies.lookup(name, now)
        if policy is None and not self.policies.is_missing(name):
            return None  # never fetched successfully: check_policy says why (503)
        return self._decide(name, policy, user, client_ip)

    def _decide(
        self, name: str, policy: Policy | None, user: AuthonomyUser | None, client_ip: str | None
    ) -> PolicyDecision:
        if policy is None:
            logger.error("policy %r is not defined locally nor at Authonomy", name)
            return PolicyDecision(False, name, f"policy '{name}' is not defined")
        if user is None:
            return PolicyDecision(False, name, "authentication required", login_can_cure=True)
        return evaluate(policy, user, client_ip=client_ip, now=self.clock())

    def _policy(self, name: str) -> Flow[Policy | None]:
        now = self.clock()
        known = self.policies.lookup(name, now)
        if known is not None:
            # Stale: one request refreshes in the background, every request (that one
            # too) goes on with the copy it has.
            if self.policies.claim_refresh(name, now, self._fetch_budget()):
                yield Background(lambda: self._fetch_policy(name, claimed=True))
            return known
        if self.policies.needs_fetch(name, now):
            # Nothing to serve yet: one request fetches, the others wait for it, but
            # never longer than one call to Authonomy may take.
            timeout = self.config.http_timeout
            yield Exclusive(f"policy:{name}", lambda: self._fetch_policy(name), timeout)
        found = self.policies.lookup(name, now)
        if found is None and not self.policies.is_missing(name):
            raise AuthonomyUnavailableError(
                f"policy '{name}' could not be fetched: Authonomy is unavailable", retry_after=5
            )
        return found

    def _fetch_budget(self) -> float:
        """Seconds a policy fetch may take, retries included, before another may start."""
        return self.config.http_timeout * (self.config.max_retries + 1) + 5.0

    def _fetch_policy(self, name: str, *, claimed: bool = False) -> Flow[None]:
        now = self.clock()
        if not claimed and not self.policies.needs_fetch(name, now):
            return
        try:
            found = yield from self.api.policies.find_by_name(name)
        except (AuthonomyUnavailableError, InternalServerError) as exc:
            self.policies.fetch_failed(name, now)
            if self.policies.lookup(name, now) is None:
                raise AuthonomyUnavailableError(
                    f"policy '{name}' could not be fetched: Authonomy is unavailable",
                    retry_after=5,
                ) from exc
            return
        except AuthonomyAPIError:
            self.policies.fetch_failed(name, now)
            raise
        try:
            policy = Policy.from_api(found) if found else None
        except ValueError as exc:
            self.policies.fetch_failed(name, now)
            raise AuthonomyAPIError(
                f"Authonomy returned a malformed policy '{name}': {exc}",
                code="UNEXPECTED_RESPONSE",
            ) from exc
        self.policies.fetched(name, policy, now)


def _after_exchange(exc: Exception) -> Exception:
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


#: Claims a refresh must not change: who the user is, where, and through which customer.
_IDENTITY_CLAIMS = ("sub", "iss", "customer_id")


def _identity_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """The first identity claim that differs between a session's token and its refresh."""
    return next((name for name in _IDENTITY_CLAIMS if old.get(name) != new.get(name)), None)


def _text_claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) else None


def _never(token: str, now: float) -> None:
    return None


def _only(key: SigningKey | None) -> Callable[[str], SigningKey | None]:
    return lambda kid: key


def _state(record: SessionRecord, old_cookie: str, new_cookie: str | None) -> SessionState:
    changed = new_cookie if new_cookie is not None and new_cookie != old_cookie else None
    return SessionState(AuthonomyUser.from_claims(record.claims), set_cookie=changed)


def _checked_redirect(url: Any) -> str:
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise AuthonomyAPIError(
            "Authonomy returned an authorization_url that is not an http(s) URL",
            code="UNEXPECTED_RESPONSE",
        )
    return url
