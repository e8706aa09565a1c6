"""One Authonomy API as flows: its URL, key, timeout, retries, and every endpoint."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._errors import AuthonomyAPIError, ConfigurationError
from .api_binding import AsFlow
from .api_endpoints import Endpoints
from .api_envelopes import Envelope, Page, Pages, fetch_json, page_from, unwrap
from .api_retry import IDEMPOTENT_METHODS, RetryPolicy, observed_send
from .api_values import check_base_url
from .effects import Flow, HttpRequest
from .events import LOG_ONLY, Events

__all__ = ["ApiFlows"]

_AS_FLOW = AsFlow()


class ApiFlows(Endpoints[AsFlow]):
    """Flows for every Authonomy endpoint, grouped like the API: ``auth``, ``customers``...

    The groups' declarations send their calls through :meth:`data` and :meth:`pages`.
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
        self.base_url = check_base_url(base_url)
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
        self._bind_endpoints(self, _AS_FLOW)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def fetch_json(self, url: str) -> Flow[tuple[Any, Mapping[str, str]]]:
        """:func:`fetch_json` with this API's timeout and retry policy."""
        return fetch_json(url, timeout=self.timeout, retry=self.retry, events=self.events)

    def envelope(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Flow[Envelope]:
        """Send one call (retried if idempotent) and return its success envelope."""
        request = HttpRequest(
            method, self.base_url + path, self._headers, json, params, self.timeout
        )
        response = yield from observed_send(
            request, self.retry, idempotent=method in IDEMPOTENT_METHODS, events=self.events
        )
        return unwrap(response, self.retry.clock())

    def data(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        require: Sequence[str] = (),
    ) -> Flow[Any]:
        """Send one call and return its ``data``, which must hold the keys in ``require``."""
        envelope = yield from self.envelope(method, path, json=json, params=params)
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

    def pages(self, path: str, params: Mapping[str, Any]) -> Pages[Any]:
        """The listing at ``path``; each page is one GET with ``params`` and its number."""

        def fetch(number: int) -> Flow[Page[Any]]:
            envelope = yield from self.envelope("GET", path, params={**params, "page": number})
            return page_from(envelope, number)

        return Pages(fetch)
