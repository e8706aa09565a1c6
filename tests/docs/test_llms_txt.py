"""``docs/llms.txt`` (served at the site's root) names the whole public API.

It follows the llms.txt convention: a ``#`` title, a ``>`` summary, then ``##`` sections.
Each public module has its section, and that section names every name the module
exports, so a new public name without a line there fails here.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests.test_exported_members import API_NAMES, PUBLIC_MODULES

LLMS = Path(__file__).resolve().parents[2] / "docs" / "llms.txt"
HEADING = re.compile(r"^## (.+)$", re.MULTILINE)
LINK = re.compile(r"\]\(([^)]+)\)")


def sections() -> dict[str, str]:
    """Each ``##`` section's heading and text."""
    text = LLMS.read_text()
    parts = HEADING.split(text)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def module_section(module: str) -> str:
    matches = [body for heading, body in sections().items() if f"`{module}`" in heading]
    assert len(matches) == 1, f"llms.txt needs one section whose heading names `{module}`"
    return matches[0]


def names_in(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def test_follows_the_llms_txt_convention() -> None:
    lines = LLMS.read_text().splitlines()
    assert lines[0].startswith("# ")
    assert next(line for line in lines[1:] if line.strip()).startswith("> ")
    assert sections()


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_name_is_in_its_module_section(module: str) -> None:
    section = names_in(module_section(module))
    missing = [n for n in importlib.import_module(module).__all__ if n not in section]
    assert not missing, f"llms.txt, section of {module}, lacks {missing}"


def test_names_the_api_promises() -> None:
    for module, names in API_NAMES.items():
        assert set(names) <= names_in(module_section(module)), module


def test_links_point_at_pages_of_the_site() -> None:
    docs = LLMS.parent
    for target in LINK.findall(LLMS.read_text()):
        page = target.split("#", 1)[0].rstrip("/")
        assert not target.startswith(("http:", "https:")), target
        assert (docs / f"{page}.md").is_file() or (docs / page / "index.md").is_file(), target


def test_a_missing_name_is_noticed() -> None:
    assert "not_a_public_name" not in names_in(module_section("authonomy_integrations"))
