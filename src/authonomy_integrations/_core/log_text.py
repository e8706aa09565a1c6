"""Text from a request, made safe for one log line and one event field.

A callback's ``error``, a ``next`` path, a user agent, a webhook's id or type: any of it
may carry CR, LF or other control characters. Written as they are, they would end the
event's log line and start a forged one (``login.completed user=...``) in whatever reads
the log. :func:`clean` writes each such character as a visible escape instead, and
:func:`field_value` quotes a value with spaces so the line's ``key=value`` pairs stay
unambiguous.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["clean", "clean_value", "field_value"]

#: C0 and C1 controls, DEL, and the Unicode line and paragraph separators: everything a
#: log reader or terminal may take as the end of a line or a command.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: What makes a ``key=value`` field's value need quotes.
_NEEDS_QUOTES = re.compile(r'[\s"=]')


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x0a``)."""
    if _UNSAFE.search(text) is None:  # the usual case: no copy
        return text
    return _UNSAFE.sub(_escape, text)


def clean_value(value: Any) -> Any:
    """An event field's value, its text cleaned (in tuples and lists too)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, tuple | list | frozenset | set):
        return type(value)(clean_value(item) for item in value)
    return value


def field_value(value: Any) -> str:
    """A field's value as the log line writes it: quoted (``"a b"``) when it holds
    whitespace, quotes or ``=``, so no value can pose as another field. Inside the quotes
    a ``"`` is written ``\\x22`` and a final backslash ``\\x5c``: no ``\\"`` ever
    appears, so a reader cannot be made to run a value past its closing quote."""
    text = clean(str(value))
    if _NEEDS_QUOTES.search(text) is None:
        return text
    text = text.replace('"', "\\x22")
    if text.endswith("\\"):
        text = text[:-1] + "\\x5c"
    return f'"{text}"'
