"""The Authonomy REST API as flows: request building, envelopes, errors and retries.

Nothing here performs I/O. Each endpoint method returns a :data:`~.effects.Flow` that
yields :class:`~.effects.HttpRequest` and :class:`~.effects.Sleep` effects and returns the
envelope's unwrapped ``data``; :mod:`authonomy_integrations.client` drives these flows
over httpx, and other parts of the kit may drive them with their own runner::

    flows = ApiFlows("https://api.authonomy.io/v1", api_key)
    customer = runner.run(flows.customers.get("acme-corp"))

Retry rules: idempotent calls (GET, PUT, DELETE) are retried on transport errors, 429 and
500/502/503/504, waiting as the server asks (``Retry-After``, then ``X-RateLimit-Reset`` on
a 429) or with exponential backoff and jitter otherwise. A server wait longer than the cap
is not slept through: the error is raised at once with ``retry_after`` set. POST is never
retried, because an authorization code must not be spent twice.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, NotRequired, TypedDict, TypeVar
from urllib.parse import quote, urlsplit

from ..errors import (
    AuthonomyAPIError,
    AuthonomyUnavailableError,
    ConfigurationError,
    RateLimitedError,
    api_error_for,
)
from .effects import Flow, HttpRequest, HttpResponse, Sleep
from .events import API_CALL, LOG_ONLY, Events
from .urls import url_problem

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRIABLE_STATUSES",
    "AnalyticsFlows",
    "ApiFlows",
    "AuditFlows",
    "AuthFlows",
    "Authorization",
    "Customer",
    "CustomerFlows",
    "Envelope",
    "Page",
    "Pages",
    "PolicyFlows",
    "PolicyRecord",
    "RetryPolicy",
    "TokenResponse",
    "Webhook",
    "WebhookFlows",
    "error_from_response",
    "fetch_json",
    "observed_send",
    "send",
    "send_counted",
    "server_wait",
    "unwrap",
]

T = TypeVar("T")
JSONObject = dict[str, Any]

#: Methods whose repetition has no further effect, so a retry is safe.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
#: Statuses worth another try of an idempotent call.
RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_UNAVAILABLE_STATUSES = frozenset({502, 503, 504})
_HTTP_SCHEMES = frozenset({"http", "https"})
_MAX_PAGE_SIZE = 100


class Authorization(TypedDict):
    """Answer of ``POST /auth/authorize``."""

    authorization_url: str
    """Where to send the browser."""
    state: str
    """Opaque value the app binds to the browser and checks on return."""
    expires_in: int
    """Seconds the login request stays valid."""


class TokenResponse(TypedDict):
    """Answer of ``POST /auth/token`` and ``POST /auth/refresh``."""

    access_token: str
    refresh_token: str
    id_token: NotRequired[str]
    token_type: str
    expires_in: int
    """Seconds the access token lives."""
    scope: str
    """Space-separated granted scopes."""


class Customer(TypedDict):
    """A customer (tenant)."""

    id: str
    name: str
    status: str
    """``"active"`` or ``"suspended"``."""
    domains: list[str]
    idp: Any
    """IdP settings without ``client_secret``, or ``None``."""
    created_at: str


class PolicyRecord(TypedDict):
    """An access policy."""

    id: str
    """``pol_...``."""
    name: str
    """Unique name, used by ``require_policy``."""
    description: str
    type: str
    """``"authentication"`` or ``"authorization"``."""
    conditions: dict[str, Any]


class Webhook(TypedDict):
    """A webhook subscription; the secret is never returned."""

    id: str
    """``wh_...``."""
    url: str
    events: list[str]
    created_at: str


PolicyRecordList = list[PolicyRecord]


# --- retry decisions ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how long to wait before repeating an idempotent call."""

    max_retries: int = 2
    """Retries after the first attempt."""
    base_delay: float = 0.5
    """Backoff before the first retry; doubles with each further retry."""
    max_delay: float = 30.0
    """Longest wait; a server asking for more gets its error raised instead."""
    clock: Callable[[], float] = time.time
    """Unix time now; reads ``X-RateLimit-Reset`` and date-valued ``Retry-After``."""
    jitter: Callable[[], float] = random.random
    """A number in [0, 1) spreading retries of many clients apart."""

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigurationError("max_retries", "must not be negative")
        if self.base_delay <= 0 or self.max_delay < self.base_delay:
            raise ConfigurationError("max_delay", "need 0 < base_delay <= max_delay")

    def backoff(self, attempt: int) -> float:
        """Wait before retry ``attempt + 1``: between half and all of the doubled delay."""
        ceiling = min(self.max_delay, self.base_delay * 2.0**attempt)
        return ceiling * (0.5 + 0.5 * self.jitter())

    def delay(self, response: HttpResponse, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``response``, or ``None`` to stop."""
        if attempt >= self.max_retries or response.status not in RETRIABLE_STATUSES:
            return None
        wait = server_wait(response, self.clock())
        if wait is None:
            return self.backoff(attempt)
        return wait if wait <= self.max_delay else None


def server_wait(response: HttpResponse, now: float) -> float | None:
    """Seconds the server asked us to wait, from ``Retry-After`` or a 429's reset time."""
    headers = _lower(response.headers)
    wait = _retry_after(headers.get("retry-after", ""), now)
    if wait is None and response.status == 429:
        reset = _number(headers.get("x-ratelimit-reset", ""))
        wait = None if reset is None else max(0.0, reset - now)
    return wait


def _retry_after(value: str, now: float) -> float | None:
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def send(request: HttpRequest, retry: RetryPolicy, *, idempotent: bool) -> Flow[HttpResponse]:
    """Send ``request``, retrying per ``retry`` when ``idempotent``; return the last response.

    The response may be an error; :func:`unwrap` or :func:`error_from_response` read it.
    """
    response, _ = yield from send_counted(request, retry, idempotent=idempotent)
    return response


def send_counted(
    request: HttpRequest, retry: RetryPolicy, *, idempotent: bool, retries: list[int] | None = None
) -> Flow[tuple[HttpResponse, int]]:
    """:func:`send`, also returning how many retries it made. ``retries``, when given,
    holds that count as it grows, for a caller that sees the call fail."""
    attempt = 0
    while True:
        if retries is not None:
            retries[:] = [attempt]
        try:
            response: HttpResponse = yield request
        except AuthonomyUnavailableError:
            if not idempotent or attempt >= retry.max_retries:
                raise
            yield Sleep(retry.backoff(attempt))
            attempt += 1
            continue
        wait = retry.delay(response, attempt) if idempotent else None
        if wait is None:
            return response, attempt
        yield Sleep(wait)
        attempt += 1


def observed_send(
    request: HttpRequest, retry: RetryPolicy, *, idempotent: bool, events: Events
) -> Flow[HttpResponse]:
    """:func:`send` inside a client span, reported as an ``api.call`` event (endpoint,
    status, retries, latency). The URL is reported without its query string."""
    parts = urlsplit(request.url)
    port = parts.port
    url_full = f"{parts.scheme}://{parts.hostname}{f':{port}' if port else ''}{parts.path}"
    attributes = {
        "http.request.method": request.method,
        "url.full": url_full,
        "server.address": parts.hostname,
        "server.port": port,
    }
    started = retry.clock()
    retries = [0]
    with events.span(request.method, **attributes) as span:
        try:
            response, _ = yield from send_counted(
                request, retry, idempotent=idempotent, retries=retries
            )
        except AuthonomyUnavailableError:
            _report_call(
                events,
                request.method,
                parts.path,
                parts.hostname,
                retries[0],
                retry.clock() - started,
                None,
            )
            raise
        span.set_attribute("http.response.status_code", response.status)
        if response.status >= 400:
            span.set_attribute("error.type", str(response.status))
        _report_call(
            events,
            request.method,
            parts.path,
            parts.hostname,
            retries[0],
            retry.clock() - started,
            response.status,
        )
    return response


def _report_call(
    events: Events,
    method: str,
    endpoint: str,
    server: str | None,
    retries: int,
    duration: float,
    status: int | None,
) -> None:
    if status is None:
        level, error = logging.WARNING, "unavailable"
    elif status >= 500:
        level, error = logging.WARNING, str(status)
    elif status >= 400:
        level, error = logging.INFO, str(status)
    else:
        level, error = logging.DEBUG, None
    events.emit(
        API_CALL,
        error,
        duration=max(0.0, duration),
        level=level,
        method=method,
        endpoint=endpoint,
        server=server,
        status=status,
        retries=retries,
        error=error,
    )


# --- envelopes and errors ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    """A successful API answer: its ``data`` and, for lists, its ``pagination``."""

    data: Any
    pagination: Mapping[str, Any] | None = None
    request_id: str | None = None


def unwrap(response: HttpResponse, now: float) -> Envelope:
    """The envelope of a successful ``response``; raise the matching error otherwise."""
    body = _json_or_none(response)
    failed = isinstance(body, dict) and body.get("success") is False
    if response.status >= 400 or failed:
        raise error_from_response(response, now)
    if not (200 <= response.status < 300):
        raise _unexpected(response, f"unexpected HTTP {response.status}")
    if response.status == 204 or not response.body:
        return Envelope(None, request_id=_request_id(response, None))
    if not isinstance(body, dict) or "data" not in body:
        raise _unexpected(response, "the answer is not an Authonomy envelope")
    pagination = body.get("pagination")
    return Envelope(
        body["data"],
        pagination if isinstance(pagination, dict) else None,
        _request_id(response, body),
    )


def error_from_response(response: HttpResponse, now: float) -> Exception:
    """The exception an error ``response`` stands for, with the server's context attached."""
    body = _json_or_none(response)
    wait = server_wait(response, now)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        details = error.get("details")
        exc = api_error_for(
            error["code"],
            str(error.get("message") or error["code"]),
            status=response.status,
            details=details if isinstance(details, dict) else None,
            request_id=_request_id(response, body),
        )
    elif response.status in _UNAVAILABLE_STATUSES:
        message = f"Authonomy answered HTTP {response.status} without an error envelope"
        return AuthonomyUnavailableError(message, retry_after=wait)
    else:
        exc = _envelope_less(response)
    if isinstance(exc, RateLimitedError):
        exc.retry_after = wait
    return exc


def _envelope_less(response: HttpResponse) -> AuthonomyAPIError:
    # Statuses whose meaning does not depend on the body keep their specific class, so a
    # caller catching RateLimitedError or InternalServerError still catches them.
    code = {429: "RATE_LIMITED", 500: "INTERNAL_ERROR"}.get(response.status)
    if code is None:
        return _unexpected(response, f"HTTP {response.status} without an error envelope")
    message = f"HTTP {response.status} from Authonomy without an error envelope"
    return api_error_for(
        code, message, status=response.status, request_id=_request_id(response, None)
    )


def _unexpected(response: HttpResponse, reason: str) -> AuthonomyAPIError:
    return AuthonomyAPIError(
        f"Unexpected answer from Authonomy: {reason}",
        code="UNEXPECTED_RESPONSE",
        status=response.status,
        request_id=_request_id(response, None),
    )


def _json_or_none(response: HttpResponse) -> Any:
    if not response.body:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _request_id(response: HttpResponse, body: Any) -> str | None:
    meta = body.get("meta") if isinstance(body, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("request_id"), str):
        return str(meta["request_id"])
    return _lower(response.headers).get("x-request-id")


def fetch_json(
    url: str, *, timeout: float = 10.0, retry: RetryPolicy | None = None, events: Events = LOG_ONLY
) -> Flow[tuple[Any, Mapping[str, str]]]:
    """GET an absolute URL (key set, discovery) without the API key; return JSON and headers.

    Errors are mapped as for API calls; a body that is not JSON raises
    :class:`AuthonomyAPIError` with code ``UNEXPECTED_RESPONSE``.
    """
    retry = retry or RetryPolicy()
    request = HttpRequest("GET", url, {"Accept": "application/json"}, timeout=timeout)
    response = yield from observed_send(request, retry, idempotent=True, events=events)
    if response.status >= 400:
        raise error_from_response(response, retry.clock())
    try:
        return response.json(), _lower(response.headers)
    except ValueError:
        raise _unexpected(response, f"{url} did not answer with JSON") from None


# --- pagination ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing."""

    items: list[T]
    number: int
    total_pages: int
    total_items: int | None = None

    @property
    def next_number(self) -> int | None:
        """The page to fetch next, or ``None`` after the last one."""
        if not self.items or self.number >= self.total_pages:
            return None
        return self.number + 1


@dataclass(frozen=True, slots=True)
class Pages(Generic[T]):
    """A listing: ``page(n)`` is the flow fetching page ``n`` (from 1)."""

    fetch: Callable[[int], Flow[Page[T]]]

    def page(self, number: int) -> Flow[Page[T]]:
        """The flow fetching page ``number``."""
        return self.fetch(number)

    def collect(self) -> Flow[list[T]]:
        """The flow fetching every page and returning all items."""
        items: list[T] = []
        number: int | None = 1
        while number is not None:
            page = yield from self.page(number)
            items.extend(page.items)
            number = page.next_number
        return items


def _page(envelope: Envelope, number: int) -> Page[Any]:
    if not isinstance(envelope.data, list):
        raise AuthonomyAPIError(
            "Unexpected answer from Authonomy: a listing without a list",
            code="UNEXPECTED_RESPONSE",
            request_id=envelope.request_id,
        )
    pagination = envelope.pagination or {}
    total_pages = pagination.get("total_pages")
    total_items = pagination.get("total_items")
    # The page we asked for, not the one the server claims, drives the walk, so a
    # server ignoring ``page`` still ends after ``total_pages`` requests.
    return Page(
        envelope.data,
        number,
        total_pages if isinstance(total_pages, int) else number,
        total_items if isinstance(total_items, int) else None,
    )


# --- argument checks -------------------------------------------------------------------


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value


def _strings(name: str, values: Iterable[str]) -> list[str]:
    if isinstance(values, str | bytes):
        raise TypeError(f"{name} must be a list of strings, not a single string")
    items = list(values)
    for item in items:
        _text(f"each of {name}", item)
    return items


def _url(name: str, value: object) -> str:
    parts = urlsplit(_text(name, value))
    if parts.scheme not in _HTTP_SCHEMES or not parts.hostname:
        raise ValueError(f"{name} must be an absolute http(s) URL, got {value!r}")
    return str(value)


def _segment(name: str, value: object) -> str:
    """``value`` as one path segment, so an id can never reach another endpoint."""
    text = _text(name, value)
    if text in (".", ".."):
        raise ValueError(f"{name} {text!r} is not a valid identifier")
    return quote(text, safe="")


def _limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError("limit must be an integer")
    if not 1 <= limit <= _MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {_MAX_PAGE_SIZE}, got {limit}")
    return limit


def _params(**values: object) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in values.items()
        if value is not None
    }


def _has_fields(fields: Mapping[str, Any]) -> Mapping[str, Any]:
    if not fields:
        raise ValueError("give at least one field to update")
    return fields


def _check_base_url(base_url: str) -> str:
    # The API key travels in every request; plain http would expose it.
    problem = url_problem(base_url)
    if problem is not None:
        raise ConfigurationError("base_url", problem)
    return base_url.rstrip("/")


# --- the API -----------------------------------------------------------------------------


class ApiFlows:
    """Flows for every Authonomy endpoint, grouped like the API: ``auth``, ``customers``...

    ``clock`` and ``jitter`` are injected so that retry waits are reproducible in tests.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        max_delay: float = 30.0,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        events: Events = LOG_ONLY,
    ) -> None:
        """``events``: where each call is reported (``api.call``, a client span)."""
        if not api_key:
            raise ConfigurationError("api_key", "is required to call the Authonomy API")
        if timeout <= 0:
            raise ConfigurationError("timeout", "must be positive")
        self.base_url = _check_base_url(base_url)
        self.timeout = timeout
        self.events = events
        self.retry = RetryPolicy(
            max_retries=max_retries,
            max_delay=max_delay,
            clock=clock,
            jitter=jitter,
            base_delay=min(0.5, max_delay),
        )
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.auth = AuthFlows(self)
        self.customers = CustomerFlows(self)
        self.policies = PolicyFlows(self)
        self.analytics = AnalyticsFlows(self)
        self.audit = AuditFlows(self)
        self.webhooks = WebhookFlows(self)

    def __repr__(self) -> str:
        return f"ApiFlows({self.base_url!r})"

    def fetch_json(self, url: str) -> Flow[tuple[Any, Mapping[str, str]]]:
        """:func:`fetch_json` with this API's timeout and retry policy."""
        return fetch_json(url, timeout=self.timeout, retry=self.retry, events=self.events)

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Flow[Envelope]:
        request = HttpRequest(
            method, self.base_url + path, self._headers, json, params, self.timeout
        )
        response = yield from observed_send(
            request, self.retry, idempotent=method in IDEMPOTENT_METHODS, events=self.events
        )
        return unwrap(response, self.retry.clock())

    def _data(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        require: Sequence[str] = (),
    ) -> Flow[Any]:
        envelope = yield from self._call(method, path, json=json, params=params)
        missing = [
            key
            for key in require
            if not isinstance(envelope.data, dict) or key not in envelope.data
        ]
        if missing:
            raise AuthonomyAPIError(
                f"Unexpected answer from Authonomy: {method} {path} lacks {', '.join(missing)}",
                code="UNEXPECTED_RESPONSE",
                request_id=envelope.request_id,
            )
        return envelope.data

    def _pages(self, path: str, params: Mapping[str, Any]) -> Pages[Any]:
        def fetch(number: int) -> Flow[Page[Any]]:
            envelope = yield from self._call("GET", path, params={**params, "page": number})
            return _page(envelope, number)

        return Pages(fetch)


class _Group:
    def __init__(self, api: ApiFlows) -> None:
        self._api = api


class AuthFlows(_Group):
    """``/auth``: start a login, exchange a code, refresh, log out."""

    def authorize(
        self,
        customer_id: str,
        return_url: str,
        scopes: Sequence[str],
        code_challenge: str,
        nonce: str,
        code_challenge_method: str = "S256",
        login_hint: str | None = None,
        prompt: str | None = None,
        max_age: int | None = None,
        acr_values: str | None = None,
    ) -> Flow[Authorization]:
        """Start a login; the answer holds the URL to send the browser to."""
        if code_challenge_method != "S256":
            raise ValueError("code_challenge_method must be 'S256'")
        if max_age is not None and (isinstance(max_age, bool) or max_age < 0):
            raise ValueError("max_age must be a non-negative number of seconds")
        body = {
            "customer_id": _text("customer_id", customer_id),
            "return_url": _url("return_url", return_url),
            "scopes": _strings("scopes", scopes),
            "code_challenge": _text("code_challenge", code_challenge),
            "code_challenge_method": code_challenge_method,
            "nonce": _text("nonce", nonce),
            **_params(login_hint=login_hint, prompt=prompt, max_age=max_age, acr_values=acr_values),
        }
        return self._api._data(
            "POST", "/auth/authorize", json=body, require=("authorization_url", "state")
        )

    def token(
        self, code: str, state: str, code_verifier: str, return_url: str
    ) -> Flow[TokenResponse]:
        """Exchange an authorization code for tokens; never retried (a code is single-use)."""
        body = {
            "code": _text("code", code),
            "state": _text("state", state),
            "code_verifier": _text("code_verifier", code_verifier),
            "return_url": _url("return_url", return_url),
        }
        return self._api._data("POST", "/auth/token", json=body, require=("access_token",))

    def refresh(self, refresh_token: str) -> Flow[TokenResponse]:
        """Trade a refresh token for a new token set (the old refresh token is spent)."""
        body = {"refresh_token": _text("refresh_token", refresh_token)}
        return self._api._data("POST", "/auth/refresh", json=body, require=("access_token",))

    def logout(
        self, refresh_token: str | None = None, session_id: str | None = None
    ) -> Flow[JSONObject]:
        """End a session, named by exactly one of its refresh token or its id."""
        if (refresh_token is None) == (session_id is None):
            raise ValueError("logout needs exactly one of refresh_token or session_id")
        if refresh_token is not None:
            body = {"refresh_token": _text("refresh_token", refresh_token)}
        else:
            body = {"session_id": _text("session_id", session_id)}
        return self._api._data("DELETE", "/auth/logout", json=body)


class CustomerFlows(_Group):
    """``/customers``: tenants, their IdP and their policies."""

    def list(
        self,
        status: str | None = None,
        sort: str | None = None,
        order: str | None = None,
        limit: int = 50,
    ) -> Pages[Customer]:
        """Customers, optionally filtered by ``status`` and sorted."""
        if order not in (None, "asc", "desc"):
            raise ValueError("order must be 'asc' or 'desc'")
        params = _params(status=status, sort=sort, order=order, limit=_limit(limit))
        return self._api._pages("/customers", params)

    def get(self, id: str) -> Flow[Customer]:
        """One customer; :class:`InvalidCustomerError` when unknown."""
        return self._api._data("GET", f"/customers/{_segment('id', id)}")

    def create(
        self, id: str, name: str, domains: Sequence[str] | None = None, **extra: Any
    ) -> Flow[Customer]:
        """Create a customer; ``extra`` fields are sent as given."""
        body: JSONObject = {"id": _text("id", id), "name": _text("name", name), **extra}
        if domains is not None:
            body["domains"] = _strings("domains", domains)
        return self._api._data("POST", "/customers", json=body)

    def update(self, id: str, **fields: Any) -> Flow[Customer]:
        """Change some fields of a customer."""
        path = f"/customers/{_segment('id', id)}"
        return self._api._data("PUT", path, json=dict(_has_fields(fields)))

    def configure_idp(self, id: str, type: str, **settings: Any) -> Flow[Customer]:
        """Set the customer's IdP (``okta``, ``azure_ad``, ``saml``...); secrets are write-only."""
        body = {"type": _text("type", type), **settings}
        return self._api._data("POST", f"/customers/{_segment('id', id)}/idp", json=body)

    def policies(self, id: str) -> Flow[PolicyRecordList]:
        """The policies assigned to a customer."""
        return self._api._pages(f"/customers/{_segment('id', id)}/policies", {}).collect()

    def assign_policies(self, id: str, policy_ids: Sequence[str]) -> Flow[Any]:
        """Assign policies (by ``pol_...`` id) to a customer."""
        body = {"policy_ids": _strings("policy_ids", policy_ids)}
        return self._api._data("POST", f"/customers/{_segment('id', id)}/policies", json=body)


class PolicyFlows(_Group):
    """``/policies``: access policies and their conditions."""

    def list(self, limit: int = 100) -> Pages[PolicyRecord]:
        """Every policy."""
        return self._api._pages("/policies", {"limit": _limit(limit)})

    def get(self, id: str) -> Flow[PolicyRecord]:
        """One policy by ``pol_...`` id."""
        return self._api._data("GET", f"/policies/{_segment('id', id)}")

    def create(
        self, name: str, type: str, conditions: Mapping[str, Any], description: str = ""
    ) -> Flow[PolicyRecord]:
        """Create a policy; unknown conditions are refused with ``VALIDATION_ERROR``."""
        if not isinstance(conditions, Mapping):
            raise TypeError("conditions must be a mapping of condition name to value")
        body = {
            "name": _text("name", name),
            "type": _text("type", type),
            "conditions": dict(conditions),
            "description": description,
        }
        return self._api._data("POST", "/policies", json=body)

    def update(self, id: str, **fields: Any) -> Flow[PolicyRecord]:
        """Change some fields of a policy."""
        path = f"/policies/{_segment('id', id)}"
        return self._api._data("PUT", path, json=dict(_has_fields(fields)))

    def assign(self, customer_id: str, policy_ids: Sequence[str]) -> Flow[Any]:
        """Assign policies to a customer (same as ``customers.assign_policies``)."""
        return self._api.customers.assign_policies(customer_id, policy_ids)

    def find_by_name(self, name: str) -> Flow[PolicyRecord | None]:
        """The policy called ``name``, or ``None``; walks pages only as far as needed."""
        _text("name", name)
        return self._find(self.list(), name)

    @staticmethod
    def _find(pages: Pages[PolicyRecord], name: str) -> Flow[PolicyRecord | None]:
        number: int | None = 1
        while number is not None:
            page = yield from pages.page(number)
            for policy in page.items:
                if policy.get("name") == name:
                    return policy
            number = page.next_number
        return None


class AnalyticsFlows(_Group):
    """``/analytics``: dashboard metrics, events and users."""

    def dashboard(self) -> Flow[JSONObject]:
        """Dashboard metrics."""
        return self._api._data("GET", "/analytics/dashboard")

    def events(
        self,
        type: str | None = None,
        customer_id: str | None = None,
        since: str | int | datetime | None = None,
        until: str | int | datetime | None = None,
        limit: int = 100,
    ) -> Pages[JSONObject]:
        """Events, newest first, filtered by type, customer and time range."""
        params = _params(
            type=type, customer_id=customer_id, since=since, until=until, limit=_limit(limit)
        )
        return self._api._pages("/analytics/events", params)

    def users(self, limit: int = 100) -> Pages[JSONObject]:
        """Per-user analytics."""
        return self._api._pages("/analytics/users", {"limit": _limit(limit)})


class AuditFlows(_Group):
    """``/audit``: the audit trail of configuration changes."""

    def logs(self, limit: int = 100, **filters: str | int) -> Pages[JSONObject]:
        """Audit log entries; ``filters`` are passed as query parameters."""
        return self._api._pages("/audit/logs", _params(limit=_limit(limit), **filters))


class WebhookFlows(_Group):
    """``/webhooks``: subscriptions to event deliveries."""

    def create(self, url: str, events: Sequence[str], secret: str) -> Flow[Webhook]:
        """Subscribe ``url`` to ``events``; deliveries are signed with ``secret``."""
        names = _strings("events", events)
        if not names:
            raise ValueError("events must name at least one event type")
        body = {"url": _url("url", url), "events": names, "secret": _text("secret", secret)}
        return self._api._data("POST", "/webhooks", json=body)

    def list(self, limit: int = 100) -> Pages[Webhook]:
        """Every subscription."""
        return self._api._pages("/webhooks", {"limit": _limit(limit)})

    def delete(self, id: str) -> Flow[Any]:
        """Remove a subscription."""
        return self._api._data("DELETE", f"/webhooks/{_segment('id', id)}")
