"""A user's sessions: ``GET sessions_path`` lists them, ``POST {sessions_path}/{id}/end``
ends one, ``POST logout_path?everywhere=1`` ends them all, and admin code ends them all
with ``end_sessions``; over every adapter, with memory, cookie and Redis stores."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from authonomy_integrations import AuthEvent, AuthonomyClient, AuthonomyConfig
from authonomy_integrations._errors import InvalidGrantError
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import CookieSessionStore, MemorySessionStore, RedisSessionStore
from authonomy_integrations.webhooks import sign

from .apps import Adapter
from .flows import browser, sessions, sign_in, who

SECRET = "s" * 40
WEBHOOK_SECRET = "whsec_YXV0aHotdGVzdC13ZWJob29rLXNlY3JldC0wMTIz"
Config = Callable[[str], AuthonomyConfig]


def _config(sb: Sandbox, store: Any = None, seen: list[AuthEvent] | None = None) -> Config:
    hook = seen.append if seen is not None else None
    return lambda url: sb.config(
        app_url=url, session_secret=SECRET, session_store=store, on_event=hook
    )


def _refresh_refused(sb: Sandbox, refresh_token: str) -> bool:
    with AuthonomyClient(api_key=sb.api_key, base_url=sb.api_base_url) as api:
        try:
            api.auth.refresh(refresh_token)
        except InvalidGrantError:
            return True
    return False


def _ended(seen: list[AuthEvent]) -> list[str | None]:
    return [event.reason for event in seen if event.name == "session.ended"]


def test_sessions_route_lists_the_users_devices_newest_first(adapter: Adapter, sb: Sandbox) -> None:
    store = MemorySessionStore()
    with (
        adapter.serve(_config(sb, store)) as url,
        browser(url, "Laptop/1") as laptop,
        browser(url, "Phone/2") as phone,
        browser(url) as alice,
    ):
        sign_in(laptop)
        sign_in(phone)
        sign_in(alice, user="alice")
        listed = sessions(phone)
        cookies = [laptop.cookies["authonomy_session"], phone.cookies["authonomy_session"]]
        signed_out = httpx.get(url + "/auth/sessions", headers={"accept": "application/json"})
    assert [entry["user_agent"] for entry in listed] == ["Phone/2", "Laptop/1"]
    assert [entry["current"] for entry in listed] == [True, False]
    for entry in listed:
        assert entry["ip_prefix"] == "127.0.0.0/24"  # never the whole address
        assert entry["created_at"].endswith("Z") and entry["last_seen_at"].endswith("Z")
        # The handle is opaque: neither a cookie value nor a session id, nor part of one.
        assert all(entry["id"] not in cookie for cookie in cookies)
        assert store.load(entry["id"]) is None
    assert signed_out.status_code == 401


def test_a_user_ends_one_of_their_sessions(adapter: Adapter, sb: Sandbox) -> None:
    store, seen = MemorySessionStore(), []
    with (
        adapter.serve(_config(sb, store, seen)) as url,
        browser(url, "Laptop/1") as laptop,
        browser(url, "Phone/2") as phone,
        browser(url) as alice,
    ):
        sign_in(laptop)
        sign_in(phone)
        sign_in(alice, user="alice")
        laptop_record = store.load(laptop.cookies["authonomy_session"])
        assert laptop_record is not None
        laptop_id = sessions(phone)[1]["id"]
        end = f"/auth/sessions/{laptop_id}/end"
        # Not from the app's own pages: refused, as a logout would be.
        assert phone.post(end).status_code == 403
        assert who(laptop) == "user_bob"
        # Another user cannot end it: it is not among theirs.
        assert alice.post(end, headers={"origin": url}).status_code == 404
        nothing = phone.post("/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA/end", headers={"origin": url})
        assert nothing.status_code == 404
        answer = phone.post(end, headers={"origin": url})
        assert answer.status_code == 200 and answer.json() == {"ended": True}
        assert who(laptop) is None
        assert who(phone) == "user_bob"
        assert [entry["user_agent"] for entry in sessions(phone)] == ["Phone/2"]
    assert _refresh_refused(sb, laptop_record.tokens.refresh_token)
    assert "ended_by_user" in _ended(seen)


def test_ending_the_current_session_signs_the_browser_out(adapter: Adapter, sb: Sandbox) -> None:
    with adapter.serve(_config(sb)) as url, browser(url) as phone:
        sign_in(phone)
        own = sessions(phone)[0]["id"]
        answer = phone.post(f"/auth/sessions/{own}/end", headers={"origin": url})
        assert answer.status_code == 200
        assert "authonomy_session" not in phone.cookies
        assert who(phone) is None


def test_sign_out_everywhere_ends_every_session_of_the_user(adapter: Adapter, sb: Sandbox) -> None:
    store, seen = MemorySessionStore(), []
    with (
        adapter.serve(_config(sb, store, seen)) as url,
        browser(url) as laptop,
        browser(url) as phone,
        browser(url) as alice,
    ):
        sign_in(laptop)
        sign_in(phone)
        sign_in(alice, user="alice")
        records = [store.load(b.cookies["authonomy_session"]) for b in (laptop, phone)]
        refused = phone.post("/auth/logout", params={"everywhere": "1"})
        assert refused.status_code == 403
        assert who(laptop) == "user_bob"
        answer = phone.post("/auth/logout", params={"everywhere": "1"}, headers={"origin": url})
        assert answer.status_code == 303
        assert who(laptop) is None and who(phone) is None
        assert who(alice) == "user_alice"
    for record in records:
        assert record is not None and _refresh_refused(sb, record.tokens.refresh_token)
    assert _ended(seen).count("signed_out_everywhere") == 2


def test_sign_out_everywhere_with_the_cookie_store(adapter: Adapter, sb: Sandbox) -> None:
    """The cookie store cannot list sessions: it lists the caller's own, and refuses the
    user's other cookies from the sign-out on, logging each out at Authonomy when it
    comes back."""
    store = CookieSessionStore(SECRET)
    with adapter.serve(_config(sb, store)) as url, browser(url) as laptop, browser(url) as phone:
        sign_in(laptop)
        sign_in(phone)
        assert [entry["current"] for entry in sessions(phone)] == [True]
        laptop_record = store.load(laptop.cookies["authonomy_session"])
        assert laptop_record is not None
        answer = phone.post("/auth/logout", params={"everywhere": "1"}, headers={"origin": url})
        assert answer.status_code == 303
        assert who(laptop) is None and who(phone) is None
        sign_in(laptop)  # a new sign-in after it is not affected
        assert who(laptop) == "user_bob"
    assert _refresh_refused(sb, laptop_record.tokens.refresh_token)


def _admin_views(adapter: Adapter) -> list[str]:
    """The app's admin views ending a user's sessions: Django has a sync and an async one."""
    views = ["/admin/end-sessions/"]
    return [*views, "/admin/end-sessions-sync/"] if adapter.name.startswith("django") else views


def test_admin_code_ends_every_session_of_a_user(adapter: Adapter, sb: Sandbox) -> None:
    seen: list[AuthEvent] = []
    with adapter.serve(_config(sb, seen=seen)) as url, browser(url) as alice:
        sign_in(alice, user="alice")
        for view in _admin_views(adapter):
            with browser(url) as laptop, browser(url) as phone:
                sign_in(laptop)
                sign_in(phone)
                answer = alice.post(view + "user_bob", headers={"origin": url})
                assert answer.status_code == 200 and answer.json() == {"ended": 2}
                assert who(laptop) is None and who(phone) is None
            assert who(alice) == "user_alice"
    assert _ended(seen).count("sessions_ended") == 2 * len(_admin_views(adapter))


@pytest.mark.parametrize("other", ["same", "flask"])
def test_everywhere_reaches_another_instance_sharing_redis(
    adapter: Adapter, other: str, sb: Sandbox, redis_url: str
) -> None:
    from .apps import ADAPTERS

    second = adapter if other == "same" else next(a for a in ADAPTERS if a.name == other)
    with (
        adapter.serve(_config(sb, RedisSessionStore(redis_url))) as first_url,
        second.serve(_config(sb, RedisSessionStore(redis_url))) as second_url,
        browser(first_url) as here,
        browser(second_url) as there,
    ):
        sign_in(here)
        sign_in(there)
        assert len(sessions(here)) >= 2  # both instances' sessions, from either
        answer = here.post(
            "/auth/logout", params={"everywhere": "1"}, headers={"origin": first_url}
        )
        assert answer.status_code == 303
        assert who(there) is None
        assert who(here) is None


def _user_logged_out(user_id: str) -> tuple[dict[str, str], bytes]:
    """A signed ``user.logged_out`` delivery naming a user and no session."""
    event_id = f"evt_user_logged_out_{user_id}_{time.time_ns()}"
    data = {"user": {"id": user_id, "customer_id": "acme-corp"}, "reason": "admin"}
    body = json.dumps(
        {
            "id": event_id,
            "type": "user.logged_out",
            "timestamp": "2026-01-01T00:00:00Z",
            "data": data,
        }
    ).encode()
    return {**sign(WEBHOOK_SECRET, event_id, int(time.time()), body)}, body


def test_back_channel_logout_of_a_whole_user_ends_all_their_sessions(
    adapter: Adapter, sb: Sandbox
) -> None:
    seen: list[AuthEvent] = []

    def config(url: str) -> AuthonomyConfig:
        return _config(sb, seen=seen)(url).replace(webhook_secret=WEBHOOK_SECRET)

    with (
        adapter.serve(config) as url,
        browser(url) as laptop,
        browser(url) as phone,
        browser(url) as alice,
    ):
        sign_in(laptop)
        sign_in(phone)
        sign_in(alice, user="alice")
        headers, body = _user_logged_out("user_bob")
        headers["content-type"] = "application/json"
        delivered = httpx.post(f"{url}/webhooks/authonomy", headers=headers, content=body)
        assert delivered.is_success, delivered.text
        assert who(laptop) is None and who(phone) is None
        assert who(alice) == "user_alice"
    assert _ended(seen).count("back_channel_logout") == 2
