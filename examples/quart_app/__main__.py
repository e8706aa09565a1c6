"""``python -m examples.quart_app``: the example app under uvicorn, with an embedded sandbox.

Without ``AUTHONOMY_API_KEY`` in the environment, an embedded Authonomy sandbox starts
(port 8400 when free) and the app's webhook URL is registered with it; the app listens on
127.0.0.1:5050 (``--port``). With ``AUTHONOMY_API_KEY`` (and the other ``AUTHONOMY_*``
variables) the app runs against that tenant instead. Other ``AUTHONOMY_*`` variables
override the sandbox defaults too.
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
    parser = argparse.ArgumentParser(prog="python -m examples.quart_app", description=__doc__)
    parser.add_argument("--port", type=int, default=5050, help="port of the app (5050)")
    return parser.parse_args(argv)


def build_config(
    environ: Mapping[str, str], app_url: str, sandbox: Sandbox | None
) -> AuthonomyConfig:
    """The app's configuration: ``AUTHONOMY_*`` variables win over the defaults (the
    sandbox's, when one runs)."""
    defaults: dict[str, Any] = {"app_url": app_url, "session_secret": secrets.token_urlsafe(32)}
    if sandbox is not None:
        defaults.update(
            environment="sandbox",
            api_key=sandbox.api_key,
            api_base_url=sandbox.api_base_url,
            issuer=sandbox.issuer,
            audience=sandbox.audience,
            customer_id="acme-corp",
            webhook_secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        )
    kept = {k: v for k, v in defaults.items() if f"AUTHONOMY_{k.upper()}" not in environ}
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
