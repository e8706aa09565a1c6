"""The signed-in user's access token for calling other APIs, and ending a user's sessions,
from sync and async views, under WSGI and ASGI."""

from __future__ import annotations

from asgiref.sync import async_to_sync, sync_to_async
from django.http import HttpRequest

from .._runtime import AuthonomyAsync
from ._http import credentials, request_auth

__all__ = ["aaccess_token", "access_token", "aend_sessions", "end_sessions"]


def access_token(request: HttpRequest) -> str | None:
    """The caller's current access token, to call another API as its user: the bearer
    token it sent, or its session's, refreshed first when due; ``None`` for nobody.

    Kept off ``request.user`` on purpose, so templates and logs never see it.
    """
    auth = request_auth(request)
    if auth.user is None:
        return None
    runtime = auth.runtime
    if isinstance(runtime, AuthonomyAsync):  # a sync view under ASGI
        return async_to_sync(runtime.access_token)(*credentials(request))
    return runtime.access_token(*credentials(request))


async def aaccess_token(request: HttpRequest) -> str | None:
    """:func:`access_token` for ``async def`` views."""
    auth = request_auth(request)
    if auth.user is None:
        return None
    runtime = auth.runtime
    if isinstance(runtime, AuthonomyAsync):
        return await runtime.access_token(*credentials(request))
    # An async view under WSGI: the blocking runtime runs in a worker thread.
    return await sync_to_async(runtime.access_token, thread_sensitive=False)(*credentials(request))


def end_sessions(request: HttpRequest, user_id: str) -> int:
    """End every session of ``user_id`` (all devices, every worker sharing the store,
    their refresh tokens at Authonomy); how many were listed."""
    runtime = request_auth(request).runtime
    if isinstance(runtime, AuthonomyAsync):
        return async_to_sync(runtime.end_sessions)(user_id)
    return runtime.end_sessions(user_id)


async def aend_sessions(request: HttpRequest, user_id: str) -> int:
    """:func:`end_sessions` for ``async def`` views."""
    runtime = request_auth(request).runtime
    if isinstance(runtime, AuthonomyAsync):
        return await runtime.end_sessions(user_id)
    return await sync_to_async(runtime.end_sessions, thread_sensitive=False)(user_id)
