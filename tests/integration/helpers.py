"""A whole sign-in through a runtime and the sandbox's hosted pages."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx

from authonomy_integrations._core.engine import LoginDone
from authonomy_integrations._runtime import AuthonomySync
from authonomy_integrations.sandbox import hosted_login


def callback_params(location: str) -> dict[str, str]:
    """The query of the redirect back to the app (code, state, iss)."""
    return dict(parse_qsl(urlsplit(location).query))


def sign_in(kit: AuthonomySync, user: str = "bob", next_path: str = "/") -> LoginDone:
    """Start a login, sign ``user`` in at the hosted pages, finish it: a new session."""
    start = kit.run(
        kit.engine.start_login(customer_id="acme-corp", next_path=next_path, login_cookie=None)
    )
    with httpx.Client() as browser:
        location = hosted_login(browser, start.redirect_url, user=user)
    return kit.run(
        kit.engine.finish_login(
            callback_params(location), login_cookie=start.login_cookie, old_session=None
        )
    )


def access_token(kit: AuthonomySync, user: str = "bob") -> str:
    """An access token from a real sign-in, as a bearer client would hold it."""
    record = kit.store.load(sign_in(kit, user).session_cookie)
    assert record is not None
    return record.tokens.access_token
