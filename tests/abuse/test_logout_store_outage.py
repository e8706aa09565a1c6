"""Logout while the session store fails: a store out of reach before anything ended is a
503 the user can retry (the session kept), and a failure after the session was deleted
no longer turns a finished logout into an error (so nobody retries a logout that was done)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from authonomy_integrations.sandbox import Sandbox

from .apps import ADAPTERS, home, set_cookies
from .flaky_store import flaky_kit, logout, signed_in


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_logout_while_the_store_is_out_of_reach_is_a_503_that_can_be_retried(
    adapter: str, sb: Sandbox
) -> None:
    with flaky_kit(adapter, sb) as (app, store):
        [cookie] = signed_in(app)
        store.down = True
        answer = logout(app.client, cookie)
        assert answer.status_code == 503
        assert answer.headers["retry-after"]
        assert not any(c.startswith("authonomy_session=") for c in set_cookies(answer))
        store.down = False
        assert home(app.client, cookie) == 200  # nothing was ended
        done = logout(app.client, cookie)
        assert done.status_code == 303
        assert home(app.client, cookie) == 401


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_logout_whose_delete_fails_ends_nothing_in_this_process_either(
    adapter: str, sb: Sandbox
) -> None:
    # Read, then the store goes away before the delete: answered 503 and the session
    # goes on here too. Refused by this process alone, it would be a sign-out in one
    # worker while the others, reading the record that is still there, serve it.
    with flaky_kit(adapter, sb) as (app, store):
        [cookie] = signed_in(app)
        store.deletes_down = True
        answer = logout(app.client, cookie)
        assert answer.status_code == 503
        assert not any(c.startswith("authonomy_session=") for c in set_cookies(answer))
        assert home(app.client, cookie) == 200
        store.deletes_down = False
        assert home(app.client, cookie) == 200
        assert logout(app.client, cookie).status_code == 303
        assert home(app.client, cookie) == 401


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_logout_whose_session_is_deleted_is_done_though_the_index_fails(
    adapter: str, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with flaky_kit(adapter, sb) as (app, store):
        [cookie] = signed_in(app)
        store.index_down = True
        with caplog.at_level(logging.WARNING, "authonomy_integrations"):
            answer = logout(app.client, cookie)
        assert answer.status_code == 303  # nobody retries a logout that was done
        assert any(c.startswith("authonomy_session=;") for c in set_cookies(answer))
        assert home(app.client, cookie) == 401
    assert any("stays in its user's index" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_sign_out_everywhere_cut_short_by_the_store_can_be_retried(
    adapter: str, sb: Sandbox
) -> None:
    # The store fails to end the user's other session: the answer is a 503, and the
    # caller is still signed in to try again. Had its own session ended first, the retry
    # would find no live session, end nothing more and answer 303 while the other
    # session lived on.
    with flaky_kit(adapter, sb) as (app, store):
        laptop, phone = signed_in(app, 2)
        store.undeletable.add(laptop)
        answer = logout(app.client, phone, everywhere=True)
        assert answer.status_code == 503
        assert home(app.client, phone) == 200 and home(app.client, laptop) == 200
        store.undeletable.clear()
        done = logout(app.client, phone, everywhere=True)
        assert done.status_code == 303
        assert home(app.client, phone) == 401 and home(app.client, laptop) == 401


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_logout_whose_revocation_cannot_be_shared_still_ends_the_session(
    adapter: str, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    logouts = sb.request_count("DELETE", "/v1/auth/logout")
    with flaky_kit(adapter, sb) as (app, store):
        [cookie] = signed_in(app)
        store.revocations_down = True
        with caplog.at_level(logging.ERROR, "authonomy_integrations"):
            answer = logout(app.client, cookie)
        assert answer.status_code == 303
        assert any(c.startswith("authonomy_session=;") for c in set_cookies(answer))
        assert home(app.client, cookie) == 401
    assert sb.request_count("DELETE", "/v1/auth/logout") == logouts + 1  # ended at Authonomy
    assert any("revocation could not be shared" in r.getMessage() for r in caplog.records)
