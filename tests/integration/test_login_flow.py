"""A full login through the engine against the embedded sandbox, in both drivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations._errors import LoginError, TokenError
from authonomy_integrations._runtime import AuthonomyAsync, AuthonomySync
from authonomy_integrations.sandbox import Sandbox, hosted_login

from .helpers import callback_params, sign_in


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def make_kit() -> Iterator[Callable[..., AuthonomySync]]:
    """Sync runtimes for the sandbox, closed after the test."""
    made: list[AuthonomySync] = []

    def make(config: AuthonomyConfig) -> AuthonomySync:
        made.append(AuthonomySync(config))
        return made[-1]

    yield make
    for kit in made:
        kit.close()


def test_sync_login_session_and_logout(
    sandbox: Sandbox, make_kit: Callable[..., AuthonomySync]
) -> None:
    kit = make_kit(sandbox.config())
    done = sign_in(kit, next_path="/profile")
    assert done.redirect_to == "/profile"
    assert done.user.email.startswith("bob@")
    state = kit.authenticate_session(done.session_cookie)
    assert state.user is not None and state.user.id == done.user.id
    kit.logout(done.session_cookie)
    assert kit.authenticate_session(done.session_cookie).user is None


def test_sync_refresh_rotates_the_sessions_tokens(
    sandbox: Sandbox, make_kit: Callable[..., AuthonomySync]
) -> None:
    kit = make_kit(sandbox.config(refresh_margin=3600))
    done = sign_in(kit)
    before = sandbox.request_count("POST", "/v1/auth/refresh")
    first = kit.store.load(done.session_cookie)
    assert kit.authenticate_session(done.session_cookie).user is not None
    second = kit.store.load(done.session_cookie)
    assert sandbox.request_count("POST", "/v1/auth/refresh") == before + 1
    assert first is not None and second is not None
    assert second.tokens.refresh_token != first.tokens.refresh_token


def test_callback_replayed_with_another_browsers_cookie_is_refused(
    sandbox: Sandbox, make_kit: Callable[..., AuthonomySync]
) -> None:
    kit = make_kit(sandbox.config())
    mine = kit.run(
        kit.engine.start_login(customer_id="acme-corp", next_path="/", login_cookie=None)
    )
    theirs = kit.run(
        kit.engine.start_login(customer_id="acme-corp", next_path="/", login_cookie=None)
    )
    with httpx.Client() as browser:
        location = hosted_login(browser, mine.redirect_url, user="bob")
    with pytest.raises(LoginError):
        kit.run(
            kit.engine.finish_login(
                callback_params(location), login_cookie=theirs.login_cookie, old_session=None
            )
        )


async def test_async_login_bearer_and_refresh(sandbox: Sandbox) -> None:
    kit = AuthonomyAsync(sandbox.config(refresh_margin=3600))
    start = await kit.run(
        kit.engine.start_login(customer_id="acme-corp", next_path=None, login_cookie=None)
    )
    with httpx.Client() as browser:
        location = hosted_login(browser, start.redirect_url, user="alice")
    done = await kit.run(
        kit.engine.finish_login(
            callback_params(location), login_cookie=start.login_cookie, old_session=None
        )
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
