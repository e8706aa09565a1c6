"""The ``authonomy-sandbox`` command, as a user without the sandbox's extra meets it.

The command's code lives in ``sandbox/__main__.py``, whose package checks its optional
dependencies on import. Reached from here, a missing one is a single line naming the
extra to install, not a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._errors import MissingExtraError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``authonomy-sandbox`` console script."""
    try:
        from .sandbox.__main__ import main as run_sandbox
    except MissingExtraError as exc:
        sys.exit(f"authonomy-sandbox: {exc}")
    run_sandbox(argv)
