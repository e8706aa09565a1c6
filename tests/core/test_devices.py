"""What a session listing shows of a device: a network prefix, never the whole address;
a cut-short, printable ``User-Agent``; an opaque handle per session."""

from __future__ import annotations

import pytest

from authonomy_integrations._core.devices import device_of, handle_key, ip_prefix, session_handle


@pytest.mark.parametrize(
    ("address", "prefix"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"),
        ("::ffff:10.1.2.3", "10.1.2.0/24"),
        ("not an address", None),
        ("", None),
        (None, None),
    ],
)
def test_an_address_shows_only_as_its_network(address: str | None, prefix: str | None) -> None:
    assert ip_prefix(address) == prefix


def test_user_agent_is_printable_and_cut_short() -> None:
    agent, prefix = device_of({"user-agent": "Evil\r\nSet-Cookie: x" + "A" * 500}, "10.0.0.9")
    assert agent is not None and len(agent) == 200 and "\r" not in agent and "\n" not in agent
    assert prefix == "10.0.0.0/24"
    assert device_of({}, None) == (None, None)


def test_handles_are_stable_per_secret_and_reveal_nothing() -> None:
    session_id = "a" * 43
    key = handle_key("s" * 40)
    handle = session_handle(key, session_id)
    assert handle == session_handle(handle_key("s" * 40), session_id)  # every worker alike
    assert handle != session_handle(handle_key("t" * 40), session_id)
    assert len(handle) == 22 and session_id not in handle
