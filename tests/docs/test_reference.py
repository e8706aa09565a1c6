"""Every public name has its entry in the API reference (``docs/reference/``).

The public names are those of the public modules' ``__all__`` (the modules
``tests/test_exported_members.py`` lists, whose ``API_NAMES`` are the names the API
promises). The pages render modules with mkdocstrings, which reads the source without
running it and leaves out a name that has no docstring there. So a name counts as
documented when a page renders its module and griffe (mkdocstrings' reader) finds a
docstring for it there, or when a page renders the name itself.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path

import griffe
import pytest

from tests.test_exported_members import API_NAMES, PUBLIC_MODULES

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
PACKAGE = "authonomy_integrations"

#: The reference page of each public module.
PAGES = {
    PACKAGE: "top-level.md",
    f"{PACKAGE}.starlette": "starlette.md",
    f"{PACKAGE}.flask": "flask.md",
    f"{PACKAGE}.django": "django.md",
    f"{PACKAGE}.django.rest_framework": "django-rest-framework.md",
    f"{PACKAGE}.litestar": "litestar.md",
    f"{PACKAGE}.quart": "quart.md",
    f"{PACKAGE}.webhooks": "webhooks.md",
    f"{PACKAGE}.stores": "stores.md",
    f"{PACKAGE}.sandbox": "sandbox.md",
    f"{PACKAGE}.testing": "testing.md",
    f"{PACKAGE}.testing.store_contract": "testing.md",
}
#: ``::: path`` and its indented options.
DIRECTIVE = re.compile(r"^::: ([\w.]+)\n((?:    .*\n)*)", re.MULTILINE)


@cache
def _package() -> griffe.Object | griffe.Alias:
    return griffe.load(PACKAGE, search_paths=[str(ROOT / "src")], resolve_aliases=True)


def _directives(page: str) -> dict[str, str]:
    """The objects ``page`` renders, each with its options' text."""
    text = (REFERENCE / page).read_text()
    return {path: options for path, options in DIRECTIVE.findall(text)}


def _has_source_docstring(module: str, name: str) -> bool:
    try:
        member = _package()[f"{module.removeprefix(PACKAGE).lstrip('.')}.{name}".lstrip(".")]
    except (KeyError, griffe.AliasResolutionError):
        return False
    try:
        return member.docstring is not None and bool(member.docstring.value.strip())
    except griffe.AliasResolutionError:
        return False


def _documented(module: str, name: str) -> bool:
    directives = _directives(PAGES[module])
    if any(path.rsplit(".", 1)[-1] == name for path in directives):
        return True  # the page renders the object itself
    options = directives.get(module)
    if options is None or "members: false" in options:
        return False
    return _has_source_docstring(module, name)


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_module_has_a_reference_page(module: str) -> None:
    assert module in PAGES, f"add a reference page for {module} to PAGES and docs/reference"
    assert (REFERENCE / PAGES[module]).is_file()


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_name_is_in_the_reference(module: str) -> None:
    exported = importlib.import_module(module).__all__
    missing = [name for name in exported if not _documented(module, name)]
    assert not missing, f"{module}: not rendered by docs/reference/{PAGES[module]}: {missing}"


def test_the_names_the_api_promises_are_among_those_checked() -> None:
    checked = {(m, n) for m in PUBLIC_MODULES for n in importlib.import_module(m).__all__}
    promised = {(m, n) for m, names in API_NAMES.items() for n in names}
    assert promised <= checked


def test_a_name_without_a_source_docstring_is_not_documented() -> None:
    # What mkdocstrings would leave out: a module-level name whose docstring is set at
    # run time only. ``_ORIGINAL_DOC`` style constants have no docstring at all.
    assert not _has_source_docstring(f"{PACKAGE}.webhooks", "DEFAULT_NOT_A_NAME")
    assert _has_source_docstring(f"{PACKAGE}.starlette", "require_policy")


def test_every_page_is_listed_in_the_index() -> None:
    index = (REFERENCE / "index.md").read_text()
    for page in set(PAGES.values()):
        assert f"]({page})" in index, page
