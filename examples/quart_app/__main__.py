"""``python -m examples.quart_app``: the Quart example app under uvicorn on 127.0.0.1:5050
(``--port``), against an embedded sandbox unless ``AUTHONOMY_API_KEY`` names a real
tenant (see :mod:`examples.asgi_demo`)."""

from __future__ import annotations

from collections.abc import Sequence

from ..asgi_demo import serve
from ..shared import build_config
from .app import create_app

__all__ = ["build_config", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Start the sandbox (unless a real tenant is configured) and serve the app."""
    serve(
        create_app,
        prog="python -m examples.quart_app",
        description="Run the Quart example app.",
        default_port=5050,
        argv=argv,
    )


if __name__ == "__main__":
    main()
