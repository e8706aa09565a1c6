"""``python -m examples.litestar_app``: the example app against an embedded sandbox.

Starts the Authonomy sandbox on 127.0.0.1 (port 8400 when free), registers the app's
webhook URL with it, and serves the app with uvicorn on 127.0.0.1:8000 (``--port``).
With ``AUTHONOMY_API_KEY`` set no sandbox is started: the ``AUTHONOMY_*`` variables
configure a real tenant. Any ``AUTHONOMY_*`` variable overrides the sandbox's value too.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import uvicorn

from authonomy_integrations import AuthonomyClient, AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.webhooks import EVENT_TYPES

from ..shared import banner, demo_sandbox, log_config, stop_on_signals
from .app import create_app


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.litestar_app", description="Run the Litestar example app."
    )
    parser.add_argument("--port", type=int, default=8000, help="port of the app on 127.0.0.1")
    return parser.parse_args(argv)


def _settings(app_url: str, sandbox: Sandbox | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "app_url": app_url,
        "session_secret": secrets.token_urlsafe(32),
    }
    if sandbox is not None:
        key = base64.b64encode(secrets.token_bytes(24)).decode()
        settings.update(
            environment="sandbox",
            api_key=sandbox.api_key,
            api_base_url=sandbox.api_base_url,
            issuer=sandbox.issuer,
            audience=sandbox.audience,
            customer_id="acme-corp",
            webhook_secret=f"whsec_{key}",
        )
    return settings


def build_config(
    environ: Mapping[str, str], app_url: str, sandbox: Sandbox | None
) -> AuthonomyConfig:
    """The app's configuration: ``AUTHONOMY_*`` variables win over the defaults."""
    defaults = _settings(app_url, sandbox)
    kept = {
        name: value
        for name, value in defaults.items()
        if f"AUTHONOMY_{name.upper()}" not in environ
    }
    return AuthonomyConfig.from_mapping(environ, **kept)


def _register_webhook(sandbox: Sandbox, config: AuthonomyConfig) -> None:
    url = f"{config.app_url}{config.webhook_path}"
    with AuthonomyClient(api_key=sandbox.api_key, base_url=sandbox.api_base_url) as client:
        client.webhooks.create(url=url, events=list(EVENT_TYPES), secret=config.webhook_secrets[0])


def main(argv: Sequence[str] | None = None) -> None:
    """Start the sandbox (unless a real tenant is configured) and serve the app."""
    args = _arguments(argv)
    stop_on_signals()
    app_url = f"http://127.0.0.1:{args.port}"
    with contextlib.ExitStack() as stack:
        sandbox = None
        if "AUTHONOMY_API_KEY" not in os.environ:
            sandbox = stack.enter_context(demo_sandbox())
        config = build_config(os.environ, app_url, sandbox)
        if sandbox is not None and config.webhook_secrets:
            _register_webhook(sandbox, config)
        print(banner(app_url, sandbox), flush=True)
        uvicorn.run(
            create_app(config),
            host="127.0.0.1",
            port=args.port,
            log_level="info",
            log_config=log_config(),
        )


if __name__ == "__main__":
    main()
