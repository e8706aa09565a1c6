"""Strict JSON for signed texts (tokens, webhook bodies): every parser must read one value.

A member sent twice is read as the first by some parsers and the last by others, so a
signed text could mean two things (RFC 7515 section 4, RFC 8259 section 4): it is
refused. ``NaN`` and ``Infinity`` are not JSON either (``exp: Infinity`` would never
expire): refused too.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["STRICT_JSON"]


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member")
    return obj


def _no_constants(name: str) -> Any:
    raise ValueError(f"invalid number {name}")


#: The decoder: ``STRICT_JSON.decode(text)`` raises ``ValueError`` for anything refused.
STRICT_JSON = json.JSONDecoder(object_pairs_hook=_unique_members, parse_constant=_no_constants)
