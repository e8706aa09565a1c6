"""The kit's authentication engine: every decision of a request, as flows without I/O.

The adapters call it through :class:`~authonomy_integrations.runtime.Authonomy` (threads)
or :class:`~authonomy_integrations.runtime.AsyncAuthonomy` (event loop), which drive these
flows. The engine keeps the process-wide state: the key-set cache, verified tokens,
policies, and sessions ended by logout.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..config import AuthonomyConfig
from ..errors import (
    AuthonomyAPIError,
    AuthonomyError,
    AuthonomyUnavailableError,
    InternalServerError,
    InvalidGrantError,
    LoginError,
    TokenError,
)
from .api import ApiFlows
from .crypto import SecretBox
from .effects import (
    Background,
    DeleteSession,
    Exclusive,
    Flow,
    LoadSession,
    SaveSession,
    SessionExclusive,
)
from .keys import KeySetCache, SigningKey
from .login import LoginAttempt, LoginAttempts, check_callback, new_nonce, new_pkce, safe_next
from .policies import Policy, PolicyDecision, PolicyRegistry, evaluate
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
from .token_cache import TokenCache
from .tokens import VerifyOptions, read_header, verify
from .urls import url_problem
from .user import AuthonomyUser

__all__ = ["Engine", "LoginDone", "LoginStart", "SessionState"]

logger = logging.getLogger("authonomy_integrations")

_CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
#: Seconds between rewrites of a session's ``last_seen`` (see ``sessions.touch``).
_TOUCH_INTERVAL = 60.0
#: Sessions kept decoded in memory, so a repeat cookie costs a lookup.
_RECENT_SESSIONS = 10_000
#: Logged-out session ids remembered (cookie store: refuse copies of their cookies).
_ENDED_SESSIONS = 100_000
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
    ) -> None:
        """``session_cache_ttl``: seconds a decoded session may be reused without reading
        the store again; 0 (the default) for stores other processes write to."""
        self.config = config
        self.clock = clock
        self.random_bytes = random_bytes
        self.api = api or ApiFlows(
            config.resolved_api_base_url,
            config.api_key or "unset",
            timeout=config.http_timeout,
            max_retries=config.max_retries,
            clock=clock,
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
        self.session_cache_ttl = session_cache_ttl
        #: Decoded sessions by cookie value, while no refresh, touch or expiry is due.
        self.recent_sessions = TokenCache(_RECENT_SESSIONS)
        secrets_ = config.session_secrets
        self.login_box = SecretBox(secrets_, purpose="login") if secrets_ else None
        self.return_url = (
            f"{config.app_url.rstrip('/')}{config.callback_path}" if config.app_url else None
        )

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

    def cached_bearer(self, token: str) -> AuthonomyUser | None:
        """The user of an already verified, unexpired bearer token; no flow needed."""
        user: AuthonomyUser | None = self.bearer_cache.get(token, self.clock())
        return user

    def authenticate_bearer(self, token: str) -> Flow[AuthonomyUser]:
        """The user of a bearer access token; raises :class:`TokenError` when invalid."""
        user = self.cached_bearer(token)
        if user is not None:
            return user
        claims = yield from self.verify_access_token(token)
        user = AuthonomyUser.from_claims(claims)
        self.bearer_cache.put(token, claims, user)
        return user

    def _signing_key(self, kid: Any, now: float) -> Flow[SigningKey | None]:
        if not isinstance(kid, str) or not kid:
            raise TokenError("token header has no kid")
        if self.keys.should_fetch(kid, now):
            yield Exclusive("jwks", lambda: self._refresh_keys(kid))
        if self.keys.keys is None:
            raise AuthonomyUnavailableError("the signing keys could not be fetched", retry_after=5)
        return self.keys.lookup(kid, now)

    def _refresh_keys(self, kid: str) -> Flow[None]:
        now = self.clock()
        if not self.keys.should_fetch(kid, now):  # another request fetched meanwhile
            return
        try:
            url = yield from self._jwks_url()
            doc, headers = yield from self.api.fetch_json(url)
        except AuthonomyError as exc:
            logger.warning("fetching the key set failed: %s", exc)
            self.keys.fetch_failed(now)
            return
        self.keys.fetched(doc if isinstance(doc, dict) else {}, headers.get("cache-control"), now)

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
        """The customer a login is for: ``?customer=``, the resolver, or the default."""
        customer = requested or None
        if customer is None and self.config.customer_resolver is not None:
            customer = self.config.customer_resolver(request)
        customer = customer or self.config.customer_id
        if not customer:
            raise LoginError("no customer chosen for this login", error="customer_required")
        if not _CUSTOMER_ID.fullmatch(customer):
            raise LoginError("the customer id is not valid", error="invalid_customer")
        return customer

    def start_login(
        self,
        *,
        customer_id: str,
        next_path: str | None,
        login_cookie: str | None,
        step_up: str | None = None,
    ) -> Flow[LoginStart]:
        """Ask Authonomy for a login URL and remember the attempt in the login cookie."""
        box, return_url = self._login_settings()
        now = self.clock()
        verifier, challenge = new_pkce(self.random_bytes)
        nonce = new_nonce(self.random_bytes)
        extra = yield from self._step_up_parameters(step_up)
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
        )
        pending = LoginAttempts.decode(login_cookie, box, now, self.config.login_timeout)
        cookie = LoginAttempts.encode(LoginAttempts.add(pending, attempt), box)
        return LoginStart(_checked_redirect(answer["authorization_url"]), cookie)

    def _step_up_parameters(self, step_up: str | None) -> Flow[dict[str, Any]]:
        if not step_up:
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
        tokens = TokenSet.from_response(answer, now)
        claims = yield from self._login_claims(tokens, attempt.nonce)
        record = new_record(new_session_id(self.random_bytes), tokens, claims, now)
        if old_session:
            yield from self._end_local(old_session)
        ttl = store_ttl(record, now, self.config.session_idle_timeout, self.config.session_max_age)
        session_cookie = yield SaveSession(record, ttl)
        return LoginDone(
            redirect_to=attempt.next_path,
            session_cookie=session_cookie,
            login_cookie=LoginAttempts.encode(result.remaining, box),
            user=AuthonomyUser.from_claims(claims),
        )

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
            raise LoginError(f"the sign-in could not be completed: {exc.message}") from exc
        return answer

    def _login_claims(self, tokens: TokenSet, nonce: str) -> Flow[dict[str, Any]]:
        try:
            claims = yield from self.verify_access_token(tokens.access_token)
            if not tokens.id_token:
                raise LoginError("Authonomy returned no ID token")
            id_claims = yield from self.verify_id_token(tokens.id_token, nonce)
        except TokenError as exc:
            raise LoginError(f"token from Authonomy rejected: {exc.reason}") from exc
        if id_claims.get("sub") != claims.get("sub"):
            raise LoginError("ID token and access token name different users")
        return claims

    def _login_settings(self) -> tuple[SecretBox, str]:
        if self.login_box is None or self.return_url is None or not self.config.api_key:
            raise LoginError(
                "logins need api_key, app_url and session_secret in the configuration",
                error="not_configured",
            )
        return self.login_box, self.return_url

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
        if is_expired(record, now, self.config.session_idle_timeout, self.config.session_max_age):
            yield DeleteSession(cookie)
            return _NO_SESSION
        if needs_refresh(record, now, self.config.refresh_margin):
            refreshed: SessionState = yield SessionExclusive(
                record.id, lambda: self._refresh_session(cookie)
            )
            return refreshed
        touched = touch(record, now, _TOUCH_INTERVAL)
        if touched is not None:
            new_cookie = yield from self._save(touched, now)
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

    def _refresh_session(self, cookie: str) -> Flow[SessionState]:
        now = self.clock()
        # Another request may have refreshed while this one waited for the lock.
        current = yield LoadSession(cookie)
        if current is None or self._has_ended(current):
            return _NO_SESSION
        if not needs_refresh(current, now, self.config.refresh_margin):
            return _state(current, cookie, None)
        try:
            answer = yield from self.api.auth.refresh(current.tokens.refresh_token)
            tokens = TokenSet.from_response(answer, now)
            claims = yield from self.verify_access_token(tokens.access_token)
        except (InvalidGrantError, TokenError) as exc:
            logger.info("session ended: refresh refused (%s)", exc)
            yield from self._end_local(cookie)
            return _NO_SESSION
        except (AuthonomyUnavailableError, InternalServerError) as exc:
            return self._keep_while_unavailable(current, cookie, now, exc)
        refreshed = with_tokens(current, tokens, claims, now)
        new_cookie = yield from self._save(refreshed, now)
        return _state(refreshed, cookie, new_cookie)

    def _keep_while_unavailable(
        self, record: SessionRecord, cookie: str, now: float, exc: AuthonomyError
    ) -> SessionState:
        if record.tokens.expires_at + self.config.leeway > now:
            logger.warning("refresh postponed, Authonomy unavailable: %s", exc)
            return _state(record, cookie, None)
        raise AuthonomyUnavailableError(
            "Authonomy is temporarily unavailable; the session is kept",
            retry_after=getattr(exc, "retry_after", None) or 5,
        ) from exc

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
        return self._decide(name, policy, user, client_ip)

    def policy_now(
        self, name: str, user: AuthonomyUser | None, client_ip: str | None
    ) -> PolicyDecision | None:
        """The decision when the policy is known and fresh, so no flow is needed; else
        ``None`` (run :meth:`check_policy`)."""
        now = self.clock()
        if self.policies.needs_fetch(name, now):
            return None
        return self._decide(name, self.policies.lookup(name, now), user, client_ip)

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
        if self.policies.needs_fetch(name, now):
            if known is None:
                yield Exclusive(f"policy:{name}", lambda: self._fetch_policy(name))
                return self.policies.lookup(name, now)
            yield Background(lambda: self._fetch_policy(name))
        return known

    def _fetch_policy(self, name: str) -> Flow[None]:
        now = self.clock()
        if not self.policies.needs_fetch(name, now):
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
