"""Step-up re-authenticates the same person; a refresh cannot swap the user either."""

from __future__ import annotations

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox, hosted_login
from authonomy_integrations.sandbox._models import Identity

from .apps import Adapter
from .flows import authonomy_sessions, browser, handle, pick_anyway, sign_in, whoami


def _step_up(http: httpx.Client) -> str:
    """Open the MFA page while signed in without MFA; the step-up authorization URL."""
    refused = http.get("/mfa")
    assert refused.status_code == 302, refused.text
    assert "step_up=require-mfa" in refused.headers["location"]
    start = http.get(refused.headers["location"])
    assert start.status_code == 302, start.text
    return str(start.headers["location"])


def test_step_up_asks_for_the_signed_in_user_and_the_page_offers_only_them(
    adapter: Adapter, sb: Sandbox
) -> None:
    serving = adapter.serve(lambda url: sb.config(app_url=url), sb.state.clock.now)
    with serving as url, browser(url) as http:
        assert sign_in(http, user="bob").status_code == 302
        authorization_url = _step_up(http)
        assert sb.state.login_requests[handle(authorization_url)].login_hint == (
            "bob@acme-corp.com"
        )
        with httpx.Client() as idp:
            page = idp.get(authorization_url)
        assert "Additional verification requested" in page.text
        assert 'value="bob"' in page.text and 'value="alice"' not in page.text
        done = http.get(hosted_login(http, authorization_url, user="bob"))
        assert done.status_code == 302 and done.headers["location"] == "/mfa"
        assert http.get("/mfa").json()["user"] == "user_bob"


def test_step_up_completed_as_someone_else_keeps_the_old_session(
    adapter: Adapter, sb: Sandbox
) -> None:
    serving = adapter.serve(lambda url: sb.config(app_url=url), sb.state.clock.now)
    with serving as url, browser(url) as http:
        assert sign_in(http, user="bob").status_code == 302
        bob_cookie = http.cookies["authonomy_session"]
        authorization_url = _step_up(http)
        answer = http.get(pick_anyway(http, authorization_url, "alice"))
        assert answer.status_code == 400
        assert "Signed in as someone else" in answer.text
        assert http.cookies["authonomy_session"] == bob_cookie
        assert whoami(http) == "user_bob"
        assert http.get("/mfa").status_code == 302  # bob still has to verify
    assert authonomy_sessions(sb, "alice")[-1].revoked


# alice: another sub of the same customer; carol: another customer as well.
@pytest.mark.parametrize("other", ["alice", "carol"], ids=["sub", "customer_id"])
def test_a_refresh_that_names_another_user_ends_the_session(adapter: Adapter, other: str) -> None:
    with Sandbox() as sb:
        serving = adapter.serve(lambda url: sb.config(app_url=url), sb.state.clock.now)
        with serving as url, browser(url) as http:
            assert sign_in(http, user="bob").status_code == 302
            assert whoami(http) == "user_bob"
            # Authonomy's session starts naming another user (a fault, or an attack on it).
            session = authonomy_sessions(sb, "bob")[-1]
            intruder = sb.state.users[other]
            with sb.state.lock:
                session.identity = Identity(intruder, intruder.groups, mfa=False)
            refreshes = sb.request_count("POST", "/v1/auth/refresh")
            sb.advance_clock(3600 - 30)  # the access token is due for refresh
            assert whoami(http) is None
            assert sb.request_count("POST", "/v1/auth/refresh") == refreshes + 1
            assert whoami(http) is None
