"""``authonomy-sandbox``: run the embedded sandbox in the foreground and print how to use it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

import uvicorn

from .app import create_app
from .seed import AUDIENCE, FULL_API_KEY, READ_ONLY_API_KEY
from .server import bind_socket
from .state import SandboxState

__all__ = ["main"]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="authonomy-sandbox", description="Run a local Authonomy sandbox."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8400, help="TCP port (0: any free port)")
    parser.add_argument(
        "--token-ttl", type=int, default=3600, help="access token lifetime in seconds"
    )
    parser.add_argument("--algorithm", choices=("RS256", "ES256"), default="RS256")
    return parser.parse_args(argv)


def _public_host(host: str) -> str:
    # A wildcard address cannot be connected to; the loopback interface is part of it.
    return {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)  # noqa: S104


def _banner(state: SandboxState, out: TextIO) -> None:
    lines = [
        "Authonomy sandbox",
        f"  API URL:          {state.issuer}/v1",
        f"  Issuer:           {state.issuer}",
        f"  Console:          {state.issuer}/console",
        f"  API key (full):   {FULL_API_KEY}",
        f"  API key (read):   {READ_ONLY_API_KEY}",
        f"  Audience:         {AUDIENCE}",
        "  Users:",
        *(
            f"    {user.username:<8} {user.email:<28} customer={user.customer_id}"
            f" groups={','.join(user.groups)} mfa={'yes' if user.mfa_enrolled else 'no'}"
            for user in state.users.values()
        ),
        "",
        "export AUTHONOMY_ENVIRONMENT=sandbox",
        f"export AUTHONOMY_API_BASE_URL={state.issuer}/v1",
        f"export AUTHONOMY_ISSUER={state.issuer}",
        f"export AUTHONOMY_API_KEY={FULL_API_KEY}",
        f"export AUTHONOMY_AUDIENCE={AUDIENCE}",
        "export AUTHONOMY_CUSTOMER_ID=acme-corp",
        "",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``authonomy-sandbox`` console script."""
    args = _arguments(argv)
    sock = bind_socket(args.host, args.port)
    port = sock.getsockname()[1]
    state = SandboxState(
        issuer=f"http://{_public_host(args.host)}:{port}",
        token_ttl=args.token_ttl,
        algorithm=args.algorithm,
    )
    _banner(state, sys.stdout)
    config = uvicorn.Config(create_app(state), log_level="info", lifespan="off")
    state.dispatcher.start()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        state.dispatcher.stop()


if __name__ == "__main__":
    main()
