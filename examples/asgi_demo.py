"""What ``python -m examples.<asgi app>`` shares: serving under uvicorn, configured from
the sandbox and ``AUTHONOMY_*`` variables (:func:`examples.shared.build_config`).

Without ``AUTHONOMY_API_KEY`` in the environment the Authonomy sandbox starts on
127.0.0.1 (port 8400 when free) and the app's webhook URL is registered with it; with it,
the ``AUTHONOMY_*`` variables configure a real tenant. Any ``AUTHONOMY_*`` variable
overrides the sandbox's value too.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn

from authonomy_integrations import AuthonomyConfig

from .shared import (
    banner,
    demo_setup,
    log_config,
    stop_on_signals,
)

__all__ = ["serve"]


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
    with demo_setup(os.environ, app_url) as (config, sandbox):
        print(banner(app_url, sandbox), flush=True)
        uvicorn.run(
            create_app(config),
            host="127.0.0.1",
            port=args.port,
            log_level="info",
            log_config=log_config(),
        )
