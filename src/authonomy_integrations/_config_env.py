"""Setting values from text: ``AUTHONOMY_*`` variables, lists, one secret or several.

Environment variables and Flask's ``app.config`` hold strings; :func:`coerce` turns each
into what its :class:`~authonomy_integrations._config.AuthonomyConfig` field takes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._errors import ConfigurationError

__all__ = ["NOT_FROM_ENV", "REDIS_URL", "coerce", "redis_stores", "secrets", "split_list"]

#: Fields that no environment variable can set (objects, not text).
NOT_FROM_ENV = frozenset({"customer_resolver", "session_store", "policies", "on_event"})

#: The variable that puts sessions and webhook ids in Redis (it is no field: it makes stores).
REDIS_URL = "AUTHONOMY_REDIS_URL"
#: Seconds each process may keep decoded sessions of that Redis (0: none).
REDIS_LOCAL_CACHE_TTL = "AUTHONOMY_REDIS_LOCAL_CACHE_TTL"

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


def secrets(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """One secret or a list of them (newest first) as a tuple; empty for none."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(value)


def split_list(value: str) -> list[str]:
    """The items of a comma- or space-separated list."""
    return [part for part in value.replace(",", " ").split() if part]


def coerce(name: str, value: Any) -> Any:
    """The value of field ``name`` from its text; values that are not text pass as they are.

    Raises :class:`ConfigurationError` for a number field that holds no number.
    """
    if not isinstance(value, str):
        return value
    try:
        if name in _LIST_FIELDS:
            parts = split_list(value)
            return parts[0] if len(parts) == 1 else parts
        if name in _TUPLE_FIELDS:
            return tuple(split_list(value))
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


def redis_stores(environ: Mapping[str, str], given: Mapping[str, Any]) -> dict[str, Any]:
    """``session_store`` and ``replay_store`` in the Redis that ``AUTHONOMY_REDIS_URL``
    names, for those not ``given``; none when the variable is unset or empty.

    A bad URL, or redis-py missing, raises :class:`ConfigurationError` naming the variable.
    """
    url = environ.get(REDIS_URL, "").strip()
    if not url:
        return {}
    from .stores import RedisReplayStore, RedisSessionStore

    cache_ttl = _seconds(environ.get(REDIS_LOCAL_CACHE_TTL, "").strip() or "0")
    makers: dict[str, Callable[[str], object]] = {
        "session_store": lambda url: RedisSessionStore(url, local_cache_ttl=cache_ttl),
        "replay_store": RedisReplayStore,
    }
    try:
        return {name: make(url) for name, make in makers.items() if name not in given}
    except ConfigurationError as exc:
        raise ConfigurationError(exc.field, exc.reason, variable=REDIS_URL) from None


def _seconds(text: str) -> float:
    """``AUTHONOMY_REDIS_LOCAL_CACHE_TTL`` as seconds, or a clear error."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ConfigurationError(
            "local_cache_ttl",
            "must be a number of seconds, 0 or more",
            variable=REDIS_LOCAL_CACHE_TTL,
        )
    return seconds
