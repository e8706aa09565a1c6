"""The peers the kit is compared with, written the way their documentation suggests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    SimpleUser,
)
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse

from ._asgi import ASGIApp, Message, Scope


class DictTokenBackend(AuthenticationBackend):
    """Starlette's ``AuthenticationMiddleware`` backend with opaque tokens in a dict:
    the cheapest possible lookup, the floor for any bearer scheme."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = {
            token: (AuthCredentials(["authenticated"]), SimpleUser(name))
            for token, name in users.items()
        }

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, SimpleUser] | None:
        header = conn.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        found = self._users.get(token)
        if found is None:
            raise AuthenticationError("unknown token")
        return found


class PyJWTMiddleware:
    """A plain pure-ASGI middleware verifying an RS256 bearer token with PyJWT on every
    request, with the key loaded once at start-up (no JWKS fetch, no cache)."""

    def __init__(self, app: ASGIApp, key: Any, issuer: str, audience: str) -> None:
        self.app = app
        self.key = key
        self.issuer = issuer
        self.audience = audience

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            token = _bearer(scope["headers"])
            if token is not None:
                try:
                    claims = jwt.decode(
                        token,
                        self.key,
                        algorithms=["RS256"],
                        audience=self.audience,
                        issuer=self.issuer,
                        options={"require": ["exp", "iat", "sub"]},
                    )
                except jwt.PyJWTError:
                    await PlainTextResponse("invalid token", status_code=401)(scope, receive, send)
                    return
                scope["user"] = SimpleUser(claims.get("name") or claims["sub"])
        await self.app(scope, receive, send)


class NoopMiddleware:
    """A pure ASGI middleware that does nothing: the floor for any middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token if scheme.lower() == "bearer" else None
    return None


__all__ = ["DictTokenBackend", "Message", "NoopMiddleware", "PyJWTMiddleware"]
