"""Text from requests in events and log lines: escaped control characters, quoted values."""

from __future__ import annotations

import logging

import pytest

from authonomy_integrations._core.events import AuthEvent, Events
from authonomy_integrations._core.log_text import clean, field_value


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("access_denied", "access_denied"),
        ("a\nb", "a\\x0ab"),
        ("a\r\nb", "a\\x0d\\x0ab"),
        ("\x1b[2J", "\\x1b[2J"),
        ("a\x85b\u2028c", "a\\x85b\\u2028c"),
        ("café", "café"),
    ],
)
def test_control_characters_are_written_as_escapes(text: str, escaped: str) -> None:
    assert clean(text) == escaped


def test_a_value_with_spaces_or_equals_is_one_quoted_word() -> None:
    assert field_value("plain") == "plain"
    assert field_value("x user=admin") == '"x user=admin"'
    assert field_value('say "hi"') == '"say \\x22hi\\x22"'
    assert field_value("ends with \\") == '"ends with \\x5c"'  # never a \" before the quote


def test_every_field_of_an_event_is_cleaned_for_every_sink(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hooked: list[AuthEvent] = []
    caplog.set_level(logging.INFO, "authonomy_integrations")
    Events(hook=hooked.append).emit(
        "login.failed",
        "access_denied\nlogin.completed",
        customer_id="acme\r\n",
        detail="x\nlogin.completed user=user_admin",
        failed=("a\nb",),
    )
    [event] = hooked
    assert event.reason == "access_denied\\x0alogin.completed"
    assert event.customer_id == "acme\\x0d\\x0a"
    assert event.fields == {
        "detail": "x\\x0alogin.completed user=user_admin",
        "failed": ("a\\x0ab",),
    }
    [line] = [r.getMessage() for r in caplog.records]
    assert "\n" not in line and "\r" not in line
    assert line.startswith("login.failed reason=access_denied\\x0alogin.completed ")
