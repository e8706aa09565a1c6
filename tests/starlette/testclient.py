"""Starlette's ``TestClient``, imported without its warning about the httpx package.

Starlette 1.10 asks for ``httpx2`` behind its test client and warns when it falls back
to ``httpx``, which the kit's development extras install; the client works the same.
"""

from __future__ import annotations

import warnings

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        message=r"Using `httpx` with `starlette.testclient`",
        category=StarletteDeprecationWarning,
    )
    from starlette.testclient import TestClient

__all__ = ["TestClient"]
