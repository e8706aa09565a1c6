"""The signed-in user, built from verified access-token claims.

Both classes follow Starlette's ``BaseUser`` shape (``is_authenticated``,
``display_name``, ``identity``) without importing Starlette, so ``request.user`` works
with Starlette's own ``@requires`` and with templates alike. They also speak the part of
Django's user protocol that code reading ``request.user`` relies on
(``is_authenticated``, ``is_anonymous``, ``is_active``, ``get_username()``), so Django's
own decorators, templates and third-party apps work with them.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .._errors import TokenError

__all__ = ["AuthonomyUser", "UnauthenticatedUser"]

_NO_CLAIMS: Mapping[str, Any] = MappingProxyType({})


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _names(value: Any) -> frozenset[str]:
    if not isinstance(value, list | tuple):
        return frozenset()
    return frozenset(item for item in value if isinstance(item, str))


def _auth_time(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _required(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise TokenError(f"missing {name}", claim=name)
    return value


@dataclass(frozen=True, slots=True, eq=False)
class AuthonomyUser:
    """A user signed in through Authonomy.

    A user is identified by (``issuer``, ``id``): two objects for the same user compare
    equal and hash alike even when built from different tokens.
    """

    id: str
    issuer: str
    email: str | None = None
    name: str | None = None
    customer_id: str | None = None
    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    mfa: bool = False
    auth_time: int | None = None
    session_id: str | None = None
    claims: Mapping[str, Any] = field(default_factory=lambda: _NO_CLAIMS, repr=False)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> AuthonomyUser:
        """Build the user from an access token's verified claims.

        Raises :class:`~authonomy_integrations._errors.TokenError` when ``sub`` or ``iss``
        is missing; other claims of the wrong type read as absent.
        """
        scope = claims.get("scope")
        return cls(
            id=_required(claims, "sub"),
            issuer=_required(claims, "iss"),
            email=_text(claims.get("email")),
            name=_text(claims.get("name")),
            customer_id=_text(claims.get("customer_id")),
            groups=_names(claims.get("groups")),
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            mfa="mfa" in _names(claims.get("amr")),
            auth_time=_auth_time(claims.get("auth_time")),
            session_id=_text(claims.get("sid")),
            claims=MappingProxyType(dict(claims)),
        )

    @property
    def is_authenticated(self) -> bool:
        """Always true: this user signed in."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Always false (Django code asks this as well as ``is_authenticated``)."""
        return False

    @property
    def is_active(self) -> bool:
        """Always true: Authonomy signs in only users who may sign in (Django asks)."""
        return True

    def get_username(self) -> str:
        """The user id (``sub``), which names the user uniquely, as Django's is."""
        return self.id

    @property
    def display_name(self) -> str:
        """The name to show: the profile name, else the email, else the user id."""
        return self.name or self.email or self.id

    @property
    def identity(self) -> str:
        """The user id (``sub``)."""
        return self.id

    def __deepcopy__(self, memo: dict[int, Any]) -> AuthonomyUser:
        """A user of its own, its claims copied too. ``copy.deepcopy`` cannot copy the
        read-only view the claims are kept in, and ASGI middleware deep-copies the scope
        the user rides in (hypercorn's ``ProxyFixMiddleware`` does)."""
        claims = MappingProxyType(copy.deepcopy(dict(self.claims), memo))
        return dataclasses.replace(self, claims=claims)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AuthonomyUser):
            return NotImplemented
        return (self.issuer, self.id) == (other.issuer, other.id)

    def __hash__(self) -> int:
        return hash((self.issuer, self.id))


class UnauthenticatedUser:
    """Nobody signed in. There is one instance; its attributes mirror an empty user."""

    __slots__ = ()
    _instance: UnauthenticatedUser | None = None

    id: None = None
    issuer: None = None
    email: None = None
    name: None = None
    customer_id: None = None
    groups: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    mfa: bool = False
    auth_time: None = None
    session_id: None = None
    claims: Mapping[str, Any] = _NO_CLAIMS

    def __new__(cls) -> UnauthenticatedUser:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    @property
    def is_authenticated(self) -> bool:
        """Always false."""
        return False

    @property
    def is_anonymous(self) -> bool:
        """Always true (Django code asks this as well as ``is_authenticated``)."""
        return True

    @property
    def is_active(self) -> bool:
        """Always false, as Django's anonymous user."""
        return False

    def get_username(self) -> str:
        """Empty, as Django's anonymous user."""
        return ""

    @property
    def display_name(self) -> str:
        """Empty: there is no one to name."""
        return ""

    @property
    def identity(self) -> str:
        """Empty: there is no one to identify."""
        return ""

    def __repr__(self) -> str:
        return "UnauthenticatedUser()"
