"""The signed-in user's access token for calling other APIs, and ending a user's sessions."""

from __future__ import annotations

from ._context import connection, cookie_header, request_user, runtime

__all__ = ["access_token", "end_sessions"]


async def access_token() -> str | None:
    """The current caller's access token, to call another API as its user: the bearer
    token it sent, or its session's, refreshed first when due; ``None`` for nobody.

    Kept off ``current_user`` on purpose, so templates and logs never see it.
    """
    if request_user() is None:
        return None
    authorization = connection().headers.get("Authorization")
    return await runtime().access_token(authorization, cookie_header())


async def end_sessions(user_id: str) -> int:
    """End every session of ``user_id`` (all devices, every worker sharing the store,
    their refresh tokens at Authonomy); how many were listed. Needs an app context."""
    return await runtime().end_sessions(user_id)
