"""``login_as``: sign a test client in through the app's real login routes and the sandbox.

Nothing is faked: the app's login route starts a real login at the sandbox, the sandbox's
hosted pages are submitted like a browser would, and the callback runs in the app, so the
client ends up holding a real session cookie. Works with Starlette's and Litestar's
``TestClient`` and any ``httpx.Client`` (:func:`login_as`), Litestar's ``AsyncTestClient``
and any ``httpx.AsyncClient`` (:func:`alogin_as`), Flask's test client (:func:`login_as`),
Django's test ``Client`` (:func:`login_as`) and ``AsyncClient`` (:func:`alogin_as`), and
Quart's test client (:func:`alogin_as`, or :func:`login_as` outside an event loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from ..sandbox import SANDBOX_MFA_CODE, hosted_login

__all__ = ["LoginAsError", "alogin_as", "login_as"]


class LoginAsError(AssertionError):
    """The app did not complete the login the way the kit's routes do."""


def _login_path(login_path: str, next_path: str, customer: str | None) -> str:
    query = {"next": next_path}
    if customer:
        query["customer"] = customer
    return f"{login_path}?{urlencode(query)}"


def _location(response: Any, step: str) -> str:
    status = getattr(response, "status_code", None)
    location = response.headers.get("location")
    if status not in (302, 303) or not location:
        raise LoginAsError(f"{step}: expected a redirect, got {status}{_status_problem(status)}")
    return str(location)


def _status_problem(status: int | None) -> str:
    """What an app's answer most often means when it is not a login's redirect."""
    if status == 503:
        # Most often the sandbox of the variables the app was built from is not running.
        return (
            "; the app could not reach Authonomy: start the sandbox its configuration "
            "names (authonomy-sandbox), or build the app from the authonomy_sandbox "
            "fixture's config()"
        )
    if status == 404:
        return "; the app has no login route there: install the kit on it, or pass login_path="
    return ""


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _sign_in(
    authorization_url: str, user: str, groups: Sequence[str] | None, mfa: bool | None
) -> str:
    with httpx.Client(timeout=10) as browser:
        return hosted_login(
            browser,
            authorization_url,
            user=user,
            mfa_code=SANDBOX_MFA_CODE,
            groups=list(groups) if groups is not None else None,
            mfa=mfa,
        )


def _is_django(client: Any) -> bool:
    """Whether ``client`` is one of Django's test clients (without importing Django)."""
    return type(client).__module__.startswith("django.test")


def is_quart(client: Any) -> bool:
    """Whether ``client`` is Quart's test client (without importing Quart), or a class
    built on it: Quart extensions swap in their own through ``app.test_client_class``."""
    return any(kind.__module__.startswith("quart.") for kind in type(client).__mro__)


def loop_running() -> bool:
    """Whether this thread runs an event loop: an async test client's call cannot then
    be run to its end from blocking code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _get(client: Any, path: str) -> Any:
    if is_quart(client):  # async: run on an event loop of its own, outside async tests
        if loop_running():
            raise TypeError("login_as needs a blocking client; use `await alogin_as(client)`")
        return asyncio.run(client.get(path, follow_redirects=False))
    if isinstance(client, httpx.Client):
        return client.get(path, follow_redirects=False)
    if _is_django(client):
        if type(client).__name__ == "AsyncClient":
            raise TypeError("login_as needs a blocking client; use `await alogin_as(client)`")
        return client.get(path)  # Django's clients follow no redirect unless asked
    return client.get(path, follow_redirects=False)  # Flask's test client


async def _aget(client: Any, path: str) -> Any:
    if _is_django(client):
        return await client.get(path)
    return await client.get(path, follow_redirects=False)


def login_as(
    client: Any,
    user: str = "alice",
    *,
    groups: Sequence[str] | None = None,
    mfa: bool | None = None,
    customer: str | None = None,
    next_path: str = "/",
    login_path: str = "/auth/login",
) -> str:
    """Sign ``client`` in as the sandbox user ``user``; returns where the app sent it.

    ``groups`` and ``mfa`` override the mock user's groups and MFA for this login. Quart's
    test client, being async, is driven on an event loop of its own here: inside an async
    test, ``await alogin_as(client)`` instead.
    """
    start = _get(client, _login_path(login_path, next_path, customer))
    callback = _sign_in(_location(start, "login route"), user, groups, mfa)
    done = _get(client, _path_and_query(callback))
    return _location(done, "callback route")


async def alogin_as(
    client: Any,
    user: str = "alice",
    *,
    groups: Sequence[str] | None = None,
    mfa: bool | None = None,
    customer: str | None = None,
    next_path: str = "/",
    login_path: str = "/auth/login",
) -> str:
    """:func:`login_as` for an ``httpx.AsyncClient``, Django's ``AsyncClient`` or Quart's
    test client."""
    start = await _aget(client, _login_path(login_path, next_path, customer))
    callback = _sign_in(_location(start, "login route"), user, groups, mfa)
    done = await _aget(client, _path_and_query(callback))
    return _location(done, "callback route")
