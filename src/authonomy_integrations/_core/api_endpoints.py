"""Every Authonomy endpoint, declared once: parameters, defaults, checks and docstring.

Each group below is generic over its mode (:mod:`.api_binding`): ``ApiFlows`` holds them
as flows, ``AuthonomyClient`` runs them in the calling thread, ``AsyncAuthonomyClient``
awaits them. A declaration checks its arguments before anything is sent, so a bad
argument raises ``TypeError`` or ``ValueError`` and no request leaves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic

from . import api_values as check
from .api_binding import EndpointGroup, M, endpoint, listing
from .api_envelopes import Pages
from .api_records import (
    AuthorizeResponse,
    Customer,
    JSONObject,
    PolicyRecord,
    PolicyRecordList,
    TokenResponse,
    WebhookSubscription,
)
from .effects import Flow

if TYPE_CHECKING:
    from .api_flows import ApiFlows

__all__ = [
    "AnalyticsEndpoints",
    "AuditEndpoints",
    "AuthEndpoints",
    "CustomerEndpoints",
    "Endpoints",
    "PolicyEndpoints",
    "WebhookEndpoints",
]


class AuthEndpoints(EndpointGroup[M]):
    """``/auth``: start a login, exchange a code, refresh, log out."""

    @endpoint
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
    ) -> Flow[AuthorizeResponse]:
        """Start a login; send the browser to the answer's ``authorization_url``."""
        if code_challenge_method != "S256":
            raise ValueError("code_challenge_method must be 'S256'")
        if max_age is not None and (isinstance(max_age, bool) or max_age < 0):
            raise ValueError("max_age must be a non-negative number of seconds")
        body = {
            "customer_id": check.text("customer_id", customer_id),
            "return_url": check.url("return_url", return_url),
            "scopes": check.strings("scopes", scopes),
            "code_challenge": check.text("code_challenge", code_challenge),
            "code_challenge_method": code_challenge_method,
            "nonce": check.text("nonce", nonce),
            **check.query(
                login_hint=login_hint, prompt=prompt, max_age=max_age, acr_values=acr_values
            ),
        }
        required = ("authorization_url", "state")
        return self._api.data("POST", "/auth/authorize", json=body, require=required)

    @endpoint
    def token(
        self, code: str, state: str, code_verifier: str, return_url: str
    ) -> Flow[TokenResponse]:
        """Exchange an authorization code for tokens; never retried (a code is single-use)."""
        body = {
            "code": check.text("code", code),
            "state": check.text("state", state),
            "code_verifier": check.text("code_verifier", code_verifier),
            "return_url": check.url("return_url", return_url),
        }
        return self._api.data("POST", "/auth/token", json=body, require=("access_token",))

    @endpoint
    def refresh(self, refresh_token: str) -> Flow[TokenResponse]:
        """Trade a refresh token for a new token set (the old refresh token is spent)."""
        body = {"refresh_token": check.text("refresh_token", refresh_token)}
        return self._api.data("POST", "/auth/refresh", json=body, require=("access_token",))

    @endpoint
    def logout(
        self, refresh_token: str | None = None, session_id: str | None = None
    ) -> Flow[JSONObject]:
        """End a session, named by exactly one of its refresh token or its id."""
        if (refresh_token is None) == (session_id is None):
            raise ValueError("logout needs exactly one of refresh_token or session_id")
        if refresh_token is not None:
            body = {"refresh_token": check.text("refresh_token", refresh_token)}
        else:
            body = {"session_id": check.text("session_id", session_id)}
        return self._api.data("DELETE", "/auth/logout", json=body)


class CustomerEndpoints(EndpointGroup[M]):
    """``/customers``: tenants, their IdP and their policies."""

    @listing
    def list(
        self,
        status: str | None = None,
        sort: str | None = None,
        order: str | None = None,
        limit: int = 50,
    ) -> Pages[Customer]:
        """Customers, optionally filtered by ``status`` and sorted; fetched page by page."""
        if order not in (None, "asc", "desc"):
            raise ValueError("order must be 'asc' or 'desc'")
        params = check.query(status=status, sort=sort, order=order, limit=check.page_size(limit))
        return self._api.pages("/customers", params)

    @endpoint
    def get(self, id: str) -> Flow[Customer]:
        """One customer; ``InvalidCustomerError`` when unknown."""
        return self._api.data("GET", f"/customers/{check.segment('id', id)}")

    @endpoint
    def create(
        self, /, id: str, name: str, domains: Sequence[str] | None = None, **extra: Any
    ) -> Flow[Customer]:
        """Create a customer; ``extra`` fields are sent as given."""
        body: JSONObject = {"id": check.text("id", id), "name": check.text("name", name), **extra}
        if domains is not None:
            body["domains"] = check.strings("domains", domains)
        return self._api.data("POST", "/customers", json=body)

    @endpoint
    def update(self, /, id: str, **fields: Any) -> Flow[Customer]:
        """Change some fields of a customer."""
        path = f"/customers/{check.segment('id', id)}"
        return self._api.data("PUT", path, json=dict(check.has_fields(fields)))

    @endpoint
    def configure_idp(self, /, id: str, type: str, **settings: Any) -> Flow[Customer]:
        """Set the customer's IdP (``okta``, ``azure_ad``, ``saml``...); secrets are write-only."""
        body = {"type": check.text("type", type), **settings}
        return self._api.data("POST", f"/customers/{check.segment('id', id)}/idp", json=body)

    @endpoint
    def policies(self, id: str) -> Flow[PolicyRecordList]:
        """The policies assigned to a customer."""
        return self._api.pages(f"/customers/{check.segment('id', id)}/policies", {}).collect()

    @endpoint
    def assign_policies(self, id: str, policy_ids: Sequence[str]) -> Flow[Any]:
        """Assign policies (by ``pol_...`` id) to a customer."""
        return _assign(self._api, id, policy_ids)


class PolicyEndpoints(EndpointGroup[M]):
    """``/policies``: access policies and their conditions."""

    @listing
    def list(self, limit: int = 100) -> Pages[PolicyRecord]:
        """Every policy, fetched page by page."""
        return self._api.pages("/policies", {"limit": check.page_size(limit)})

    @endpoint
    def get(self, id: str) -> Flow[PolicyRecord]:
        """One policy by ``pol_...`` id."""
        return self._api.data("GET", f"/policies/{check.segment('id', id)}")

    @endpoint
    def create(
        self, name: str, type: str, conditions: Mapping[str, Any], description: str = ""
    ) -> Flow[PolicyRecord]:
        """Create a policy; unknown conditions are refused with ``VALIDATION_ERROR``."""
        if not isinstance(conditions, Mapping):
            raise TypeError("conditions must be a mapping of condition name to value")
        body = {
            "name": check.text("name", name),
            "type": check.text("type", type),
            "conditions": dict(conditions),
            "description": description,
        }
        return self._api.data("POST", "/policies", json=body)

    @endpoint
    def update(self, /, id: str, **fields: Any) -> Flow[PolicyRecord]:
        """Change some fields of a policy."""
        path = f"/policies/{check.segment('id', id)}"
        return self._api.data("PUT", path, json=dict(check.has_fields(fields)))

    @endpoint
    def assign(self, customer_id: str, policy_ids: Sequence[str]) -> Flow[Any]:
        """Assign policies to a customer (same as ``customers.assign_policies``)."""
        return _assign(self._api, customer_id, policy_ids)

    @endpoint
    def find_by_name(self, name: str) -> Flow[PolicyRecord | None]:
        """The policy called ``name``, or ``None``; walks pages only as far as needed."""
        check.text("name", name)
        return _find(self._api.pages("/policies", {"limit": 100}), name)


class AnalyticsEndpoints(EndpointGroup[M]):
    """``/analytics``: dashboard metrics, events and users."""

    @endpoint
    def dashboard(self) -> Flow[JSONObject]:
        """Dashboard metrics."""
        return self._api.data("GET", "/analytics/dashboard")

    @listing
    def events(
        self,
        type: str | None = None,
        customer_id: str | None = None,
        since: str | int | datetime | None = None,
        until: str | int | datetime | None = None,
        limit: int = 100,
    ) -> Pages[JSONObject]:
        """Events, newest first, filtered by type, customer and time range."""
        params = check.query(
            type=type,
            customer_id=customer_id,
            since=since,
            until=until,
            limit=check.page_size(limit),
        )
        return self._api.pages("/analytics/events", params)

    @listing
    def users(self, limit: int = 100) -> Pages[JSONObject]:
        """Per-user analytics, fetched page by page."""
        return self._api.pages("/analytics/users", {"limit": check.page_size(limit)})


class AuditEndpoints(EndpointGroup[M]):
    """``/audit``: the audit trail of configuration changes."""

    @listing
    def logs(self, /, limit: int = 100, **filters: str | int) -> Pages[JSONObject]:
        """Audit log entries; ``filters`` are passed as query parameters."""
        params = check.query(limit=check.page_size(limit), **filters)
        return self._api.pages("/audit/logs", params)


class WebhookEndpoints(EndpointGroup[M]):
    """``/webhooks``: subscriptions to event deliveries."""

    @endpoint
    def create(self, url: str, events: Sequence[str], secret: str) -> Flow[WebhookSubscription]:
        """Subscribe ``url`` to ``events``; deliveries are signed with ``secret``."""
        names = check.strings("events", events)
        if not names:
            raise ValueError("events must name at least one event type")
        body = {
            "url": check.url("url", url),
            "events": names,
            "secret": check.text("secret", secret),
        }
        return self._api.data("POST", "/webhooks", json=body)

    @listing
    def list(self, limit: int = 100) -> Pages[WebhookSubscription]:
        """Every subscription, fetched page by page."""
        return self._api.pages("/webhooks", {"limit": check.page_size(limit)})

    @endpoint
    def delete(self, id: str) -> Flow[Any]:
        """Remove a subscription."""
        return self._api.data("DELETE", f"/webhooks/{check.segment('id', id)}")


def _assign(api: ApiFlows, customer_id: str, policy_ids: Sequence[str]) -> Flow[Any]:
    body = {"policy_ids": check.strings("policy_ids", policy_ids)}
    path = f"/customers/{check.segment('id', customer_id)}/policies"
    return api.data("POST", path, json=body)


def _find(pages: Pages[PolicyRecord], name: str) -> Flow[PolicyRecord | None]:
    number: int | None = 1
    while number is not None:
        page = yield from pages.page(number)
        for policy in page.items:
            if policy.get("name") == name:
                return policy
        number = page.next_number
    return None


class Endpoints(Generic[M]):
    """The API's endpoint groups, each bound as ``mode`` says: ``auth``, ``customers``..."""

    auth: AuthEndpoints[M]
    """Logins: authorize, token, refresh, logout."""
    customers: CustomerEndpoints[M]
    """Tenants, their IdP and their policies."""
    policies: PolicyEndpoints[M]
    """Access policies."""
    analytics: AnalyticsEndpoints[M]
    """Dashboard metrics, events and users."""
    audit: AuditEndpoints[M]
    """The audit trail."""
    webhooks: WebhookEndpoints[M]
    """Webhook subscriptions."""

    def _bind_endpoints(self, api: ApiFlows, mode: M) -> None:
        self.auth = AuthEndpoints(api, mode)
        self.customers = CustomerEndpoints(api, mode)
        self.policies = PolicyEndpoints(api, mode)
        self.analytics = AnalyticsEndpoints(api, mode)
        self.audit = AuditEndpoints(api, mode)
        self.webhooks = WebhookEndpoints(api, mode)
