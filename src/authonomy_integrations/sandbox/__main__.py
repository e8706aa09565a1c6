"""``authonomy-sandbox``: run the embedded sandbox in the foreground and print how to use it.

It prints every ``AUTHONOMY_*`` variable an app needs (``--env-file`` also writes them
to a file), with a session secret and a webhook secret generated for this run. With
``--app-url`` the app's ``/webhooks/authonomy`` is subscribed to every event, signed
with that webhook secret, so deliveries arrive with no further step.
"""

from __future__ import annotations

import argparse
import base64
import copy
import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from .._config import AuthonomyConfig
from .._core.origins import PLACEHOLDER, Origins
from .._errors import ConfigurationError
from ._models import Subscription
from ._seed import AUDIENCE, FULL_API_KEY, READ_ONLY_API_KEY, SANDBOX_MFA_CODE
from ._state import SandboxState

__all__ = ["main"]

#: The demo app's address (``make demo``), used when ``--app-url`` is not given.
DEFAULT_APP_URL = "http://127.0.0.1:8000"
#: Where the kit's webhook route is, unless the app moves it.
WEBHOOK_PATH = "/webhooks/authonomy"
#: The customer the printed configuration signs users in to.
CUSTOMER = "acme-corp"


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="authonomy-sandbox", description="Run a local Authonomy sandbox."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8400, help="TCP port (0: any free port)")
    parser.add_argument(
        "--app-url",
        action="append",
        help=f"your app's origin (default {DEFAULT_APP_URL}); repeat it (or separate "
        "origins with commas) for several, one of which may hold {customer} as its "
        "leftmost host label (https://{customer}.myapp.example). Logins may return only "
        f"there, and the app's {WEBHOOK_PATH} is subscribed once to every webhook event",
    )
    parser.add_argument(
        "--env-file", type=Path, help="also write the AUTHONOMY_* variables to this file"
    )
    parser.add_argument(
        "--token-ttl", type=int, default=3600, help="access token lifetime in seconds"
    )
    parser.add_argument("--algorithm", choices=("RS256", "ES256"), default="RS256")
    return parser.parse_args(argv)


def _public_host(host: str) -> str:
    # A wildcard address cannot be connected to; the loopback interface is part of it.
    return {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)  # noqa: S104


def app_variables(issuer: str, app_url: str) -> dict[str, str]:
    """Every ``AUTHONOMY_*`` variable an app needs against this sandbox, fresh secrets
    included; ``AuthonomyConfig.from_env()`` reads exactly these."""
    webhook_key = base64.b64encode(secrets.token_bytes(24)).decode()
    return {
        "AUTHONOMY_ENVIRONMENT": "sandbox",
        "AUTHONOMY_API_BASE_URL": f"{issuer}/v1",
        "AUTHONOMY_ISSUER": issuer,
        "AUTHONOMY_API_KEY": FULL_API_KEY,
        "AUTHONOMY_AUDIENCE": AUDIENCE,
        "AUTHONOMY_CUSTOMER_ID": CUSTOMER,
        "AUTHONOMY_APP_URL": app_url,
        "AUTHONOMY_SESSION_SECRET": secrets.token_urlsafe(32),
        "AUTHONOMY_WEBHOOK_SECRET": f"whsec_{webhook_key}",
    }


def webhook_origin(origins: Sequence[str]) -> str:
    """The one origin webhooks are delivered to: the first without ``{customer}``, else
    the tenant origin of the customer the printed configuration signs in to."""
    fixed = [origin for origin in origins if PLACEHOLDER not in origin]
    return fixed[0] if fixed else origins[0].replace(PLACEHOLDER, CUSTOMER)


def _user_line(state: SandboxState, username: str) -> str:
    user = state.users[username]
    groups = ",".join(user.groups)
    if user.mfa_enrolled:
        mfa = f"enrolled: asked for the one-time code {SANDBOX_MFA_CODE} at every sign-in"
    else:
        mfa = f"not enrolled: asked for the code {SANDBOX_MFA_CODE} only when a page requires MFA"
    return f"    {username:<6} {user.email:<22} customer={user.customer_id} groups={groups}; {mfa}"


def _banner(
    state: SandboxState, variables: Mapping[str, str], webhook_url: str | None, out: TextIO
) -> None:
    users = [name for name in state.users if state.users[name].customer_id == CUSTOMER]
    lines = [
        "Authonomy sandbox",
        f"  API URL:          {state.issuer}/v1",
        f"  Issuer:           {state.issuer}",
        f"  Console:          {state.issuer}/console",
        f"  API key (full):   {FULL_API_KEY}",
        f"  API key (read):   {READ_ONLY_API_KEY}",
        f"  Audience:         {AUDIENCE}",
        f"  Users of {CUSTOMER} on the sign-in page:",
        *(_user_line(state, name) for name in users),
        f"  Webhooks:         {webhook_url or 'none subscribed (pass --app-url)'}",
        "",
        "Configure your app with these variables (AuthonomyConfig.from_env() reads them):",
        "",
        *(f"export {name}={value}" for name, value in variables.items()),
        "",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def _write_env_file(path: Path, variables: Mapping[str, str]) -> None:
    text = "".join(f"{name}={value}\n" for name, value in variables.items())
    # The file holds secrets: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def _subscribe(state: SandboxState, url: str, secret: str) -> None:
    from ..webhooks import EVENT_TYPES

    hook = Subscription(state.new_id("wh"), url, tuple(EVENT_TYPES), secret, state.clock.now())
    with state.lock:
        state.webhooks[hook.id] = hook


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with every line marked as the sandbox's (an app logs too)."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter["fmt"] = "[sandbox] " + formatter["fmt"]
    return config


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``authonomy-sandbox`` console script."""
    import uvicorn

    from ._app import create_app
    from ._server import bind_socket

    args = _arguments(argv)
    app_url = ",".join(args.app_url) if args.app_url else DEFAULT_APP_URL
    try:
        origins = AuthonomyConfig(audience=AUDIENCE, app_url=app_url).origins
    except ConfigurationError as exc:
        sys.exit(f"authonomy-sandbox: --app-url: {exc.reason}")
    try:
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        sys.exit(
            f"authonomy-sandbox: cannot listen on {args.host}:{args.port}: "
            f"{exc.strerror or exc}; stop what holds it, or pass another --port "
            "(--port 0 takes any free port)"
        )
    port = sock.getsockname()[1]
    state = SandboxState(
        issuer=f"http://{_public_host(args.host)}:{port}",
        token_ttl=args.token_ttl,
        algorithm=args.algorithm,
    )
    variables = app_variables(state.issuer, ",".join(origins))
    webhook_url = None
    if args.app_url:
        state.app_origins = Origins(origins)
        webhook_url = f"{webhook_origin(origins)}{WEBHOOK_PATH}"
        _subscribe(state, webhook_url, variables["AUTHONOMY_WEBHOOK_SECRET"])
    if args.env_file is not None:
        _write_env_file(args.env_file, variables)
    _banner(state, variables, webhook_url, sys.stdout)
    config = uvicorn.Config(
        create_app(state), log_level="info", lifespan="off", log_config=_log_config()
    )
    state.dispatcher.start()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        state.dispatcher.stop()


if __name__ == "__main__":
    main()
