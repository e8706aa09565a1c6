"""The check every session store's lock must pass: while one holder has a session's lock,
a second contender (another thread or task, or another client of the same store) waits,
and gets in once the first lets go. The checks are the public store contract's."""

from __future__ import annotations

from authonomy_integrations.testing.store_contract import (
    HELD_WINDOW,
    assert_alock_serializes,
    assert_lock_serializes,
)

__all__ = ["HELD_WINDOW", "PATIENCE", "assert_alock_serializes", "assert_lock_serializes"]

#: How long anything that should happen may take before the test gives up.
PATIENCE = 10.0
