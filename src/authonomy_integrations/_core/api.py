"""The Authonomy REST API as flows: each endpoint declared once, run however the caller runs.

Nothing here performs I/O. Endpoints are declared once, in :mod:`.api_endpoints`; through
:class:`ApiFlows` each returns a :data:`~.effects.Flow` that yields
:class:`~.effects.HttpRequest` and :class:`~.effects.Sleep` effects and returns the
envelope's unwrapped ``data``. :mod:`authonomy_integrations._client` binds the same
declarations to run over httpx, and other parts of the kit drive the flows with their own
runner::

    flows = ApiFlows("https://api.authonomy.io/v1", api_key)
    customer = runner.run(flows.customers.get("acme-corp"))

The parts: :mod:`.api_retry` (when to repeat a call), :mod:`.api_envelopes` (answers,
errors and pages), :mod:`.api_records` (what endpoints answer), :mod:`.api_values`
(argument checks), :mod:`.api_flows` (URL, key, sending; the endpoints as flows),
:mod:`.api_binding` (how one declaration becomes a flow, a blocking call or a coroutine).
"""

from __future__ import annotations

from .api_binding import AsFlow, Awaiting, Blocking
from .api_envelopes import Envelope, Page, Pages, error_from_response, fetch_json, unwrap
from .api_flows import ApiFlows
from .api_records import (
    AuthorizeResponse,
    Customer,
    JSONObject,
    PolicyRecord,
    PolicyRecordList,
    TokenResponse,
    WebhookSubscription,
)
from .api_retry import (
    IDEMPOTENT_METHODS,
    RETRIABLE_STATUSES,
    RetryPolicy,
    observed_send,
    send,
    send_counted,
    server_wait,
)

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRIABLE_STATUSES",
    "ApiFlows",
    "AsFlow",
    "AuthorizeResponse",
    "Awaiting",
    "Blocking",
    "Customer",
    "Envelope",
    "JSONObject",
    "Page",
    "Pages",
    "PolicyRecord",
    "PolicyRecordList",
    "RetryPolicy",
    "TokenResponse",
    "WebhookSubscription",
    "error_from_response",
    "fetch_json",
    "observed_send",
    "send",
    "send_counted",
    "server_wait",
    "unwrap",
]
