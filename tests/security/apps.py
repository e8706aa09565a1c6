"""The adapters the security tests run through: the registry's (:mod:`tests.adapters`).

Every test in this package takes an :class:`Adapter` and runs its scenario through it
(``adapter.serve(config_for, clock, seen)`` serves the adapter's small test app over real
HTTP), so an adapter added to the registry joins every scenario. The apps are
:mod:`tests.small_apps`; what they serve is listed there.
"""

from __future__ import annotations

from ..adapters import ADAPTERS, Adapter

__all__ = ["ADAPTERS", "Adapter"]
