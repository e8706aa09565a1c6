"""What ``python -m examples.<asgi app>`` shares: the configuration from the sandbox and
``AUTHONOMY_*`` variables, the sandbox's webhook subscription, and serving under uvicorn.

Without ``AUTHONOMY_API_KEY`` in the environment the Authonomy sandbox starts on
127.0.0.1 (port 8400 when free) and the app's webhook URL is registered with it; with it,
the ``AUTHONOMY_*`` variables configure a real tenant. Any ``AUTHONOMY_*`` variable
overrides the sandbox's value too.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import uvicorn

from authonomy_integrations import AuthonomyClient, AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.webhooks import EVENT_TYPES

from .shared import banner, demo_sandbox, log_config, stop_on_signals

__all__ = ["build_config", "register_webhook", "serve"]

#: What the sandbox sets; the app's URL and session secret are the demo's own.
_FROM_SANDBOX = ("environment", "api_key", "api_base_url", "issuer", "audience", "customer_id")


def _settings(app_url: str, sandbox: Sandbox | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "app_url": app_url,
        "session_secret": secrets.token_urlsafe(32),
    }
    if sandbox is not None:
        # The sandbox's own configuration, as ``Sandbox.config`` gives it to tests.
        config = sandbox.config(app_url=app_url)
        settings.update({name: getattr(config, name) for name in _FROM_SANDBOX})
        settings["webhook_secret"] = sandbox.webhook_secret
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


def register_webhook(sandbox: Sandbox, config: AuthonomyConfig) -> None:
    """Subscribe the app's webhook route to every event type of the sandbox."""
    url = f"{config.app_url}{config.webhook_path}"
    with AuthonomyClient(api_key=sandbox.api_key, base_url=sandbox.api_base_url) as client:
        client.webhooks.create(url=url, events=list(EVENT_TYPES), secret=config.webhook_secrets[0])


def serve(
    create_app: Callable[[AuthonomyConfig], Any],
    *,
    prog: str,
    description: str,
    default_port: int,
    argv: Sequence[str] | None = None,
) -> None:
    """Start the sandbox (unless a real tenant is configured) and serve the app that
    ``create_app`` builds under uvicorn on 127.0.0.1 (``--port``)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--port", type=int, default=default_port, help=f"port of the app ({default_port})"
    )
    args = parser.parse_args(argv)
    stop_on_signals()
    app_url = f"http://127.0.0.1:{args.port}"
    with contextlib.ExitStack() as stack:
        sandbox = None
        if "AUTHONOMY_API_KEY" not in os.environ:
            sandbox = stack.enter_context(demo_sandbox())
        config = build_config(os.environ, app_url, sandbox)
        if sandbox is not None and config.webhook_secrets:
            register_webhook(sandbox, config)
        print(banner(app_url, sandbox), flush=True)
        uvicorn.run(
            create_app(config),
            host="127.0.0.1",
            port=args.port,
            log_level="info",
            log_config=log_config(),
        )
