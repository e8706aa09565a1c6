"""``AuthonomyConfig``: every setting of the kit, checked once at start-up."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from .core.events import AuthEvent
from .core.conditions import validate_conditions
from .core.urls import url_problem
from .errors import ConfigurationError

__all__ = ["ENVIRONMENTS", "AuthonomyConfig", "Environment"]

Environment = Literal["production", "sandbox"]

#: API base URL and issuer of each hosted environment.
ENVIRONMENTS: Mapping[str, tuple[str, str]] = {
    "production": ("https://api.authonomy.io/v1", "https://auth.authonomy.io"),
    "sandbox": ("https://api-sandbox.authonomy.io/v1", "https://auth-sandbox.authonomy.io"),
}

_MIN_SECRET_LENGTH = 32
#: What a customer id may look like (the same rule the login route applies to ``?customer=``).
CUSTOMER_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_SUPPORTED_ALGORITHMS = frozenset({"RS256", "ES256"})


def _secrets(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(value)


def _split_env_list(value: str) -> list[str]:
    return [part for part in value.replace(",", " ").split() if part]


def _check_url(field_name: str, url: str) -> None:
    problem = url_problem(url)
    if problem is not None:
        raise ConfigurationError(field_name, problem)


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
    app_url: str | None = None
    """The app's public origin; ``return_url`` is built from it, never from ``Host``."""
    session_secret: str | Sequence[str] | None = None
    """Secret for cookies (login attempts, cookie sessions); a list, newest first, rotates."""
    customer_id: str | None = None
    """Default customer for logins when no ``?customer=`` and no resolver decide."""
    customer_resolver: Callable[[Any], str | None] | None = None
    """``callable(request) -> customer id`` for apps that pick the tenant per request."""
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
    """Route that starts a login. Paths are as the browser sees them: an app mounted
    under a prefix includes it (``/portal/auth/login``). ``None``: an API-only app that
    serves no login, callback or logout route and needs no ``app_url`` or
    ``session_secret`` (requests without a valid bearer token get 401)."""
    callback_path: str = "/auth/callback"
    """Route Authonomy returns to; ``return_url`` is ``app_url`` + this path."""
    logout_path: str = "/auth/logout"
    """Route that ends the session (POST from the app's own pages)."""
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
    limit off. Requests from a signed-in browser (a step-up) are not limited. Behind a
    proxy, the server must report the browser's address (see the README)."""
    login_rate_window: int = 60
    """Seconds over which ``login_rate_limit`` counts."""
    on_event: Callable[[AuthEvent], None] | None = None
    """``callable(event)`` called with every :class:`AuthEvent` (login, token, session,
    policy, webhook and API decisions), in the thread or task that made the decision.
    It must be quick and must not block: hand slow work to a queue. An exception it
    raises is logged and never changes the request's answer."""

    def __post_init__(self) -> None:
        try:
            self._validate_environment()
            self._validate_urls()
            self._validate_secrets()
            self._validate_paths()
            self._validate_numbers()
            self._validate_policies()
            self._validate_customers()
            self._validate_on_event()
        except ConfigurationError as exc:
            raise _with_variable(exc) from None

    def check_logins(self) -> None:
        """Raise :class:`ConfigurationError` unless browser logins can work.

        The middleware and the Flask extension call this when they are created: with
        ``login_path`` set (the default), logins need ``api_key``, ``app_url`` and
        ``session_secret``. An API-only app (bearer tokens only) sets ``login_path=None``.
        """
        if self.login_path is None:
            return
        for name, fix in _LOGIN_SETTINGS:
            if not getattr(self, name):
                raise _with_variable(
                    ConfigurationError(
                        name,
                        f"is required for browser logins ({fix}); an API-only app that "
                        "accepts bearer tokens and serves no login pages sets login_path=None",
                    )
                )

    def _validate_environment(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ConfigurationError(
                "environment",
                f"unknown environment {self.environment!r}; use one of {sorted(ENVIRONMENTS)}",
            )
        if not self.audience:
            raise ConfigurationError(
                "audience", "is required: the application id tokens are issued for"
            )
        unknown = set(self.algorithms) - _SUPPORTED_ALGORITHMS
        if unknown or not self.algorithms:
            raise ConfigurationError(
                "algorithms", f"must be a non-empty subset of {sorted(_SUPPORTED_ALGORITHMS)}"
            )

    def _validate_urls(self) -> None:
        _check_url("api_base_url", self.resolved_api_base_url)
        _check_url("issuer", self.resolved_issuer)
        _check_url("jwks_url", self.resolved_jwks_url)
        if self.app_url is not None:
            _check_url("app_url", self.app_url)
            if urlsplit(self.app_url).path not in ("", "/"):
                raise ConfigurationError("app_url", "must be an origin without a path")

    def _validate_secrets(self) -> None:
        if self.session_secret is not None:
            secrets = _secrets(self.session_secret)
            if not secrets:
                raise ConfigurationError("session_secret", "must not be empty")
            if any(len(secret) < _MIN_SECRET_LENGTH for secret in secrets):
                raise ConfigurationError(
                    "session_secret", f"each secret needs at least {_MIN_SECRET_LENGTH} characters"
                )
        if self.webhook_secret is not None and not _secrets(self.webhook_secret):
            raise ConfigurationError("webhook_secret", "must not be empty")

    def _validate_paths(self) -> None:
        for name in ("login_path", "callback_path", "logout_path", "webhook_path"):
            value = getattr(self, name)
            if value is None and name == "login_path":
                continue
            if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
                raise ConfigurationError(name, f"must be an absolute path, got {value!r}")

    def _validate_numbers(self) -> None:
        for name in (
            "session_idle_timeout",
            "session_max_age",
            "login_timeout",
            "http_timeout",
            "login_rate_window",
        ):
            if getattr(self, name) <= 0:
                raise ConfigurationError(name, "must be positive")
        for name in ("refresh_margin", "leeway", "max_retries", "login_rate_limit"):
            if getattr(self, name) < 0:
                raise ConfigurationError(name, "must not be negative")
        if self.token_cache_size < 1:
            raise ConfigurationError("token_cache_size", "must be at least 1")
        if self.max_token_bytes < 256:
            raise ConfigurationError("max_token_bytes", "must be at least 256")

    def _validate_policies(self) -> None:
        if not isinstance(self.policies, Mapping):
            raise ConfigurationError("policies", "must map policy names to conditions")
        for name, conditions in self.policies.items():
            validate_conditions(conditions, field=f"policies[{name!r}]")

    def _validate_customers(self) -> None:
        customer_id = self.customer_id
        if customer_id is not None and not CUSTOMER_ID_PATTERN.fullmatch(customer_id):
            raise ConfigurationError("customer_id", f"is not a valid customer id: {customer_id!r}")
        if self.allowed_customers is None:
            return
        value = self.allowed_customers
        allowed = tuple(_split_env_list(value) if isinstance(value, str) else value)
        if not allowed:
            raise ConfigurationError(
                "allowed_customers", "must list at least one customer id (None allows any)"
            )
        for customer in allowed:
            if not isinstance(customer, str) or not CUSTOMER_ID_PATTERN.fullmatch(customer):
                raise ConfigurationError(
                    "allowed_customers", f"{customer!r} is not a valid customer id"
                )
        if self.customer_id is not None and self.customer_id not in allowed:
            raise ConfigurationError(
                "allowed_customers", f"does not list the default customer_id {self.customer_id!r}"
            )
        # Frozen: normalise in place once, so every reader sees a tuple.
        object.__setattr__(self, "allowed_customers", allowed)

    def _validate_on_event(self) -> None:
        if self.on_event is not None and not callable(self.on_event):
            raise ConfigurationError("on_event", "must be a callable taking an AuthEvent")

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
        return _secrets(self.session_secret)

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """Webhook secrets; any of them may sign."""
        return _secrets(self.webhook_secret)

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies get ``Secure`` (and the ``__Host-`` prefix)."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return bool(self.app_url and self.app_url.startswith("https://"))

    def replace(self, **changes: Any) -> AuthonomyConfig:
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> AuthonomyConfig:
        """Build from ``AUTHONOMY_*`` variables; keyword arguments win over them."""
        return cls.from_mapping(os.environ if environ is None else environ, **overrides)

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
                    kwargs[f.name] = _coerce(f.name, values[key])
                except ConfigurationError as exc:
                    raise ConfigurationError(f.name, exc.reason, variable=key) from None
        kwargs.update(overrides)
        return cls(**kwargs)


#: What browser logins need, and where to get it.
_LOGIN_SETTINGS = (
    ("api_key", "the API key of your Authonomy application"),
    ("app_url", "your app's public origin, e.g. http://127.0.0.1:8000"),
    (
        "session_secret",
        f"{_MIN_SECRET_LENGTH}+ random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'",
    ),
)
#: Fields that no environment variable can set (objects, not text).
_NOT_FROM_ENV = frozenset({"customer_resolver", "session_store", "policies", "on_event"})


def _with_variable(exc: ConfigurationError) -> ConfigurationError:
    """``exc`` naming the ``AUTHONOMY_*`` variable of its field too, when it has one."""
    names = {f.name for f in dataclasses.fields(AuthonomyConfig)} - _NOT_FROM_ENV
    if exc.variable is not None or exc.field not in names:
        return exc
    return ConfigurationError(exc.field, exc.reason, variable=f"AUTHONOMY_{exc.field.upper()}")


_LIST_FIELDS = frozenset({"session_secret", "webhook_secret"})
_TUPLE_FIELDS = frozenset({"scopes", "algorithms", "allowed_customers"})
_INT_FIELDS = frozenset(
    {
        "session_idle_timeout",
        "session_max_age",
        "refresh_margin",
        "login_timeout",
        "max_retries",
        "token_cache_size",
        "max_token_bytes",
        "policy_cache_ttl",
        "login_rate_limit",
        "login_rate_window",
    }
)
_FLOAT_FIELDS = frozenset({"leeway", "http_timeout"})


def _coerce(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if name in _LIST_FIELDS:
            parts = _split_env_list(value)
            return parts[0] if len(parts) == 1 else parts
        if name in _TUPLE_FIELDS:
            return tuple(_split_env_list(value))
        if name in _INT_FIELDS:
            return int(value)
        if name in _FLOAT_FIELDS:
            return float(value)
    except ValueError:
        raise ConfigurationError(name, f"not a number: {value!r}") from None
    if name == "login_path" and value.strip().lower() in ("", "none"):
        return None  # an API-only app: AUTHONOMY_LOGIN_PATH= (empty) or none
    if name == "cookie_secure":
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value
