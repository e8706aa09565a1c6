"""One request through the kit as the core's flow: the kit's own routes and refusals are
answered without the app; every other request reaches the app once, with its caller."""

from __future__ import annotations

from typing import Any

import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._core.routes import Answer, RequestInfo, Routes
from authonomy_integrations._core.serving import CallApp, Passed, Serving
from authonomy_integrations._runtime import AuthonomySync

API = {"accept": "application/json"}


def config(**changes: Any) -> AuthonomyConfig:
    return AuthonomyConfig(
        api_key="ak",
        audience="app",
        app_url="https://app.example",
        session_secret="s" * 32,
        **changes,
    )


class App:
    """The framework's side: the app records whom it was called for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, effect: CallApp) -> str:
        self.calls.append((effect.request, effect.user))
        return f"app response to {effect.request}"


def serve(
    path: str, authorization: str | None = None, method: str = "GET", **changes: Any
) -> tuple[Answer | Passed, App]:
    runtime = AuthonomySync(config(**changes))
    app = App()
    runner = runtime.runner.with_handlers({CallApp: app})

    def info(routes: Routes | None) -> RequestInfo:
        return RequestInfo(method, API, path, {}, "127.0.0.1")

    flow = Serving(runtime.routes, runtime.callers).serve("req", path, (authorization, None), info)
    outcome: Answer | Passed = runner.run(flow)
    return outcome, app


def test_a_caller_without_credentials_reaches_the_app_as_nobody() -> None:
    outcome, app = serve("/reports")
    assert outcome == Passed("app response to req", None)
    assert app.calls == [("req", None)]


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer a.b.c"])
def test_an_invalid_bearer_token_is_refused_before_the_app(header: str) -> None:
    outcome, app = serve("/reports", header)
    assert isinstance(outcome, Answer)
    assert outcome.reply.status == 401
    assert app.calls == []


def test_the_kits_routes_are_answered_without_the_app() -> None:
    outcome, app = serve("/auth/logout", method="GET")
    assert isinstance(outcome, Answer)
    assert outcome.reply.status == 405
    assert app.calls == []


def test_a_webhook_delivery_is_not_refused_for_a_stray_authorization_header() -> None:
    outcome, app = serve("/webhooks/authonomy", "Bearer not-a-token")
    assert isinstance(outcome, Passed)
    assert app.calls == [("req", None)]


def test_an_api_only_app_has_no_kit_routes() -> None:
    outcome, app = serve("/auth/logout", login_path=None)
    assert isinstance(outcome, Passed)
    assert app.calls == [("req", None)]
