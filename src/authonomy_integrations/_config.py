"""``AuthonomyConfig``: every setting of the kit, checked once at start-up."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from . import _config_checks as checks
from ._config_checks import CUSTOMER_ID_PATTERN, ENVIRONMENTS
from ._config_env import coerce, redis_stores, secrets
from ._core.events import AuthEvent
from ._core.origins import split_origins
from ._errors import ConfigurationError

__all__ = ["CUSTOMER_ID_PATTERN", "ENVIRONMENTS", "AuthonomyConfig", "Environment"]

Environment = Literal["production", "sandbox"]

#: Fields whose values ``repr`` never shows: logs and tracebacks print configurations.
_SECRET_FIELDS = frozenset({"api_key", "session_secret", "webhook_secret"})


@dataclass(frozen=True, kw_only=True, repr=False)
class AuthonomyConfig:
    """Settings for the middleware, the Flask extension, the client and the receiver.

    A bad value raises :class:`ConfigurationError` naming the field, at construction.
    """

    api_key: str = ""
    """API key sent as ``Authorization: Bearer``; needed to start logins and call the API."""
    environment: str = "production"
    """``"production"`` or ``"sandbox"``: picks the default API URL and issuer."""
    api_base_url: str | None = None
    """Overrides the environment's API base URL (e.g. the embedded sandbox)."""
    issuer: str | None = None
    """Overrides the environment's issuer; compared to ``iss`` as an exact string."""
    jwks_url: str | None = None
    """Key set URL; by default ``{issuer}/.well-known/jwks.json``."""
    audience: str = ""
    """Expected ``aud`` of tokens: the application id of the API key."""
    app_url: str | Sequence[str] | None = None
    """The app's public origin; ``return_url`` is built from it, never from ``Host``. Or
    several origins (a list, or text separated by commas: ``AUTHONOMY_APP_URL``), one of
    which may hold a ``{customer}`` placeholder as its leftmost host label
    (``https://{customer}.myapp.example``): the request's ``Host`` then picks the origin
    in use among them, and a tenant host pins the customer of logins and callers there."""
    session_secret: str | Sequence[str] | None = None
    """Secret for cookies (login attempts, cookie sessions); a list, newest first, rotates."""
    customer_id: str | None = None
    """Default customer for logins when no ``?customer=`` and no resolver decide."""
    customer_resolver: Callable[[Any], str | None] | None = None
    """``callable(request) -> customer id`` for apps that pick the tenant per request: a
    plain function (called, never awaited), given the framework's request."""
    allowed_customers: Sequence[str] | None = None
    """``None``: any customer of this audience. Otherwise the only customers accepted, for
    logins (``?customer=`` is honoured only for a listed id), bearer tokens and sessions.
    Kept as a tuple; a comma-separated string (``AUTHONOMY_ALLOWED_CUSTOMERS``) is split."""
    webhook_secret: str | Sequence[str] | None = None
    """Webhook signing secret, or a list while rotating."""
    policies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Local policy conditions by policy name; other names are fetched from the API."""
    scopes: tuple[str, ...] = ("openid", "profile", "email", "groups")
    """Scopes requested at login."""
    login_path: str | None = "/auth/login"
    """Route that starts a login. Paths are the app's own, as its routes are written: an
    app served under a URL prefix (ASGI ``root_path``, WSGI ``SCRIPT_NAME``) leaves it
    out, and the kit puts it in front of the URLs it builds. ``None``: an API-only app that
    serves no login, callback or logout route and needs no ``app_url`` or
    ``session_secret`` (requests without a valid bearer token get 401)."""
    callback_path: str = "/auth/callback"
    """Route Authonomy returns to; ``return_url`` is ``app_url`` + this path."""
    logout_path: str = "/auth/logout"
    """Route that ends the session (POST from the app's own pages); with ``everywhere=1``
    in its query, every session of the user."""
    sessions_path: str = "/auth/sessions"
    """Route listing the signed-in user's sessions (GET, JSON); ``POST
    {sessions_path}/{id}/end`` ends one of them."""
    webhook_path: str = "/webhooks/authonomy"
    """Where the Flask extension mounts the webhook receiver."""
    after_logout_path: str = "/"
    """Where the browser goes after logout."""
    session_store: Any = None
    """A session store (memory by default; ``CookieSessionStore``, ``RedisSessionStore``)."""
    replay_store: Any = None
    """Where webhook receivers built from this config remember delivery ids (memory by
    default, per process; ``RedisReplayStore`` when several workers receive webhooks)."""
    session_cookie: str = "authonomy_session"
    """Cookie name; gets the ``__Host-`` prefix when the app URL is https."""
    login_cookie: str = "authonomy_login"
    """Cookie holding pending login attempts (state, PKCE verifier, nonce)."""
    cookie_secure: bool | None = None
    """``Secure`` cookies; by default on when ``app_url`` is https."""
    cookie_samesite: Literal["lax", "strict"] = "lax"
    session_idle_timeout: int = 8 * 3600
    """Seconds without a request after which a session ends (server-side)."""
    session_max_age: int = 7 * 24 * 3600
    """Seconds after login after which a session ends whatever its activity."""
    refresh_margin: int = 60
    """Refresh a session whose access token expires within this many seconds."""
    login_timeout: int = 600
    """Seconds a started login may take before its attempt expires."""
    leeway: float = 30.0
    """Clock skew tolerated on ``exp``, ``nbf`` and ``iat``, in seconds."""
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    """Accepted signature algorithms; never taken from a token's header."""
    http_timeout: float = 10.0
    """Timeout of each call to Authonomy, in seconds."""
    max_retries: int = 2
    """Retries of idempotent API calls on connection errors, 5xx and 429."""
    token_cache_size: int = 10_000
    """How many verified bearer tokens are kept to skip re-verification."""
    max_token_bytes: int = 8192
    """Tokens longer than this are rejected before parsing."""
    policy_cache_ttl: int = 300
    """Seconds a policy fetched from the API is used before it is fetched again."""
    login_rate_limit: int = 30
    """Login starts one client address may make per ``login_rate_window`` before the
    login route answers ``429`` (each start costs a call to Authonomy); 0 turns the
    limit off. Every start counts, a signed-in browser's (a step-up) too; IPv6 counts per
    /64 and per /48. Behind a proxy, the server must report the browser's address (see
    ``docs/production.md``)."""
    login_rate_window: int = 60
    """Seconds over which ``login_rate_limit`` counts."""
    on_event: Callable[[AuthEvent], None] | None = None
    """``callable(event)`` called with every :class:`AuthEvent` (login, token, session,
    policy, webhook and API decisions), in the thread or task that made the decision.
    A plain function, not async (it is called, never awaited); it must be quick and
    must not block: hand slow work to a queue. An exception it
    raises is logged and never changes the request's answer."""

    def __post_init__(self) -> None:
        try:
            allowed = checks.check(self)
        except ConfigurationError as exc:
            raise checks.with_variable(exc, _FIELD_NAMES) from None
        # Frozen: normalise in place once, so every reader sees a tuple.
        object.__setattr__(self, "allowed_customers", allowed)

    def check_logins(self) -> None:
        """Raise :class:`ConfigurationError` unless browser logins can work.

        The middleware and the Flask extension call this when they are created: with
        ``login_path`` set (the default), logins need ``api_key``, ``app_url`` and
        ``session_secret``. An API-only app (bearer tokens only) sets ``login_path=None``.
        """
        try:
            checks.check_logins(self)
        except ConfigurationError as exc:
            raise checks.with_variable(exc, _FIELD_NAMES) from None

    def accepts_customer(self, customer_id: object) -> bool:
        """Whether tokens and sessions of ``customer_id`` are accepted here."""
        if self.allowed_customers is None:
            return True
        return isinstance(customer_id, str) and customer_id in self.allowed_customers

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            shown = "'<hidden>'" if f.name in _SECRET_FIELDS and value else repr(value)
            parts.append(f"{f.name}={shown}")
        return f"AuthonomyConfig({', '.join(parts)})"

    @property
    def resolved_api_base_url(self) -> str:
        """The API base URL in force, without a trailing slash."""
        return (self.api_base_url or ENVIRONMENTS[self.environment][0]).rstrip("/")

    @property
    def resolved_issuer(self) -> str:
        """The issuer in force, exactly as tokens carry it."""
        return self.issuer or ENVIRONMENTS[self.environment][1]

    @property
    def resolved_jwks_url(self) -> str:
        """The key set URL in force."""
        return self.jwks_url or f"{self.resolved_issuer.rstrip('/')}/.well-known/jwks.json"

    @property
    def session_secrets(self) -> tuple[str, ...]:
        """Session secrets, newest first."""
        return secrets(self.session_secret)

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """Webhook secrets; any of them may sign."""
        return secrets(self.webhook_secret)

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies get ``Secure`` (and the ``__Host-`` prefix)."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        origins = self.origins
        return bool(origins) and str(origins[0]).startswith("https://")

    @property
    def origins(self) -> tuple[str, ...]:
        """The app's origins from ``app_url``, without trailing slashes (empty: none)."""
        return split_origins(self.app_url)

    def replace(self, **changes: Any) -> AuthonomyConfig:
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> AuthonomyConfig:
        """Build from ``AUTHONOMY_*`` variables; keyword arguments win over them.

        ``AUTHONOMY_REDIS_URL`` (``redis://``, ``rediss://``, ``redis+cluster://``,
        ``redis+sentinel://``) keeps sessions and webhook ids in that Redis, shared by
        every worker, unless ``session_store`` / ``replay_store`` are given.
        """
        environ = os.environ if environ is None else environ
        overrides = {**redis_stores(environ, overrides), **overrides}
        try:
            return cls.from_mapping(environ, **overrides)
        except ConfigurationError as exc:
            if any(name.startswith("AUTHONOMY_") for name in environ):
                raise
            # Not one variable: most often the sandbox's .env was never loaded here.
            raise ConfigurationError(
                exc.field,
                f"{exc.reason}; no AUTHONOMY_* variable is set at all: load the ones "
                "authonomy-sandbox wrote (set -a; . ./.env; set +a) or set them",
                variable=exc.variable,
            ) from None

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], prefix: str = "AUTHONOMY_", **overrides: Any
    ) -> AuthonomyConfig:
        """Build from a mapping of ``AUTHONOMY_<FIELD>`` keys (env, Flask's ``app.config``)."""
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            key = prefix + f.name.upper()
            if key in values and f.name not in overrides:
                try:
                    kwargs[f.name] = coerce(f.name, values[key])
                except ConfigurationError as exc:
                    raise ConfigurationError(f.name, exc.reason, variable=key) from None
        kwargs.update(overrides)
        return cls(**kwargs)


#: Every field's name (a ``ConfigurationError`` about one names its variable too).
_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(AuthonomyConfig))
