"""A session store out of reach is answered like Authonomy out of reach: 503, no traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from starlette.testclient import TestClient

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import RedisSessionStore
from examples.fastapi_app import create_app as create_fastapi_app
from examples.flask_app.app import create_app as create_flask_app
from tests.browsing import API
from tests.conftest import free_port


@pytest.fixture(scope="module")
def config() -> Iterator[AuthonomyConfig]:
    unreachable = RedisSessionStore(f"redis://127.0.0.1:{free_port()}/0")
    with Sandbox() as sb:
        yield sb.config(app_url="http://localhost", session_store=unreachable)


def test_starlette_answers_503_when_the_session_store_is_down(config: AuthonomyConfig) -> None:
    with TestClient(create_fastapi_app(config)) as client:
        client.cookies.set("authonomy_session", "A" * 43)
        response = client.get("/api/me", headers=API)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["error"]["code"] == "TEMPORARILY_UNAVAILABLE"


def test_flask_answers_503_when_the_session_store_is_down(config: AuthonomyConfig) -> None:
    app: Flask = create_flask_app(config.replace(app_url="http://localhost"))
    client = app.test_client()
    client.set_cookie("authonomy_session", "A" * 43)
    response = client.get("/api/me", headers=API)
    app.extensions["authonomy"].close()
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "TEMPORARILY_UNAVAILABLE"
