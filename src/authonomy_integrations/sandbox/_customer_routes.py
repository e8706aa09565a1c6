"""``/v1/customers``: tenants, their IdP connection and their assigned policies."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import Route

from ._api import Call, api_route
from ._clock import isoformat
from ._envelope import ApiError, ApiReply
from ._models import MockUser, StoredCustomer
from ._policy_routes import policy_json
from ._state import SandboxState
from ._validation import (
    json_object,
    list_reply,
    optional_str,
    optional_str_list,
    reject_unknown_fields,
    required_str,
)

__all__ = ["customer_json", "customer_routes"]

_CUSTOMER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_DOMAIN = re.compile(r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_STATUSES = ("active", "suspended")
_IDP_TYPES = ("okta", "azure_ad", "google_workspace", "generic_oidc", "saml")
_IDP_FIELDS = ("type", "domain", "client_id", "client_secret", "scopes", "metadata_url", "issuer")


def customer_json(customer: StoredCustomer) -> dict[str, Any]:
    """A customer as the API shows it (never the IdP client secret)."""
    return {
        "id": customer.id,
        "name": customer.name,
        "status": customer.status,
        "domains": list(customer.domains),
        "idp": dict(customer.idp) if customer.idp else None,
        "policy_ids": list(customer.policy_ids),
        "created_at": isoformat(customer.created_at),
    }


def _customer(call: Call) -> StoredCustomer:
    customer_id = call.request.path_params["customer_id"]
    customer = call.state.customers.get(customer_id)
    if customer is None:
        raise ApiError.invalid_customer(customer_id)
    return customer


def _domains(body: dict[str, Any]) -> list[str] | None:
    domains = optional_str_list(body, "domains")
    for domain in domains or []:
        if not _DOMAIN.fullmatch(domain.lower()):
            raise ApiError.validation(f"'{domain}' is not a domain name", field="domains")
    return [domain.lower() for domain in domains] if domains is not None else None


def _status(body: dict[str, Any]) -> str | None:
    status = optional_str(body, "status")
    if status is not None and status not in _STATUSES:
        raise ApiError.validation("status must be active or suspended", field="status")
    return status


def _new_customer_id(body: dict[str, Any], name: str) -> str:
    customer_id = optional_str(body, "id") or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not _CUSTOMER_ID.fullmatch(customer_id):
        raise ApiError.validation(
            "id must be lowercase letters, digits and hyphens (at most 63)", field="id"
        )
    return customer_id


def _mock_user_for(customer: StoredCustomer) -> MockUser:
    domain = customer.domains[0] if customer.domains else f"{customer.id}.example"
    return MockUser(
        id=f"user_{customer.id.replace('-', '_')}",
        username=f"{customer.id}-user",
        customer_id=customer.id,
        email=f"user@{domain}",
        name=f"{customer.name} User",
        groups=("users",),
        mfa_enrolled=False,
    )


async def _list(call: Call) -> ApiReply:
    with call.state.lock:
        items = [customer_json(customer) for customer in call.state.customers.values()]
    return list_reply(
        items, call.request, filters=("status",), sort_fields=("id", "name", "status", "created_at")
    )


async def _create(call: Call) -> ApiReply:
    body = await json_object(call.request)
    reject_unknown_fields(body, ("id", "name", "domains", "status"))
    name = required_str(body, "name")
    customer_id = _new_customer_id(body, name)
    domains, status = _domains(body) or [], _status(body) or "active"
    with call.state.lock:
        if customer_id in call.state.customers:
            raise ApiError.validation(f"Customer '{customer_id}' already exists", field="id")
        customer = StoredCustomer(customer_id, name, status, domains, call.state.clock.now())
        call.state.customers[customer_id] = customer
        user = _mock_user_for(customer)
        call.state.users.setdefault(user.username, user)
    call.state.audit(call.key, "customer.created", "customer", customer_id)
    call.state.emit("customer.created", {"customer": customer_json(customer)})
    return ApiReply(customer_json(customer), status=201)


async def _get(call: Call) -> ApiReply:
    return ApiReply(customer_json(_customer(call)))


async def _update(call: Call) -> ApiReply:
    body = await json_object(call.request)
    reject_unknown_fields(body, ("name", "domains", "status"))
    name, domains, status = optional_str(body, "name"), _domains(body), _status(body)
    if name == "":
        raise ApiError.validation("name must not be empty", field="name")
    with call.state.lock:
        customer = _customer(call)
        customer.name = name or customer.name
        customer.domains = customer.domains if domains is None else domains
        customer.status = status or customer.status
    call.state.audit(call.key, "customer.updated", "customer", customer.id, fields=sorted(body))
    call.state.emit("customer.updated", {"customer": customer_json(customer)})
    return ApiReply(customer_json(customer))


def _idp_config(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    reject_unknown_fields(body, _IDP_FIELDS)
    idp_type = required_str(body, "type")
    if idp_type not in _IDP_TYPES:
        raise ApiError.validation(
            f"Unknown IdP type '{idp_type}'", field="type", allowed=list(_IDP_TYPES)
        )
    public: dict[str, Any] = {"type": idp_type}
    for name in ("domain", "client_id", "metadata_url", "issuer"):
        value = optional_str(body, name)
        if value is not None:
            public[name] = value
    public["scopes"] = optional_str_list(body, "scopes") or ["openid", "profile", "email"]
    secret = optional_str(body, "client_secret")
    public["client_secret_set"] = bool(secret)
    return public, secret


async def _configure_idp(call: Call) -> ApiReply:
    public, secret = _idp_config(await json_object(call.request))
    with call.state.lock:
        customer = _customer(call)
        customer.idp, customer.idp_client_secret = public, secret
    call.state.audit(call.key, "idp.configured", "customer", customer.id, type=public["type"])
    call.state.emit("idp.configured", {"customer_id": customer.id, "idp": dict(public)})
    return ApiReply(customer_json(customer))


def _assigned(call: Call, customer: StoredCustomer) -> list[dict[str, Any]]:
    return [policy_json(call.state.policies[pid]) for pid in customer.policy_ids]


async def _list_policies(call: Call) -> ApiReply:
    with call.state.lock:
        items = _assigned(call, _customer(call))
    return list_reply(items, call.request, filters=("type",), sort_fields=("name", "created_at"))


async def _assign_policies(call: Call) -> ApiReply:
    body = await json_object(call.request)
    policy_ids = optional_str_list(body, "policy_ids")
    if policy_ids is None:
        raise ApiError.invalid_request("Missing required field 'policy_ids'", field="policy_ids")
    with call.state.lock:
        customer = _customer(call)
        for policy_id in policy_ids:
            if policy_id not in call.state.policies:
                raise ApiError.not_found(f"Policy '{policy_id}' not found", policy_id=policy_id)
        customer.policy_ids.extend(pid for pid in policy_ids if pid not in customer.policy_ids)
        items = _assigned(call, customer)
    call.state.audit(call.key, "policies.assigned", "customer", customer.id, policy_ids=policy_ids)
    return ApiReply(items)


def customer_routes(state: SandboxState) -> list[Route]:
    """The customer endpoints (category ``management``)."""
    table = [
        ("/customers", _list, "GET", "read"),
        ("/customers", _create, "POST", "configuration"),
        ("/customers/{customer_id}", _get, "GET", "read"),
        ("/customers/{customer_id}", _update, "PUT", "configuration"),
        ("/customers/{customer_id}/idp", _configure_idp, "POST", "configuration"),
        ("/customers/{customer_id}/policies", _list_policies, "GET", "read"),
        ("/customers/{customer_id}/policies", _assign_policies, "POST", "configuration"),
    ]
    return [
        api_route(state, path, handler, methods=[method], category="management", permission=perm)
        for path, handler, method, perm in table
    ]
