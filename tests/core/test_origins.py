"""``app_url``'s forms, and which ``Host`` names which origin (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest

from authonomy_integrations import AuthonomyConfig, ConfigurationError
from authonomy_integrations._core.engine import Engine
from authonomy_integrations._core.origins import Origin, Origins
from authonomy_integrations._core.routes import RequestInfo, Routes

TENANTS = ["https://myapp.example", "https://{customer}.myapp.example"]


def config(app_url: Any, **settings: Any) -> AuthonomyConfig:
    return AuthonomyConfig(audience="app_123", app_url=app_url, **settings)


@pytest.mark.parametrize(
    ("app_url", "origins"),
    [
        ("https://myapp.example", ("https://myapp.example",)),
        ("https://myapp.example/", ("https://myapp.example",)),
        (TENANTS, tuple(TENANTS)),
        (
            " https://app.example , https://admin.example ",
            ("https://app.example", "https://admin.example"),
        ),
        (("https://{customer}.myapp.example:8443",), ("https://{customer}.myapp.example:8443",)),
        ("http://{customer}.localhost:8000", ("http://{customer}.localhost:8000",)),
    ],
)
def test_app_url_takes_one_origin_or_several(app_url: Any, origins: tuple[str, ...]) -> None:
    assert config(app_url).origins == origins


def test_app_url_from_the_environment_is_split_at_commas() -> None:
    env = {"AUTHONOMY_AUDIENCE": "app_123", "AUTHONOMY_APP_URL": ",".join(TENANTS)}
    made = AuthonomyConfig.from_env(env)
    assert made.origins == tuple(TENANTS)
    assert made.secure_cookies


@pytest.mark.parametrize(
    ("app_url", "message"),
    [
        ("https://{customer}.com", "leftmost label"),
        ("https://x.{customer}.myapp.example", "leftmost label"),
        ("https://{customer}-eu.myapp.example", "leftmost label"),
        (["https://{customer}.a.example", "https://{customer}.b.example"], "only one origin"),
        ("https://myapp.example,http://localhost:8000", "same scheme"),
        ("https://myapp.example,https://myapp.example/", "same origin twice"),
        ("https://myapp.example/app,https://admin.example", "without a path"),
        ("https://myapp.example,", "non-empty string"),
        (["https://myapp.example", 3], "non-empty string"),
        ("http://{customer}.myapp.example", "https outside localhost"),
        ([], "at least one origin"),
    ],
)
def test_a_bad_app_url_names_the_field_and_what_is_wrong(app_url: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        config(app_url)
    assert caught.value.field == "app_url"
    assert "AUTHONOMY_APP_URL" in str(caught.value)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("myapp.example", Origin("https://myapp.example", "myapp.example")),
        ("MyApp.Example:443", Origin("https://myapp.example", "myapp.example")),
        (
            "acme-corp.myapp.example",
            Origin("https://acme-corp.myapp.example", "acme-corp.myapp.example", "acme-corp"),
        ),
        (
            "ACME-corp.myapp.example:443",
            Origin("https://acme-corp.myapp.example", "acme-corp.myapp.example", "acme-corp"),
        ),
        ("myapp.example:8443", None),
        ("acme-corp.myapp.example:8443", None),
        ("a.b.myapp.example", None),
        ("-acme.myapp.example", None),
        ("acme_corp.myapp.example", None),
        ("acme-corp.myapp.example.evil.example", None),
        ("evilmyapp.example", None),
        (".myapp.example", None),
        ("myapp.example.", None),
        ("", None),
        (None, None),
    ],
)
def test_only_the_allowlist_matches_a_host_port_included(
    host: str | None, expected: Origin | None
) -> None:
    assert Origins(config(TENANTS).origins).match(host) == expected


def test_a_port_is_part_of_the_origin() -> None:
    origins = Origins(config("http://127.0.0.1:8000,http://{customer}.localhost:8000").origins)
    assert origins.match("127.0.0.1:8000") is not None
    assert origins.match("127.0.0.1") is None
    assert origins.match("acme.localhost:8000") == Origin(
        "http://acme.localhost:8000", "acme.localhost:8000", "acme"
    )
    assert origins.match("acme.localhost:8001") is None


def test_one_origin_is_used_whatever_the_host_as_before() -> None:
    origins = Origins(config("https://myapp.example").origins)
    assert not origins.several and not origins.tenants
    assert origins.in_use("evil.example") == Origin("https://myapp.example", "myapp.example")
    several = Origins(config("https://app.example,https://admin.example").origins)
    assert several.several and not several.tenants
    assert several.in_use("evil.example") is None


def _login(host: str, **query: str) -> RequestInfo:
    headers = {"host": host, "accept": "application/json"}
    return RequestInfo(method="GET", headers=headers, target="/auth/login", query=query)


def _first_answer(routes: Routes, info: RequestInfo) -> Any:
    flow = routes.login(info)
    try:
        effect = next(flow)
    except StopIteration as done:
        return done.value
    return effect


def test_login_on_a_tenant_host_asks_for_that_customer_at_its_own_callback() -> None:
    made = config(TENANTS, api_key="ak_test", session_secret="s" * 40, customer_id="globex")
    routes = Routes(Engine(made))
    effect = _first_answer(routes, _login("acme-corp.myapp.example"))
    body = effect.json  # the authorize call: nothing answered yet
    assert body["customer_id"] == "acme-corp"  # the host wins over the default customer
    assert body["return_url"] == "https://acme-corp.myapp.example/auth/callback"
    refused = _first_answer(routes, _login("acme-corp.myapp.example", customer="globex"))
    assert refused.reply.status == 400
    unknown = _first_answer(routes, _login("evil.example"))
    assert unknown.reply.status == 400 and b"evil" not in unknown.reply.body


def test_a_resolver_naming_another_customer_than_the_host_is_not_followed() -> None:
    made = config(
        TENANTS,
        api_key="ak_test",
        session_secret="s" * 40,
        customer_resolver=lambda request: "globex",
    )
    answer = _first_answer(Routes(Engine(made)), _login("acme-corp.myapp.example"))
    assert answer.reply.status == 400
