"""``/v1/policies``: named condition sets, validated against the known conditions."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from starlette.routing import Route

from ._api import Call, api_route
from ._clock import isoformat
from ._envelope import ApiError, ApiReply
from ._models import StoredPolicy
from ._state import SandboxState
from ._validation import json_object, list_reply, optional_str, reject_unknown_fields, required_str

__all__ = ["policy_json", "policy_routes"]

_TYPES = ("authentication", "authorization")
_FIELDS = ("name", "description", "type", "conditions")


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_cidr_list(value: Any) -> bool:
    if not _is_str_list(value):
        return False
    try:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return True


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


#: Every condition the evaluator knows, with a check of its value.
_CONDITIONS: dict[str, Callable[[Any], bool]] = {
    "mfa_required": lambda value: isinstance(value, bool),
    "max_session_duration": _is_positive_int,
    "allowed_groups": _is_str_list,
    "required_scopes": _is_str_list,
    "allowed_customers": _is_str_list,
    "ip_allowlist": _is_cidr_list,
}


def policy_json(policy: StoredPolicy) -> dict[str, Any]:
    """A policy as the API shows it."""
    return {
        "id": policy.id,
        "name": policy.name,
        "description": policy.description,
        "type": policy.type,
        "conditions": dict(policy.conditions),
        "created_at": isoformat(policy.created_at),
        "updated_at": isoformat(policy.updated_at),
    }


def _conditions(body: dict[str, Any]) -> dict[str, Any]:
    conditions = body.get("conditions")
    if not isinstance(conditions, dict):
        raise ApiError.invalid_request("Field 'conditions' must be an object", field="conditions")
    for name, value in conditions.items():
        check = _CONDITIONS.get(name)
        if check is None:
            raise ApiError.validation(
                f"Unknown policy condition '{name}'", condition=name, allowed=sorted(_CONDITIONS)
            )
        if not check(value):
            raise ApiError.validation(f"Invalid value for condition '{name}'", condition=name)
    return dict(conditions)


def _type(body: dict[str, Any]) -> str | None:
    policy_type = optional_str(body, "type")
    if policy_type is not None and policy_type not in _TYPES:
        raise ApiError.validation("type must be authentication or authorization", field="type")
    return policy_type


def _check_name_free(state: SandboxState, name: str, own_id: str | None = None) -> None:
    for policy in state.policies.values():
        if policy.name == name and policy.id != own_id:
            raise ApiError.validation(f"A policy named '{name}' already exists", field="name")


def _policy(call: Call) -> StoredPolicy:
    policy_id = call.request.path_params["policy_id"]
    policy = call.state.policies.get(policy_id)
    if policy is None:
        raise ApiError.not_found(f"Policy '{policy_id}' not found", policy_id=policy_id)
    return policy


async def _list(call: Call) -> ApiReply:
    with call.state.lock:
        items = [policy_json(policy) for policy in call.state.policies.values()]
    return list_reply(
        items, call.request, filters=("type", "name"), sort_fields=("name", "created_at")
    )


async def _create(call: Call) -> ApiReply:
    body = await json_object(call.request)
    reject_unknown_fields(body, _FIELDS)
    name, conditions = required_str(body, "name"), _conditions(body)
    description, policy_type = optional_str(body, "description") or "", _type(body)
    now = call.state.clock.now()
    with call.state.lock:
        _check_name_free(call.state, name)
        policy = StoredPolicy(
            call.state.new_id("pol"), name, description, policy_type or "authentication",
            conditions, now, now,
        )  # fmt: skip
        call.state.policies[policy.id] = policy
    call.state.audit(call.key, "policy.created", "policy", policy.id, name=name)
    call.state.emit("policy.created", {"policy": policy_json(policy)})
    return ApiReply(policy_json(policy), status=201)


async def _get(call: Call) -> ApiReply:
    return ApiReply(policy_json(_policy(call)))


async def _update(call: Call) -> ApiReply:
    body = await json_object(call.request)
    reject_unknown_fields(body, _FIELDS)
    name, description = optional_str(body, "name"), optional_str(body, "description")
    conditions = _conditions(body) if "conditions" in body else None
    policy_type = _type(body)
    if name == "":
        raise ApiError.validation("name must not be empty", field="name")
    with call.state.lock:
        policy = _policy(call)
        if name is not None:
            _check_name_free(call.state, name, own_id=policy.id)
        policy.name = name or policy.name
        policy.description = policy.description if description is None else description
        policy.type = policy_type or policy.type
        policy.conditions = policy.conditions if conditions is None else conditions
        policy.updated_at = call.state.clock.now()
    call.state.audit(call.key, "policy.updated", "policy", policy.id, fields=sorted(body))
    call.state.emit("policy.updated", {"policy": policy_json(policy)})
    return ApiReply(policy_json(policy))


def policy_routes(state: SandboxState) -> list[Route]:
    """The policy endpoints (category ``management``)."""
    table = [
        ("/policies", _list, "GET", "read"),
        ("/policies", _create, "POST", "configuration"),
        ("/policies/{policy_id}", _get, "GET", "read"),
        ("/policies/{policy_id}", _update, "PUT", "configuration"),
    ]
    return [
        api_route(state, path, handler, methods=[method], category="management", permission=perm)
        for path, handler, method, perm in table
    ]
