"""``python -m examples.flask_app``: the example app under waitress, with an embedded sandbox.

Without ``AUTHONOMY_API_KEY`` in the environment, an embedded Authonomy sandbox starts
(port 8400 when free) and the app's webhook URL is registered with it. With
``AUTHONOMY_API_KEY`` (and the other ``AUTHONOMY_*`` variables) the app runs against that
tenant instead. Other ``AUTHONOMY_*`` variables override the sandbox defaults too.
"""

from __future__ import annotations

import argparse
import logging.config
import os
from collections.abc import Sequence

import waitress

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.sandbox import Sandbox

from ..shared import (
    banner,
    demo_setup,
    log_config,
    stop_on_signals,
)
from .app import create_app


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.flask_app", description=__doc__)
    parser.add_argument("--port", type=int, default=5000, help="port of the app (5000)")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads (8)")
    return parser.parse_args(argv)


def _serve(config: AuthonomyConfig, port: int, threads: int, sandbox: Sandbox | None) -> None:
    print(banner(f"http://127.0.0.1:{port}", sandbox), flush=True)
    logging.config.dictConfig(log_config())
    waitress.serve(create_app(config), host="127.0.0.1", port=port, threads=threads)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the example until interrupted."""
    args = _arguments(argv)
    stop_on_signals()
    app_url = f"http://127.0.0.1:{args.port}"
    with demo_setup(os.environ, app_url) as (config, sandbox):
        _serve(config, args.port, args.threads, sandbox)


if __name__ == "__main__":
    main()
