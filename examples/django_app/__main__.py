"""``python -m examples.django_app``: the example app with an embedded sandbox.

It runs under waitress (WSGI), or under uvicorn (ASGI) with ``--asgi``. Without
``AUTHONOMY_API_KEY`` in the environment, an embedded Authonomy sandbox starts (port 8400
when free), the ``AUTHONOMY_*`` variables are set for it (any already set win), and the
app's webhook URL is registered with it. With ``AUTHONOMY_API_KEY`` (and the other
``AUTHONOMY_*`` variables) the app runs against that tenant instead.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from authonomy_integrations.sandbox import Sandbox

from ..shared import (
    banner,
    demo_sandbox,
    demo_settings,
    log_config,
    register_webhook,
    stop_on_signals,
)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.django_app", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="port of the app (8000)")
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads (8)")
    parser.add_argument("--asgi", action="store_true", help="serve with uvicorn (ASGI)")
    return parser.parse_args(argv)


def _sandbox_environment(sandbox: Sandbox, app_url: str) -> None:
    """The sandbox's configuration as ``AUTHONOMY_*`` variables, unless already set."""
    for name, value in demo_settings(app_url, sandbox).items():
        os.environ.setdefault(f"AUTHONOMY_{name.upper()}", str(value))


def _register_webhook(sandbox: Sandbox) -> None:
    from django.conf import settings  # configured by now

    register_webhook(sandbox, settings.AUTHONOMY_CONFIG)


def _serve(args: argparse.Namespace, sandbox: Sandbox | None) -> None:
    print(banner(f"http://127.0.0.1:{args.port}", sandbox), flush=True)
    if args.asgi:
        import uvicorn

        from .asgi import application as asgi_app

        uvicorn.run(
            asgi_app, host="127.0.0.1", port=args.port, lifespan="off", log_config=log_config()
        )
        return
    import waitress

    from .wsgi import application

    waitress.serve(application, host="127.0.0.1", port=args.port, threads=args.threads)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the example until interrupted."""
    args = _arguments(argv)
    stop_on_signals()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_app.settings")
    app_url = f"http://127.0.0.1:{args.port}"
    if os.environ.get("AUTHONOMY_API_KEY"):
        os.environ.setdefault("AUTHONOMY_APP_URL", app_url)
        _serve(args, None)
        return
    with demo_sandbox() as sandbox:
        _sandbox_environment(sandbox, app_url)
        import django

        django.setup()
        _register_webhook(sandbox)
        _serve(args, sandbox)


if __name__ == "__main__":
    main()
