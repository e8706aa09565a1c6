"""Checks that the optional dependencies a part of the kit needs are installed."""

from __future__ import annotations

import importlib.util

from ._errors import MissingExtraError

__all__ = ["require_extra"]


def require_extra(part: str, extra: str, *modules: str | tuple[str, ...]) -> None:
    """Raise :class:`MissingExtraError` naming ``extra`` unless every module is importable.

    A tuple lists alternative names of one package (``python_multipart`` / ``multipart``).
    """
    for module in modules:
        names = (module,) if isinstance(module, str) else module
        if not any(_installed(name) for name in names):
            raise MissingExtraError(part, names[0], extra)


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package missing, or a blocked module
        return False
