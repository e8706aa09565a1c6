"""A sandbox of the test's own, its ``AUTHONOMY_*`` variables set as the samples expect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from authonomy_integrations.sandbox import Sandbox

WEBHOOK_SECRET = "whsec_ZG9jcy1zYW1wbGUtd2ViaG9vay1zZWNyZXQtMDEyMw=="


@pytest.fixture
def app_url() -> str:
    """The app's origin the samples run under; a test overrides it by parametrizing."""
    return "http://localhost"


@pytest.fixture
def sandbox_env(monkeypatch: pytest.MonkeyPatch, app_url: str) -> Iterator[Sandbox]:
    """A running sandbox, with the variables ``AuthonomyConfig.from_env()`` reads."""
    with Sandbox() as sb:
        for name, value in {
            "API_KEY": sb.api_key,
            "ENVIRONMENT": "sandbox",
            "API_BASE_URL": sb.api_base_url,
            "ISSUER": sb.issuer,
            "AUDIENCE": sb.audience,
            "APP_URL": app_url,
            "SESSION_SECRET": "s" * 40,
            "CUSTOMER_ID": "acme-corp",
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
        }.items():
            monkeypatch.setenv(f"AUTHONOMY_{name}", value)
        monkeypatch.delenv("AUTHONOMY_REDIS_URL", raising=False)
        yield sb
