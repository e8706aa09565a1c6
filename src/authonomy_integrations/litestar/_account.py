"""The signed-in user's access token for calling other APIs, and ending a user's sessions."""

from __future__ import annotations

from .._core import web
from .._core.user import AuthonomyUser
from ._guards import Connection, runtime_of

__all__ = ["access_token", "end_sessions"]


async def access_token(connection: Connection) -> str | None:
    """The caller's current access token, to call another API as its user: the bearer
    token it sent, or its session's, refreshed first when due; ``None`` for nobody.

    Kept off ``request.user`` on purpose, so templates and logs never see it.
    """
    runtime = runtime_of(connection)
    if not isinstance(connection.scope.get("user"), AuthonomyUser):
        return None
    authorization = connection.headers.get("authorization")
    cookies = web.asgi_cookie_header(connection, None)
    return await runtime.access_token(authorization, cookies)


async def end_sessions(connection: Connection, user_id: str) -> int:
    """End every session of ``user_id`` (all devices, every worker sharing the store,
    their refresh tokens at Authonomy), from a handler of the app; how many were listed."""
    return await runtime_of(connection).end_sessions(user_id)
