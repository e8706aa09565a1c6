"""``/v1/analytics/*`` and ``/v1/audit/logs``, computed from what happened in the sandbox."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from ._api import Call, api_route
from ._clock import isoformat
from ._envelope import ApiError, ApiReply
from ._models import AuditEntry, MockUser, UsageEvent
from ._state import SandboxState
from ._validation import list_reply

__all__ = ["analytics_routes"]

_DAY = 24 * 3600


def _time_param(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError.invalid_request(
            f"Query parameter '{name}' must be ISO 8601 or Unix seconds", parameter=name
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _event_json(event: UsageEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "timestamp": isoformat(event.timestamp),
        "customer_id": event.customer_id,
        "user_id": event.user_id,
        "session_id": event.session_id,
        "details": dict(event.details),
    }


def _audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "timestamp": isoformat(entry.timestamp),
        "actor": entry.actor,
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "details": dict(entry.details),
    }


def _snapshot(state: SandboxState) -> list[UsageEvent]:
    with state.lock:
        return list(state.events)


async def _dashboard(call: Call) -> ApiReply:
    state = call.state
    recent = [e for e in _snapshot(state) if e.timestamp >= state.clock.now() - _DAY]
    counts = Counter(event.type for event in recent)
    logins = [event for event in recent if event.type == "authentication"]
    with state.lock:
        customers = list(state.customers.values())
        active_sessions = sum(not s.revoked for s in state.sessions.values())
        total_users = len(state.users)
    data = {
        "customers": {
            "total": len(customers),
            "active": sum(c.status == "active" for c in customers),
        },
        "users": {"total": total_users},
        "sessions": {"active": active_sessions},
        "last_24h": {
            "logins_started": counts["login_started"],
            "logins": counts["authentication"],
            "failed_logins": counts["authentication_failed"],
            "mfa_logins": sum(bool(e.details.get("mfa")) for e in logins),
            "refreshes": counts["token_refresh"],
            "logouts": counts["logout"],
            "sessions_revoked": counts["session_revoked"],
            "unique_users": len({event.user_id for event in logins}),
        },
        "logins_by_customer": dict(Counter(str(event.customer_id) for event in logins)),
    }
    return ApiReply(data)


async def _events(call: Call) -> ApiReply:
    since = _time_param(call.request, "since")
    until = _time_param(call.request, "until")
    events = [
        event
        for event in _snapshot(call.state)
        if (since is None or event.timestamp >= since)
        and (until is None or event.timestamp <= until)
    ]
    return list_reply(
        [_event_json(event) for event in reversed(events)],
        call.request,
        filters=("type", "customer_id", "user_id"),
        sort_fields=("timestamp",),
        default_sort="timestamp",
        default_order="desc",
    )


def _user_json(user: MockUser, logins: list[UsageEvent], active_sessions: int) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "customer_id": user.customer_id,
        "groups": list(user.groups),
        "mfa_enrolled": user.mfa_enrolled,
        "login_count": len(logins),
        "last_login_at": isoformat(logins[-1].timestamp) if logins else None,
        "active_sessions": active_sessions,
    }


async def _users(call: Call) -> ApiReply:
    events = _snapshot(call.state)
    with call.state.lock:
        users = list(call.state.users.values())
        sessions = list(call.state.sessions.values())
    items = [
        _user_json(
            user,
            [e for e in events if e.type == "authentication" and e.user_id == user.id],
            sum(not s.revoked and s.identity.user.id == user.id for s in sessions),
        )
        for user in users
    ]
    return list_reply(
        items,
        call.request,
        filters=("customer_id",),
        sort_fields=("email", "login_count", "last_login_at"),
        default_sort="email",
    )


async def _audit_logs(call: Call) -> ApiReply:
    with call.state.lock:
        entries = list(reversed(call.state.audit_log))
    return list_reply(
        [_audit_json(entry) for entry in entries],
        call.request,
        filters=("action", "resource_type", "resource_id", "actor"),
        sort_fields=("timestamp",),
        default_sort="timestamp",
        default_order="desc",
    )


def analytics_routes(state: SandboxState) -> list[Route]:
    """The analytics and audit endpoints (category ``analytics``, permission ``read``)."""
    table = [
        ("/analytics/dashboard", _dashboard),
        ("/analytics/events", _events),
        ("/analytics/users", _users),
        ("/audit/logs", _audit_logs),
    ]
    return [
        api_route(state, path, handler, methods=["GET"], category="analytics", permission="read")
        for path, handler in table
    ]
