"""``python -m examples.flask_app``: the example app under waitress, with an embedded sandbox.

Without ``AUTHONOMY_API_KEY`` in the environment, an embedded Authonomy sandbox starts
(port 8400 when free) and the app's webhook URL is registered with it. With
``AUTHONOMY_API_KEY`` (and the other ``AUTHONOMY_*`` variables) the app runs against that
tenant instead. Other ``AUTHONOMY_*`` variables override the sandbox defaults too.
"""

from __future__ import annotations

import argparse
import base64
import logging.config
import os
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import waitress

from authonomy_integrations import AuthonomyClient, AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.webhooks import EVENT_TYPES

from ..shared import banner, demo_sandbox, log_config
from .app import create_app


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.flask_app", description=__doc__)
    parser.add_argument("--port", type=int, default=5000, help="port of the app (5000)")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads (8)")
    return parser.parse_args(argv)


def _with_env(defaults: Mapping[str, Any], environ: Mapping[str, str]) -> AuthonomyConfig:
    """``defaults`` (field names) overridden by any ``AUTHONOMY_*`` variable."""
    values: dict[str, Any] = {
        f"AUTHONOMY_{name.upper()}": value for name, value in defaults.items()
    }
    values.update({key: value for key, value in environ.items() if key.startswith("AUTHONOMY_")})
    return AuthonomyConfig.from_mapping(values)


def _register_webhook(sandbox: Sandbox, config: AuthonomyConfig) -> None:
    url = f"{config.app_url}{config.webhook_path}"
    secret = config.webhook_secrets[0]
    with AuthonomyClient(api_key=sandbox.api_key, base_url=sandbox.api_base_url) as client:
        client.webhooks.create(url=url, events=sorted(EVENT_TYPES), secret=secret)


def _serve(config: AuthonomyConfig, port: int, threads: int, sandbox: Sandbox | None) -> None:
    print(banner(f"http://127.0.0.1:{port}", sandbox), flush=True)
    logging.config.dictConfig(log_config())
    waitress.serve(create_app(config), host="127.0.0.1", port=port, threads=threads)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the example until interrupted."""
    args = _arguments(argv)
    app_url = f"http://127.0.0.1:{args.port}"
    if os.environ.get("AUTHONOMY_API_KEY"):
        _serve(_with_env({"app_url": app_url}, os.environ), args.port, args.threads, None)
        return
    with demo_sandbox() as sandbox:
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        defaults = {
            "environment": "sandbox",
            "api_key": sandbox.api_key,
            "api_base_url": sandbox.api_base_url,
            "issuer": sandbox.issuer,
            "audience": sandbox.audience,
            "customer_id": "acme-corp",
            "app_url": app_url,
            "session_secret": secrets.token_urlsafe(32),
            "webhook_secret": secret,
        }
        config = _with_env(defaults, os.environ)
        _register_webhook(sandbox, config)
        _serve(config, args.port, args.threads, sandbox)


if __name__ == "__main__":
    main()
