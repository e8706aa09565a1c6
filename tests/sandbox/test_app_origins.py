"""The sandbox knows the app's origins (``--app-url``, repeated or with ``{customer}``):
logins return only there, and webhooks are subscribed once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._core.origins import Origins
from authonomy_integrations.sandbox import FULL_API_KEY, Sandbox

from .test_cli import sandbox_cli

ORIGINS = ("https://myapp.example", "https://{customer}.myapp.example")


def _authorize(api_base_url: str, return_url: str, customer_id: str = "acme-corp") -> Any:
    body = {
        "customer_id": customer_id,
        "return_url": return_url,
        "code_challenge": "c" * 43,
        "nonce": "n",
    }
    headers = {"authorization": f"Bearer {FULL_API_KEY}"}
    return httpx.post(f"{api_base_url}/auth/authorize", json=body, headers=headers)


@pytest.mark.parametrize(
    ("return_url", "customer_id", "status"),
    [
        ("https://myapp.example/auth/callback", "globex", 200),
        ("https://acme-corp.myapp.example/auth/callback", "acme-corp", 200),
        ("https://acme-corp.myapp.example:443/auth/callback", "acme-corp", 200),
        ("https://globex.myapp.example/auth/callback", "acme-corp", 422),
        ("https://evil.example/auth/callback", "acme-corp", 422),
        ("https://a.b.myapp.example/auth/callback", "acme-corp", 422),
        ("https://myapp.example:8443/auth/callback", "acme-corp", 422),
        ("http://myapp.example/auth/callback", "acme-corp", 422),
    ],
)
def test_logins_return_only_to_the_apps_origins(
    return_url: str, customer_id: str, status: int
) -> None:
    with Sandbox() as sb:
        sb.state.app_origins = Origins(ORIGINS)
        answer = _authorize(sb.api_base_url, return_url, customer_id)
    assert answer.status_code == status, answer.text
    if status == 422:
        assert answer.json()["error"]["details"]["field"] == "return_url"


def test_cli_takes_several_app_urls_prints_them_and_subscribes_once() -> None:
    args = ("--app-url", ORIGINS[0], "--app-url", ORIGINS[1])
    with sandbox_cli(*args) as (lines, exports):
        api = exports["AUTHONOMY_API_BASE_URL"]
        hooks = httpx.get(f"{api}/webhooks", headers={"authorization": f"Bearer {FULL_API_KEY}"})
        refused = _authorize(api, "https://globex.myapp.example/auth/callback")
        allowed = _authorize(api, "https://acme-corp.myapp.example/auth/callback")
    assert exports["AUTHONOMY_APP_URL"] == ",".join(ORIGINS)
    assert AuthonomyConfig.from_env(exports).origins == ORIGINS
    assert "Webhooks:         https://myapp.example/webhooks/authonomy" in "\n".join(lines)
    assert [hook["url"] for hook in hooks.json()["data"]] == [
        "https://myapp.example/webhooks/authonomy"
    ]
    assert refused.status_code == 422 and allowed.status_code == 200


def test_cli_with_only_a_tenant_origin_subscribes_the_printed_customers_host() -> None:
    with sandbox_cli("--app-url", "http://{customer}.localhost:8000") as (lines, exports):
        pass
    assert exports["AUTHONOMY_APP_URL"] == "http://{customer}.localhost:8000"
    assert "Webhooks:         http://acme-corp.localhost:8000/webhooks/authonomy" in "\n".join(
        lines
    )
