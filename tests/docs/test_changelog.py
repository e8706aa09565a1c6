"""The changelog (``docs/changelog.md``) speaks to users, about the kit as it is.

It names the package's version, covers every public module, quotes only names that exist
and links only to pages that exist, and says nothing of how the kit is developed.
"""

from __future__ import annotations

import builtins
import importlib
import re
import tomllib
from pathlib import Path

import pytest

from tests.test_exported_members import PUBLIC_MODULES

ROOT = Path(__file__).resolve().parents[2]
CHANGELOG = ROOT / "docs" / "changelog.md"
#: Words of the development process, not of what users got.
INTERNAL = re.compile(
    r"\b(merge[ds]?|branch(es)?|worktrees?|refactor\w*|commits?|CI|issue #?\d+|"
    r"assistants? (wrote|made)|(?<!user )agents?)\b"
)
#: Class-like names quoted from the frameworks rather than from the kit.
FRAMEWORK_NAMES = {"AuthenticationMiddleware"}
CLASS_LIKE = re.compile(r"`([A-Z][a-z]+[A-Z][A-Za-z]*)`")
LINK = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)")


def text() -> str:
    return CHANGELOG.read_text()


def test_has_a_section_for_the_packages_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert text().startswith("# Changelog\n")
    assert re.search(rf"^## {re.escape(version)}\b", text(), re.MULTILINE)


def test_says_nothing_of_how_the_kit_is_developed() -> None:
    assert not INTERNAL.findall(text())


@pytest.mark.parametrize("module", [m for m in PUBLIC_MODULES if "." in m])
def test_covers_every_public_module(module: str) -> None:
    assert f"`{module}`" in text()


def test_quotes_only_names_that_exist() -> None:
    modules = [importlib.import_module(m) for m in PUBLIC_MODULES]
    unknown = [
        name
        for name in set(CLASS_LIKE.findall(text())) - FRAMEWORK_NAMES
        if not hasattr(builtins, name) and not any(hasattr(m, name) for m in modules)
    ]
    assert not unknown, f"the changelog names what the kit does not have: {unknown}"


def test_links_only_to_pages_that_exist() -> None:
    for target in LINK.findall(text()):
        assert (CHANGELOG.parent / target).is_file(), target


def test_flags_development_talk() -> None:
    assert INTERNAL.search("Merged the redis branch")
    assert INTERNAL.search("an agent wrote it")
    assert not INTERNAL.search("a user agent string")
