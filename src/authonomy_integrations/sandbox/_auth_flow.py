"""Sign-in as the server sees it: login requests, codes, sessions and token rotation.

No HTTP here: route modules parse input, call these functions and render the result.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ._envelope import ApiError
from ._models import (
    ApiKey,
    AuthCode,
    Identity,
    IdpSession,
    IssuedTokens,
    LoginRequest,
    MockUser,
    RefreshToken,
    Session,
    StoredPolicy,
)
from ._state import SandboxState
from ._tokens import mint_token_set, new_refresh_token

__all__ = [
    "AuthorizeParams",
    "cancel_redirect",
    "exchange_code",
    "identity_for",
    "issue_code",
    "live_login",
    "logout",
    "needs_mfa",
    "refresh",
    "sso_session",
    "start_login",
    "wrong_mfa_code",
]

_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


@dataclass(frozen=True)
class AuthorizeParams:
    """The body of ``POST /auth/authorize``, already type-checked."""

    customer_id: str
    return_url: str
    scopes: tuple[str, ...]
    code_challenge: str
    nonce: str | None = None
    login_hint: str | None = None
    prompt: str | None = None
    max_age: int | None = None
    acr_values: str | None = None


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode(params)) if part)
    return urlunsplit(parts._replace(query=query))


def start_login(state: SandboxState, key: ApiKey, params: AuthorizeParams) -> LoginRequest:
    """Open a login request for an active customer with an IdP."""
    with state.lock:
        customer = state.customers.get(params.customer_id)
        if customer is None:
            raise ApiError.invalid_customer(params.customer_id)
        if customer.status != "active":
            raise ApiError.validation(
                f"Customer '{customer.id}' is {customer.status}", customer_id=customer.id
            )
        if customer.idp is None:
            raise ApiError(
                422,
                "IDP_NOT_CONFIGURED",
                f"Customer '{customer.id}' has no identity provider configured",
                {"customer_id": customer.id},
            )
        login = LoginRequest(
            handle=secrets.token_urlsafe(24),
            customer_id=customer.id,
            application_id=key.application_id,
            return_url=params.return_url,
            state=secrets.token_urlsafe(32),
            scopes=params.scopes,
            code_challenge=params.code_challenge,
            nonce=params.nonce,
            login_hint=params.login_hint,
            prompt=params.prompt,
            max_age=params.max_age,
            mfa_requested=params.acr_values == "mfa",
            expires_at=state.clock.now() + state.login_ttl,
        )
        state.login_requests[login.handle] = login
    state.record("login_started", customer_id=customer.id)
    return login


def live_login(state: SandboxState, handle: str) -> LoginRequest | None:
    """The login request behind a handle, unless unknown, finished or expired."""
    with state.lock:
        login = state.login_requests.get(handle)
        if login is None or login.finished or state.clock.now() > login.expires_at:
            return None
        return login


def sso_session(state: SandboxState, login: LoginRequest, cookie: str | None) -> IdpSession | None:
    """The browser's IdP session, if it may sign this login in without asking."""
    if cookie is None or login.prompt == "login":
        return None
    with state.lock:
        session = state.idp_sessions.get(cookie)
    if session is None or session.customer_id != login.customer_id:
        return None
    if login.max_age is not None and state.clock.now() - session.auth_time > login.max_age:
        return None
    return session


def identity_for(
    state: SandboxState,
    login: LoginRequest,
    username: str,
    groups: tuple[str, ...] | None,
    mfa: bool | None,
) -> Identity | None:
    """The identity a pick on the login page asks for, or None for a user not offered."""
    user: MockUser | None = state.users.get(username)
    if user is None or user.customer_id != login.customer_id:
        return None
    wants_mfa = mfa if mfa is not None else login.mfa_requested or user.mfa_enrolled
    return Identity(user, user.groups if groups is None else groups, wants_mfa)


def needs_mfa(login: LoginRequest, identity: Identity, *, reused: bool) -> bool:
    """Whether an MFA step must come before the code is issued."""
    if reused:
        return login.mfa_requested and not identity.mfa
    return identity.mfa


def cancel_redirect(state: SandboxState, login: LoginRequest, description: str) -> str:
    """Finish the login as denied; the ``return_url`` the browser goes to."""
    with state.lock:
        login.finished = True
    state.record("authentication_failed", customer_id=login.customer_id, reason="access_denied")
    pending = login.pending.user.email if login.pending else None
    state.activity.login(
        user=pending, customer=_customer(state, login.customer_id), mfa=None, ok=False,
        result=description,
    )  # fmt: skip
    params = {
        "error": "access_denied",
        "error_description": description,
        "state": login.state,
        "iss": state.issuer,
    }
    return _with_query(login.return_url, params)


def wrong_mfa_code(state: SandboxState, login: LoginRequest) -> None:
    """Show a rejected one-time code on the console; the login stays open for a retry."""
    user = login.pending.user.email if login.pending else None
    state.activity.login(
        user=user, customer=_customer(state, login.customer_id), mfa=True, ok=False,
        result="wrong MFA code",
    )  # fmt: skip


def issue_code(
    state: SandboxState,
    login: LoginRequest,
    identity: Identity,
    idp_session: IdpSession,
    client: tuple[str, str],
) -> str:
    """Finish the login with a fresh code; the ``return_url`` the browser goes to."""
    ip_address, user_agent = client
    now = state.clock.now()
    record = AuthCode(
        code=secrets.token_urlsafe(32),
        request=login,
        identity=identity,
        auth_time=idp_session.auth_time,
        expires_at=now + state.code_ttl,
        ip_address=ip_address,
        user_agent=user_agent,
        idp_session_id=idp_session.id,
    )
    with state.lock:
        login.finished = True
        state.codes[record.code] = record
        state.idp_sessions[idp_session.id] = idp_session
    params = {"code": record.code, "state": login.state, "iss": state.issuer}
    return _with_query(login.return_url, params)


def _fail(state: SandboxState, message: str, customer_id: str | None = None) -> ApiError:
    state.record("authentication_failed", customer_id=customer_id, reason=message)
    return ApiError.invalid_grant(message)


def _customer(state: SandboxState, customer_id: str) -> tuple[str, str | None]:
    """A customer's id and its name now, for the console."""
    with state.lock:
        customer = state.customers.get(customer_id)
    return customer_id, customer.name if customer else None


def _code_refused(state: SandboxState, record: AuthCode | None, message: str) -> ApiError:
    """A failed code exchange, shown on the console as a failed login."""
    if record is None:
        state.activity.login(user=None, customer=None, mfa=None, ok=False, result=message)
        return _fail(state, message)
    customer_id, identity = record.request.customer_id, record.identity
    state.activity.login(
        user=identity.user.email, customer=_customer(state, customer_id), mfa=identity.mfa,
        ok=False, result=message,
    )  # fmt: skip
    return _fail(state, message, customer_id)


def _tokens_handed_out(
    state: SandboxState, kind: str, session: Session, tokens: IssuedTokens
) -> None:
    user = session.identity.user
    state.activity.token(
        kind, user=user.email, customer=_customer(state, user.customer_id),
        session_id=session.id, expires_in=tokens.expires_in,
    )  # fmt: skip


def _pkce_matches(verifier: str, challenge: str) -> bool:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


def _check_code(record: AuthCode, key: ApiKey, state_param: str, verifier: str, url: str) -> str:
    login = record.request
    if record.request.application_id != key.application_id:
        return "Authorization code was issued to another application"
    if not hmac.compare_digest(state_param.encode(), login.state.encode()):
        return "state does not match the login request"
    if url != login.return_url:
        return "return_url does not match the login request"
    if not _VERIFIER.fullmatch(verifier) or not _pkce_matches(verifier, login.code_challenge):
        return "code_verifier does not match the code_challenge"
    return ""


def exchange_code(
    state: SandboxState, key: ApiKey, code: str, state_param: str, verifier: str, return_url: str
) -> IssuedTokens:
    """Trade a code for a token set; a reused code revokes what it produced."""
    with state.lock:
        record = state.codes.get(code)
        if record is None:
            raise _code_refused(state, None, "Authorization code is invalid")
        customer_id = record.request.customer_id
        if record.used:
            if record.session_id is not None:
                _revoke(state, state.sessions[record.session_id], "code_reuse")
            raise _code_refused(state, record, "Authorization code was already used")
        record.used = True
        if state.clock.now() > record.expires_at:
            raise _code_refused(state, record, "Authorization code has expired")
        problem = _check_code(record, key, state_param, verifier, return_url)
        if problem:
            raise _code_refused(state, record, problem)
        session = _open_session(state, record)
        record.session_id = session.id
        tokens = _rotate_into(state, session)
    state.record(
        "authentication",
        customer_id=customer_id,
        user_id=session.identity.user.id,
        session_id=session.id,
        mfa=session.identity.mfa,
    )
    state.activity.login(
        user=session.identity.user.email, customer=_customer(state, customer_id),
        mfa=session.identity.mfa, ok=True, result="signed in",
    )  # fmt: skip
    _tokens_handed_out(state, "issued", session, tokens)
    state.emit("user.authenticated", _session_data(session))
    _report_violations(state, session)
    return tokens


def _report_violations(state: SandboxState, session: Session) -> None:
    """``policy.violated`` for each MFA policy of the customer this sign-in did not meet.

    The sign-in still succeeds: the app enforces policies on its routes; Authonomy
    reports what it saw, as the only condition it can judge at sign-in is MFA.
    """
    if session.identity.mfa:
        return
    user = session.identity.user
    with state.lock:
        customer = state.customers.get(user.customer_id)
        assigned = [state.policies[i] for i in customer.policy_ids] if customer else []
    for policy in assigned:
        if policy.conditions.get("mfa_required") is True:
            state.record(
                "policy_violation",
                customer_id=user.customer_id,
                user_id=user.id,
                session_id=session.id,
                policy=policy.name,
            )
            state.emit("policy.violated", _violation_data(session, policy))


def _violation_data(session: Session, policy: StoredPolicy) -> dict[str, Any]:
    data = _session_data(session)
    return {
        "user": data["user"],
        "policy": {"id": policy.id, "name": policy.name},
        "reason": "multi-factor authentication required",
        "request": {"path": "/v1/auth/token", "ip_address": session.ip_address},
    }


def _open_session(state: SandboxState, record: AuthCode) -> Session:
    session = Session(
        id=state.new_id("sess"),
        identity=record.identity,
        application_id=record.request.application_id,
        scopes=record.request.scopes,
        nonce=record.request.nonce,
        auth_time=record.auth_time,
        created_at=state.clock.now(),
        ip_address=record.ip_address,
        user_agent=record.user_agent,
        idp_session_id=record.idp_session_id,
    )
    state.sessions[session.id] = session
    return session


def _rotate_into(state: SandboxState, session: Session) -> IssuedTokens:
    token = new_refresh_token()
    state.refresh_tokens[token] = RefreshToken(token, session.id)
    return mint_token_set(
        state.keys, session, state.issuer, state.clock.now(), state.token_ttl, token
    )


def refresh(state: SandboxState, key: ApiKey, token: str) -> IssuedTokens:
    """Rotate a refresh token; reuse after the grace window revokes the session."""
    with state.lock:
        record = state.refresh_tokens.get(token)
        if record is None:
            raise _fail(state, "Refresh token is invalid")
        session = state.sessions[record.session_id]
        customer_id = session.identity.user.customer_id
        if session.revoked:
            raise _fail(state, "Refresh token has been revoked", customer_id)
        if session.application_id != key.application_id:
            raise _fail(state, "Refresh token was issued to another application", customer_id)
        now = state.clock.now()
        if record.used_at is not None:
            if now - record.used_at <= state.refresh_grace and record.successor is not None:
                return record.successor
            _revoke(state, session, "refresh_token_reuse")
            raise _fail(state, "Refresh token was already used; session revoked", customer_id)
        tokens = _rotate_into(state, session)
        record.used_at, record.successor = now, tokens
    state.record(
        "token_refresh", customer_id=customer_id, user_id=session.identity.user.id,
        session_id=session.id,
    )  # fmt: skip
    _tokens_handed_out(state, "refreshed", session, tokens)
    return tokens


def _revoke(state: SandboxState, session: Session, reason: str) -> None:
    if session.revoked:
        return
    session.revoked = True
    state.idp_sessions.pop(session.idp_session_id, None)
    user = session.identity.user
    state.record(
        "session_revoked", customer_id=user.customer_id, user_id=user.id,
        session_id=session.id, reason=reason,
    )  # fmt: skip
    state.activity.revoked(
        user=user.email, customer=_customer(state, user.customer_id), session_id=session.id,
        reason=reason,
    )  # fmt: skip
    state.emit("session.revoked", {**_session_data(session), "reason": reason})


def logout(state: SandboxState, refresh_token: str | None, session_id: str | None) -> None:
    """End a session named by one of its refresh tokens or by its id."""
    with state.lock:
        if refresh_token is not None:
            record = state.refresh_tokens.get(refresh_token)
            if record is None:
                raise ApiError.invalid_grant("Refresh token is invalid")
            session_id = record.session_id
        session = state.sessions.get(session_id or "")
        if session is None:
            raise ApiError.not_found(f"Session '{session_id}' not found", session_id=session_id)
        if session.revoked:
            return
        session.revoked = True
        state.idp_sessions.pop(session.idp_session_id, None)
    user = session.identity.user
    state.record("logout", customer_id=user.customer_id, user_id=user.id, session_id=session.id)
    state.activity.revoked(
        user=user.email, customer=_customer(state, user.customer_id), session_id=session.id,
        reason="logout",
    )  # fmt: skip
    state.emit("user.logged_out", _session_data(session))


def _session_data(session: Session) -> dict[str, Any]:
    user = session.identity.user
    return {
        "user": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "customer_id": user.customer_id,
        },
        "session": {
            "id": session.id,
            "ip_address": session.ip_address,
            "user_agent": session.user_agent,
        },
    }
