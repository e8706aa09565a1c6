"""The adapters only translate: who is calling is decided by ``core.caller`` alone, so no
adapter module reads the engine's caches (a change to caching touches the core only)."""

from __future__ import annotations

from pathlib import Path

import pytest

import authonomy_integrations

PACKAGE = Path(authonomy_integrations.__file__).parent
ADAPTER_MODULES = sorted(
    path for name in ("starlette", "flask", "django") for path in (PACKAGE / name).glob("*.py")
)
CACHES = ("bearer_cache", "recent_sessions", "cached_bearer", "cached_session", "fast_bearer")


@pytest.mark.parametrize("module", ADAPTER_MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_adapter_module_touches_an_engine_cache(module: Path) -> None:
    text = module.read_text()
    assert [name for name in CACHES if name in text] == []


def test_the_adapters_are_found() -> None:
    assert len(ADAPTER_MODULES) >= 15
