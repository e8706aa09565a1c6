"""``python -m examples.fastapi_app``: the demo's configuration, from the sandbox or from
the environment alone (the demo itself runs in ``tests/live/test_demos.py``)."""

from __future__ import annotations

from pathlib import Path

from authonomy_integrations.sandbox import Sandbox
from examples.fastapi_app.__main__ import build_config

ROOT = Path(__file__).resolve().parents[2]


def test_environment_overrides_the_sandbox_settings(sb: Sandbox) -> None:
    environ = {"AUTHONOMY_CUSTOMER_ID": "globex", "AUTHONOMY_SESSION_SECRET": "x" * 40}
    config = build_config(environ, "http://127.0.0.1:8000", sb)
    assert config.customer_id == "globex"
    assert config.session_secrets == ("x" * 40,)
    assert config.api_base_url == sb.api_base_url
    assert config.webhook_secrets[0].startswith("whsec_")


def test_real_tenant_comes_from_the_environment_alone() -> None:
    environ = {
        "AUTHONOMY_API_KEY": "ak_live_example",
        "AUTHONOMY_AUDIENCE": "app_live",
        "AUTHONOMY_CUSTOMER_ID": "acme-corp",
    }
    config = build_config(environ, "http://127.0.0.1:8000", None)
    assert config.api_key == "ak_live_example"
    assert config.resolved_issuer == "https://auth.authonomy.io"
    assert config.app_url == "http://127.0.0.1:8000"
    assert config.webhook_secrets == ()
