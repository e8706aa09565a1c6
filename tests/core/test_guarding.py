"""Guards as any adapter gets them from the core: a toy framework whose requests are
plain objects supplies only translation, and its views are refused or reached exactly as
the real adapters' are."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._core.guarding import Guarding
from authonomy_integrations._core.routes import RequestInfo, Requirement
from authonomy_integrations._core.user import AuthonomyUser
from authonomy_integrations._core.web import Reply
from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync

PAGE = {"accept": "text/html", "sec-fetch-mode": "navigate"}
API = {"accept": "application/json"}
ALICE = AuthonomyUser(id="alice", issuer="https://issuer.example", groups=frozenset({"staff"}))


def config(app_url: str = "https://app.example", **changes: Any) -> AuthonomyConfig:
    return AuthonomyConfig(
        api_key="ak", audience="app", app_url=app_url, session_secret="s" * 32, **changes
    )


@dataclass
class ToyRequest:
    """A toy framework's request: the kit's findings ride on it, as on Django's."""

    runtime: AuthonomySync | AuthonomyAsync | None
    user: AuthonomyUser | None = None
    headers: dict[str, str] = field(default_factory=lambda: dict(API))
    path: str = "/reports?year=2026"


def _runtime(request: ToyRequest) -> Any:
    if request.runtime is None:
        raise RuntimeError("the toy middleware is not installed")
    return request.runtime


def _user(request: ToyRequest) -> AuthonomyUser | None:
    _runtime(request)  # as in Django: the user is among the middleware's findings
    return request.user


def _info(request: ToyRequest) -> RequestInfo:
    return RequestInfo("GET", request.headers, request.path, {}, "127.0.0.1")


async def _arun(runtime: Any, flow: Any) -> Reply | None:
    if isinstance(runtime, AuthonomyAsync):
        reply: Reply | None = await runtime.run(flow)
        return reply
    return runtime.run(flow)  # type: ignore[no-any-return]


def toy_guards(*, blocking: bool = True) -> Guarding[ToyRequest, Any]:
    """Everything the toy framework writes to get guards: translation only."""
    return Guarding(
        user=_user,
        runtime=_runtime,
        client_ip=lambda request: "127.0.0.1",
        info=_info,
        arun=_arun,
        respond=lambda reply: ("refused", reply),
        run=AuthonomySync.run if blocking else None,
    )


def view(request: ToyRequest) -> str:
    return f"report for {request.user.id if request.user else '?'}"


async def async_view(request: ToyRequest) -> str:
    return view(request)


def call(guarded: Callable[..., Any], request: ToyRequest) -> Any:
    result = guarded(request)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


VIEWS = pytest.mark.parametrize("endpoint", [view, async_view], ids=["sync", "async"])


@VIEWS
def test_signed_out_api_call_gets_401_and_the_view_never_runs(endpoint: Any) -> None:
    guarded = toy_guards().login_required(endpoint)
    outcome = call(guarded, ToyRequest(AuthonomySync(config())))
    assert outcome[0] == "refused"
    assert outcome[1].status == 401


@VIEWS
def test_signed_out_browser_is_sent_to_this_apps_login_and_back(endpoint: Any) -> None:
    guards = toy_guards()
    one = AuthonomySync(config(login_path="/one/login"))
    two = AuthonomySync(config(login_path="/two/login"))
    for runtime, login in ((one, "/one/login"), (two, "/two/login")):
        outcome = call(guards.login_required(endpoint), ToyRequest(runtime, headers=PAGE))
        location = dict(outcome[1].headers)["location"]
        assert outcome[1].status == 302
        assert location.startswith(f"{login}?next=")
        assert "reports" in location


@VIEWS
def test_signed_in_user_reaches_the_view(endpoint: Any) -> None:
    guarded = toy_guards().login_required(endpoint)
    assert call(guarded, ToyRequest(AuthonomySync(config()), ALICE)) == "report for alice"


@VIEWS
def test_group_guard_admits_members_and_refuses_others_with_403(endpoint: Any) -> None:
    guards = toy_guards()
    runtime = AuthonomySync(config())
    staff_only = guards.require_groups("staff")(endpoint)
    admins_only = guards.require_groups("admins")(endpoint)
    assert call(staff_only, ToyRequest(runtime, ALICE)) == "report for alice"
    outcome = call(admins_only, ToyRequest(runtime, ALICE))
    assert outcome[1].status == 403
    assert b"POLICY_VIOLATED" in outcome[1].body


def test_async_runtime_decides_for_async_views() -> None:
    guards = toy_guards(blocking=False)
    runtime = AuthonomyAsync(config())
    refused = call(guards.require_groups("admins")(async_view), ToyRequest(runtime, ALICE))
    assert refused[1].status == 403
    signed_out = call(guards.login_required(async_view), ToyRequest(runtime))
    assert signed_out[1].status == 401


@pytest.mark.parametrize("user", [None, ALICE], ids=["signed-out", "signed-in"])
def test_without_the_middleware_a_guard_fails_closed(user: AuthonomyUser | None) -> None:
    ran: list[str] = []

    def spy(request: ToyRequest) -> str:
        ran.append("view")
        return "reached"

    guards = toy_guards()
    for guarded in (guards.login_required(spy), guards.require_groups("staff")(spy)):
        with pytest.raises(RuntimeError, match="not installed"):
            call(guarded, ToyRequest(None, user))
    assert ran == []


def test_an_async_only_adapter_cannot_check_in_blocking_code() -> None:
    guards = toy_guards(blocking=False)
    request = ToyRequest(AuthonomyAsync(config()))
    with pytest.raises(TypeError, match="async code only"):
        guards.check(request, Requirement.signed_in())


def test_a_group_guard_needs_a_group() -> None:
    with pytest.raises(ConfigurationError):
        toy_guards().require_groups()
