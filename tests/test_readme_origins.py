"""The README's "Several origins and tenant subdomains" snippet runs as written."""

from __future__ import annotations

from typing import Any

import pytest

from authonomy_integrations.sandbox import Sandbox

from .test_readme import environment, snippet

__all__ = ["environment"]  # the fixture, shared with the README's other snippets

TENANTS = "https://myapp.example,https://{customer}.myapp.example"


@pytest.mark.parametrize("app_url", [TENANTS])
def test_tenant_snippet_signs_in_on_a_customers_host(environment: Sandbox) -> None:
    namespace: dict[str, Any] = {}
    exec(snippet("Several origins and tenant subdomains"), namespace)
    login = environment.state.login_requests
    assert [r.return_url for r in login.values()][-1] == (
        "https://acme-corp.myapp.example/auth/callback"
    )
