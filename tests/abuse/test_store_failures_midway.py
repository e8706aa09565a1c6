"""The session store failing in the middle of a flow leaves the flow done, undone, or
refused everywhere until a retry finishes it: never a 500, and never a step skipped that
no retry comes back for.

- A sign-in whose session cannot be saved revokes the tokens it got; a store that cannot
  record their revocation for the other workers must not keep Authonomy from ending them.
- A back-channel logout (a webhook) that the session store cuts short is answered 503,
  so Authonomy delivers it again, and the redelivery finishes it.
- A logout whose delete was done but whose answer was lost is finished (logged out at
  Authonomy) instead of answered 503: its retry would find nothing left to end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.testing import LoginAsError, login_as, send_webhook

from .apps import ADAPTERS, home, json_body, set_cookies
from .flaky_store import FlakyStore, flaky_kit, logout, signed_in


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_sign_in_whose_session_and_revocation_fail_still_ends_its_tokens_at_authonomy(
    adapter: str, sb: Sandbox
) -> None:
    # The code is spent and the tokens cannot become a session: they are logged out at
    # Authonomy. Their sid's revocation failing too (the same store) used to skip that
    # logout, leaving a live refresh token of a sign-in answered 503.
    logouts = sb.request_count("DELETE", "/v1/auth/logout")
    with flaky_kit(adapter, sb) as (app, store):
        store.saves_down = store.revocations_down = True
        with pytest.raises(LoginAsError, match="got 503"):
            login_as(app.client, "alice", next_path="/home")
        assert len(store) == 0
        store.saves_down = store.revocations_down = False
        assert login_as(app.client, "alice", next_path="/home") == "/home"
    assert sb.request_count("DELETE", "/v1/auth/logout") == logouts + 1


def _deliver(app: Any, sb: Sandbox, event_type: str, data: dict[str, Any], event_id: str) -> Any:
    config = sb.config()
    return send_webhook(
        app.client,
        event_type,
        data,
        secret=config.webhook_secrets[0],
        path=config.webhook_path,
        event_id=event_id,
    )


def _sid(store: FlakyStore, cookie: str) -> str:
    record = store.load(cookie)
    assert record is not None
    sid = record.claims["sid"]
    assert isinstance(sid, str)
    return sid


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_back_channel_logout_the_store_cuts_short_is_a_503_its_redelivery_finishes(
    adapter: str, sb: Sandbox
) -> None:
    with flaky_kit(adapter, sb) as (app, store):
        [cookie] = signed_in(app)
        sid = _sid(store, cookie)
        data = {"user": {"id": "user_alice"}, "session": {"id": sid}, "reason": "admin"}
        store.revocations_down = True
        cut_short = _deliver(app, sb, "session.revoked", data, "evt_revoked_midway")
        assert cut_short.status_code == 503  # retried by Authonomy, not a 500
        assert int(cut_short.headers["retry-after"]) >= 1
        assert sid not in store.revoked  # the other workers do not know yet
        store.revocations_down = False
        again = _deliver(app, sb, "session.revoked", data, "evt_revoked_midway")
        assert again.status_code == 200
        assert "duplicate" not in json_body(again)["data"]  # it ran again
        assert sid in store.revoked
        assert home(app.client, cookie) == 401


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_user_logout_webhook_cut_short_by_the_store_is_finished_by_its_redelivery(
    adapter: str, sb: Sandbox
) -> None:
    # "user.logged_out" without a session ends every session of the user. One of them
    # cannot be deleted: 503, and the redelivery ends the ones left.
    with flaky_kit(adapter, sb) as (app, store):
        laptop, phone = signed_in(app, 2)
        data = {"user": {"id": "user_alice"}, "reason": "admin"}
        store.undeletable.update({laptop, phone})
        cut_short = _deliver(app, sb, "user.logged_out", data, "evt_user_out_midway")
        assert cut_short.status_code == 503
        assert home(app.client, laptop) == 200 and home(app.client, phone) == 200
        store.undeletable.clear()
        again = _deliver(app, sb, "user.logged_out", data, "evt_user_out_midway")
        assert again.status_code == 200
        assert home(app.client, laptop) == 401 and home(app.client, phone) == 401


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_logout_whose_delete_was_done_but_its_answer_lost_is_finished(
    adapter: str, sb: Sandbox
) -> None:
    # The store deleted the session, then its answer was lost. Answered 503, the retry
    # would find no session, answer 303 and never log it out at Authonomy; asked again,
    # the store says the session is gone, so the logout is finished now.
    logouts = sb.request_count("DELETE", "/v1/auth/logout")
    with flaky_kit(adapter, sb) as (app, store):
        [cookie] = signed_in(app)
        store.delete_replies_lost = True
        answer = logout(app.client, cookie)
        assert answer.status_code == 303
        assert any(c.startswith("authonomy_session=;") for c in set_cookies(answer))
        store.delete_replies_lost = False
        assert home(app.client, cookie) == 401
    assert sb.request_count("DELETE", "/v1/auth/logout") == logouts + 1  # ended at Authonomy
