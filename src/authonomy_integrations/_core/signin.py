"""The login transaction: the customer, the redirect to Authonomy, and the callback that
exchanges the code, verifies the tokens and starts a session.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .._config import CUSTOMER_ID_PATTERN, AuthonomyConfig
from .._errors import (
    AuthonomyAPIError,
    InvalidGrantError,
    LoginError,
    StoreUnavailableError,
)
from . import events as ev
from .context import Context, Part
from .crypto import SecretBox
from .effects import (
    CountLoginStart,
    Flow,
    LoadSession,
)
from .events import short_hash
from .login import (
    LoginAttempt,
    LoginAttempts,
    after_exchange,
    check_callback,
    new_nonce,
    new_pkce,
    next_in_app,
    safe_next,
)
from .policy_checks import PolicyChecks
from .session_flows import SessionKeeper
from .sessions import (
    SessionRecord,
    TokenSet,
    new_record,
    new_session_id,
)
from .throttle import LoginThrottle
from .user import AuthonomyUser
from .verifier import TokenVerifier

__all__ = ["LoginDone", "LoginStart", "LoginTransaction"]

logger = logging.getLogger("authonomy_integrations")
_CUSTOMER_ID = CUSTOMER_ID_PATTERN


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


class LoginTransaction(Part):
    """Starts logins and completes them at the callback."""

    def __init__(
        self,
        ctx: Context,
        tokens: TokenVerifier,
        sessions: SessionKeeper,
        policy_checks: PolicyChecks,
    ) -> None:
        super().__init__(ctx)
        self.tokens = tokens
        self.sessions = sessions
        self.policy_checks = policy_checks
        config = ctx.config
        secrets_ = config.session_secrets
        self.login_box = SecretBox(secrets_, purpose="login") if secrets_ else None
        self.login_throttle = LoginThrottle(
            config.login_rate_limit, config.login_rate_window, secret=_throttle_secret(config)
        )
        #: Whether login starts are counted in the session store, for every process
        #: sharing it (set by the runtime when its store can).
        self.shared_login_counts = False
        origins = config.origins
        #: The callback URL on ``app_url``'s first origin (a login may name the one in use).
        self.return_url = f"{origins[0]}{config.callback_path}" if origins else None

    def resolve_customer(
        self, requested: str | None, request: Any, host_customer: str | None = None
    ) -> str:
        """The customer a login is for.

        The app chooses: on a tenant host (``host_customer``, the label of a
        ``{customer}`` origin) that host's customer; else with ``customer_resolver`` or
        ``customer_id`` configured, that customer. A ``?customer=`` (or, on a tenant host,
        a resolver's answer) naming another one is refused. Otherwise ``?customer=``
        decides. ``allowed_customers`` limits every choice.
        """
        requested = requested or None
        pinned = self._pinned_customer(request, host_customer)
        if pinned and requested and requested != pinned:
            raise _not_allowed()
        customer = pinned or requested
        if not customer:
            raise LoginError("no customer chosen for this login", error="customer_required")
        if not _CUSTOMER_ID.fullmatch(customer):
            raise LoginError("the customer id is not valid", error="invalid_customer")
        if not self.config.accepts_customer(customer):
            raise _not_allowed()
        return customer

    def _pinned_customer(self, request: Any, host_customer: str | None) -> str | None:
        """The customer the app pins for this request, if it pins one."""
        config = self.config
        resolved = None
        if config.customer_resolver is not None:
            resolved = config.customer_resolver(request)
        if host_customer is None:
            return resolved or config.customer_id
        # The host names the tenant: a resolver that names another one is not followed.
        if resolved and resolved != host_customer:
            raise _not_allowed()
        return host_customer

    def start_login(
        self,
        *,
        customer_id: str,
        next_path: str | None,
        login_cookie: str | None,
        step_up: str | None = None,
        session_cookie: str | None = None,
        origin: str | None = None,
        prefix: str = "",
    ) -> Flow[LoginStart]:
        """Ask Authonomy for a login URL and remember the attempt in the login cookie.

        A step-up login (``step_up``) of a browser with a live session asks Authonomy to
        sign in that same user again (``login_hint``); the callback insists on it.
        ``origin`` is the app's origin in use (``app_url``'s first when not given): the
        callback URL Authonomy returns to is on it, under the URL ``prefix`` the app is
        served at, and ``next_path`` must stay inside that prefix.
        """
        with self.events.span("authonomy.login", **{"authonomy.customer_id": customer_id}):
            start: LoginStart = yield from self._start_login(
                customer_id, next_path, login_cookie, step_up, session_cookie, (origin, prefix)
            )
        return start

    def _start_login(
        self,
        customer_id: str,
        next_path: str | None,
        login_cookie: str | None,
        step_up: str | None,
        session_cookie: str | None,
        at: tuple[str | None, str],
    ) -> Flow[LoginStart]:
        box, return_url = self._login_settings()
        origin, prefix = at
        if origin is not None or prefix:
            return_url = self._callback_url(origin, prefix)
        now = self.clock()
        verifier, challenge = new_pkce(self.random_bytes)
        nonce = new_nonce(self.random_bytes)
        extra = yield from self.policy_checks.step_up_parameters(step_up)
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
            next_path=next_in_app(next_path, prefix),
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
        if record is None or not self.sessions.acceptable(record):
            return None, ""
        sub = record.claims.get("sub")
        if not isinstance(sub, str) or not sub:
            return None, ""
        email = record.claims.get("email")
        return sub, email if isinstance(email, str) and email else sub

    def finish_login(
        self,
        params: Mapping[str, str],
        *,
        login_cookie: str | None,
        old_session: str | None,
        origin: str | None = None,
        device: tuple[str | None, str | None] = (None, None),
        prefix: str = "",
    ) -> Flow[LoginDone]:
        """Check the callback, exchange the code, verify the tokens, start a session.

        With ``origin`` (the origin in use, of an app with several), the login must have
        been started for a callback on that same origin (and URL ``prefix``); ``device``
        is the browser's ``User-Agent`` and network prefix, shown in listings."""
        with self.events.span("authonomy.callback"):
            done: LoginDone = yield from self._finish_login(
                params, login_cookie, old_session, (origin, prefix), device
            )
        return done

    def _finish_login(
        self,
        params: Mapping[str, str],
        login_cookie: str | None,
        old_session: str | None,
        at: tuple[str | None, str],
        device: tuple[str | None, str | None],
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
        origin, prefix = at
        if (origin is not None or prefix) and attempt.return_url != self._callback_url(*at):
            raise LoginError(
                "the sign-in was started at another of the app's addresses", error="wrong_origin"
            )
        answer = yield from self._exchange(result.code, attempt)
        # The code is spent now: whatever goes wrong from here, the tokens it gave are
        # revoked (nobody else may use them) and the browser gets an answer, never a 500.
        claims: Mapping[str, Any] | None = None
        try:
            tokens = TokenSet.from_response(answer, now)
            claims = yield from self.tokens.login_claims(tokens)
            yield from self.tokens.check_login_id_token(tokens, attempt.nonce, claims)
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
                device=device,
            )
            if old_session:
                replaced = yield from self.sessions.end_local(old_session)
                if replaced is not None:
                    self.sessions.report_ended(replaced, "replaced")
            # Listed first: a listing skips a session that was never saved, but "sign out
            # everywhere" must never miss one that was.
            yield from self.sessions.index(record)
            session_cookie = yield from self.sessions.save(record, now)
        except Exception as exc:
            yield from self.sessions.revoke_answer(answer, claims)
            replacement = after_exchange(exc)
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

    def _callback_url(self, origin: str | None, prefix: str) -> str:
        """The callback URL on ``origin`` (``app_url``'s first when ``None``), under the
        URL ``prefix`` the app is served at."""
        base = origin if origin is not None else self.config.origins[0]
        return f"{base}{prefix}{self.config.callback_path}"

    def _login_settings(self) -> tuple[SecretBox, str]:
        if self.login_box is None or self.return_url is None or not self.config.api_key:
            raise LoginError(
                "logins need api_key, app_url and session_secret in the configuration",
                error="not_configured",
            )
        return self.login_box, self.return_url

    def login_refused_for(self, client_ip: str | None) -> Flow[float | None]:
        """Count a login start from ``client_ip``: ``None`` when allowed, else the seconds
        before this client may start another (see ``config.login_rate_limit`` and
        :mod:`.throttle`). With a shared store every process counts there."""
        throttle = self.login_throttle
        buckets = throttle.buckets(client_ip)
        if not buckets or not self.shared_login_counts:
            return throttle.take_buckets(buckets, self.clock()) if buckets else None
        window = max(1, math.ceil(throttle.window))
        waits: list[float] = []
        try:
            for bucket in buckets:
                count, left = yield CountLoginStart(bucket.key, window)
                if count > bucket.limit:
                    waits.append(max(1, math.ceil(left)))
        except StoreUnavailableError as exc:
            # Still bounded, per process, until the store is back.
            logger.warning("login starts counted in this process only: %s", exc)
            return throttle.take_buckets(buckets, self.clock())
        return max(waits) if waits else None


def _throttle_secret(config: AuthonomyConfig) -> bytes | None:
    """The key naming throttle buckets, the same in every worker of the app (derived
    from its session secret), or ``None`` for one of the process's own."""
    if not config.session_secrets:
        return None
    secret = config.session_secrets[0].encode()
    return hmac.new(secret, b"authonomy login throttle", hashlib.sha256).digest()


def _not_allowed() -> LoginError:
    return LoginError(
        "this app does not sign in users of the requested customer", error="customer_not_allowed"
    )


def _checked_redirect(url: Any) -> str:
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise AuthonomyAPIError(
            "Authonomy returned an authorization_url that is not an http(s) URL",
            code="UNEXPECTED_RESPONSE",
        )
    return url
