"""Access tokens for tests: a session opened as a finished sign-in would open it.

A bearer test needs a token the app accepts exactly as it accepts Authonomy's: signed
with the published keys, for this issuer and audience, naming a real customer and a
session that logout or revocation can end. Going through the hosted pages and PKCE for
that is ceremony; :func:`issue_access_token` opens the session directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .._config import AuthonomyConfig
from ._models import Identity, Session
from ._seed import AUDIENCE
from ._state import SandboxState
from ._tokens import mint_access_token

__all__ = ["DEFAULT_SCOPES", "TokenRequest", "issue_access_token"]

#: What the kit asks for at sign-in unless configured otherwise.
DEFAULT_SCOPES: tuple[str, ...] = AuthonomyConfig.scopes


@dataclasses.dataclass(frozen=True)
class TokenRequest:
    """What a test asks of the token; ``None`` keeps the mock user's own value."""

    user: str
    scopes: Sequence[str] | None = None
    groups: Sequence[str] | None = None
    mfa: bool | None = None
    ttl: int | None = None
    customer_id: str | None = None


def _checked_ttl(state: SandboxState, ttl: int | None) -> int:
    if ttl is None:
        return state.token_ttl
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise ValueError(f"ttl must be a positive number of seconds, not {ttl!r}")
    return ttl


def _names(field: str, value: Sequence[str]) -> tuple[str, ...]:
    # A bare string is a sequence too: "admins" would become six one-letter groups.
    if isinstance(value, str) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"{field} must be a list of strings, such as [{value!r}]")
    return tuple(value)


def _identity(state: SandboxState, request: TokenRequest) -> Identity:
    with state.lock:
        user = state.users.get(request.user)
        known = ", ".join(sorted(state.users))
    if user is None:
        raise ValueError(f"no user {request.user!r} in the sandbox ({known})")
    groups = user.groups if request.groups is None else _names("groups", request.groups)
    return Identity(user, groups, user.mfa_enrolled if request.mfa is None else request.mfa)


def _open(state: SandboxState, request: TokenRequest) -> Session:
    """The sandbox session the token belongs to, as a code exchange would open it."""
    identity = _identity(state, request)
    if request.customer_id is not None and request.customer_id != identity.user.customer_id:
        if request.customer_id not in state.customers:
            known = ", ".join(sorted(state.customers))
            raise ValueError(f"no customer {request.customer_id!r} in the sandbox ({known})")
        user = dataclasses.replace(identity.user, customer_id=request.customer_id)
        identity = dataclasses.replace(identity, user=user)
    now = state.clock.now()
    scopes = DEFAULT_SCOPES if request.scopes is None else _names("scopes", request.scopes)
    session = Session(
        id=state.new_id("sess"), identity=identity, application_id=AUDIENCE, scopes=scopes,
        nonce=None, auth_time=now, created_at=now, ip_address="127.0.0.1",
        user_agent="authonomy-sandbox issue_token", idp_session_id="",
    )  # fmt: skip
    with state.lock:
        state.sessions[session.id] = session
    return session


def issue_access_token(state: SandboxState, request: TokenRequest) -> str:
    """A signed access token for ``request.user``, in a new session of the sandbox."""
    ttl = _checked_ttl(state, request.ttl)
    session = _open(state, request)
    token = mint_access_token(state.keys, session, state.issuer, state.clock.now(), ttl)
    user = session.identity.user
    with state.lock:
        customer = state.customers.get(user.customer_id)
    state.activity.token(
        "issued", user=user.email, customer=(user.customer_id, customer.name if customer else None),
        session_id=session.id,
        expires_in=ttl,
    )  # fmt: skip
    return token
