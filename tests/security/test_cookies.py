"""``Cookie`` headers are parsed, not searched: a tossed or smuggled cookie never wins."""

from __future__ import annotations

import httpx
import pytest

from authonomy_integrations._core.web import cookie_value
from authonomy_integrations.sandbox import Sandbox

from .apps import Adapter
from .flows import browser, sign_in

NAME = "authonomy_session"


def _signed_in(url: str, user: str) -> str:
    """Sign ``user`` in with a fresh browser; their session cookie."""
    with browser(url) as http:
        assert sign_in(http, user=user).status_code == 302
        return http.cookies[NAME]


def _who(url: str, cookie_header: str) -> tuple[object, httpx.Response]:
    # A bare client: exactly this Cookie header goes over the wire, as a browser sent it.
    with httpx.Client(base_url=url) as raw:
        answer = raw.get("/whoami", headers={"cookie": cookie_header})
    assert answer.status_code == 200, answer.text
    return answer.json()["user"], answer


@pytest.mark.parametrize("victim_first", [True, False], ids=["victim-first", "planted-first"])
def test_a_tossed_session_cookie_is_neither_used_nor_replaces_the_real_one(
    adapter: Adapter, sb: Sandbox, victim_first: bool
) -> None:
    serving = adapter.serve(lambda url: sb.config(app_url=url), sb.state.clock.now)
    with serving as url:
        victim = _signed_in(url, "bob")
        planted = _signed_in(url, "alice")  # the attacker's own session, tossed at bob
        pairs = [f"{NAME}={victim}", f"{NAME}={planted}"]
        header = "; ".join(pairs if victim_first else reversed(pairs))
        user, answer = _who(url, header)
        assert user is None
        # The real cookie is not overwritten or deleted because of the duplicate.
        assert NAME not in answer.headers.get("set-cookie", "")
        # Once the planted duplicate is gone, bob's own session works again.
        assert _who(url, f"{NAME}={victim}")[0] == "user_bob"


@pytest.mark.parametrize(
    "template",
    [
        "theme=dark {name}={value}",  # a value with a space in it (browsers allow that)
        "note=x,{name}={value}",
        'prefs="{name}={value}"',
        "x{name}={value}",
        "{name}x={value}",
    ],
)
def test_a_cookie_name_inside_another_cookie_is_never_read(
    adapter: Adapter, sb: Sandbox, template: str
) -> None:
    serving = adapter.serve(lambda url: sb.config(app_url=url), sb.state.clock.now)
    with serving as url:
        value = _signed_in(url, "bob")
        assert _who(url, template.format(name=NAME, value=value))[0] is None
        assert _who(url, f"theme=dark; {NAME}={value}; lang=en")[0] == "user_bob"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1; s=2; b=3", "2"),
        ("s=2", "2"),
        ("  s = 2 ;b=3", "2"),
        ("s=2; s=3", None),
        ("s=2; s=", None),
        ("s=; s=2", None),
        ("xs=2; sx=3", None),
        ("a=s=2", None),
        ("a=1 s=2", None),
        ("s", None),
        ("s=", None),
        ("", None),
        ("s=a=b", "a=b"),
    ],
)
def test_cookie_value_follows_rfc_6265_pairs(header: str, expected: str | None) -> None:
    assert cookie_value(header, "s") == expected
    assert cookie_value(None, "s") is None
