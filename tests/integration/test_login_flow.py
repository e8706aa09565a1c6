"""A full login through the engine against the embedded sandbox, in both drivers."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from authonomy_integrations.errors import LoginError, TokenError
from authonomy_integrations.runtime import AuthonomyAsync, AuthonomySync
from authonomy_integrations.sandbox import Sandbox, hosted_login


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


_open: list[AuthonomySync] = []


def request_close(kit: AuthonomySync) -> None:
    _open.append(kit)


@pytest.fixture(autouse=True)
def _close_kits() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def _callback_params(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).query))


def test_sync_login_session_and_logout(sandbox: Sandbox) -> None:
    kit = AuthonomySync(sandbox.config())
    request_close(kit)
    start = kit.start_login(customer_id="acme-corp", next_path="/profile", login_cookie=None)
    with httpx.Client() as browser:
        location = hosted_login(browser, start.redirect_url, user="bob")
    done = kit.finish_login(
        _callback_params(location), login_cookie=start.login_cookie, old_session=None
    )
    assert done.redirect_to == "/profile"
    assert done.user.email.startswith("bob@")
    state = kit.authenticate_session(done.session_cookie)
    assert state.user is not None and state.user.id == done.user.id
    kit.logout(done.session_cookie)
    assert kit.authenticate_session(done.session_cookie).user is None


def test_sync_refresh_rotates_the_sessions_tokens(sandbox: Sandbox) -> None:
    kit = AuthonomySync(sandbox.config(refresh_margin=3600))
    request_close(kit)
    start = kit.start_login(customer_id="acme-corp", next_path="/", login_cookie=None)
    with httpx.Client() as browser:
        location = hosted_login(browser, start.redirect_url, user="bob")
    done = kit.finish_login(
        _callback_params(location), login_cookie=start.login_cookie, old_session=None
    )
    before = sandbox.request_count("POST", "/v1/auth/refresh")
    first = kit.store.load(done.session_cookie)
    assert kit.authenticate_session(done.session_cookie).user is not None
    second = kit.store.load(done.session_cookie)
    assert sandbox.request_count("POST", "/v1/auth/refresh") == before + 1
    assert first is not None and second is not None
    assert second.tokens.refresh_token != first.tokens.refresh_token


def test_callback_replayed_with_another_browsers_cookie_is_refused(sandbox: Sandbox) -> None:
    kit = AuthonomySync(sandbox.config())
    request_close(kit)
    mine = kit.start_login(customer_id="acme-corp", next_path="/", login_cookie=None)
    theirs = kit.start_login(customer_id="acme-corp", next_path="/", login_cookie=None)
    with httpx.Client() as browser:
        location = hosted_login(browser, mine.redirect_url, user="bob")
    with pytest.raises(LoginError):
        kit.finish_login(
            _callback_params(location), login_cookie=theirs.login_cookie, old_session=None
        )


async def test_async_login_bearer_and_refresh(sandbox: Sandbox) -> None:
    kit = AuthonomyAsync(sandbox.config(refresh_margin=3600))
    start = await kit.start_login(customer_id="acme-corp", next_path=None, login_cookie=None)
    with httpx.Client() as browser:
        location = hosted_login(browser, start.redirect_url, user="alice")
    done = await kit.finish_login(
        _callback_params(location), login_cookie=start.login_cookie, old_session=None
    )
    assert done.user.mfa and "admins" in done.user.groups
    # refresh_margin longer than the token's life: every request refreshes.
    before = sandbox.request_count("POST", "/v1/auth/refresh")
    state = await kit.authenticate_session(done.session_cookie)
    assert state.user is not None and state.user.id == done.user.id
    assert sandbox.request_count("POST", "/v1/auth/refresh") == before + 1
    with pytest.raises(TokenError):
        await kit.authenticate_bearer("not-a-token")
    await kit.logout(done.session_cookie)
    assert (await kit.authenticate_session(done.session_cookie)).user is None
    await kit.aclose()
