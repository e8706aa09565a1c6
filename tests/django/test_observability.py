"""The Django adapter reports the same events as the others: through the test Client, a
sign-in and bearer tokens reach the log, the hook and OpenTelemetry, with no secret."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import MemorySessionStore
from authonomy_integrations.testing import login_as
from tests.browsing import bearer, mint
from tests.observability.conftest import Captured, capturing

from .helpers import app_config, django_client


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    with capturing(caplog) as capture:
        yield capture


def test_django_sign_in_and_tokens_are_reported(sandbox: Sandbox, captured: Captured) -> None:
    store = MemorySessionStore()
    config = app_config(sandbox, on_event=captured.hook, session_store=store)
    client = django_client(config)
    login_as(client, "alice")
    cookie = client.cookies["authonomy_session"].value
    record = store.load(cookie)
    assert record is not None
    good, expired = mint(sandbox), mint(sandbox, exp=int(sandbox.state.clock.now()) - 600)
    assert client.get("/api/me", headers=bearer(good)).status_code == 200
    assert client.get("/api/me", headers=bearer(good)).status_code == 200
    assert client.get("/api/me", headers=bearer(expired)).status_code == 401
    completed = captured.expect("login.completed")
    assert completed.user_id == "user_alice"
    captured.expect("session.created")
    assert captured.finished("authonomy.login") and captured.finished("authonomy.callback")
    assert len(captured.events("token.accepted")) == 1  # the repeat is counted, not heard
    assert captured.counted("token.accepted", "cached") == 1
    captured.expect("token.refused", "expired")
    tokens = record.tokens
    captured.assert_free_of(
        config.api_key,
        *config.session_secrets,
        cookie,
        record.id,
        tokens.access_token,
        tokens.refresh_token,
        tokens.id_token,
        good,
        expired,
    )
