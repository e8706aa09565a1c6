"""The site builds strictly, and every sample of it is run by a test."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from mkdocs.commands.build import build
from mkdocs.config import load_config

from .samples import DOCS, ROOT, blocks, pages, python_blocks

#: ``make TARGET`` at the start of a shell line, and the kit's own commands.
_MAKE = re.compile(r"^\s*make\s+([\w-]+)", re.MULTILINE)
_KIT_SCRIPT = re.compile(r"^\s*(?:[A-Z_]+=\S+\s+)*(authonomy-[\w-]+)", re.MULTILINE)


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    # mkdocs raises an Abort listing the warnings when `strict` meets any.
    config = load_config(str(ROOT / "mkdocs.yml"), site_dir=str(tmp_path / "site"), strict=True)
    build(config)
    assert (tmp_path / "site" / "index.html").is_file()


def test_every_page_with_python_samples_has_its_test() -> None:
    tests = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    untested = [
        page
        for page in pages()
        if any(b.file is None for b in python_blocks(page)) and f'"{page}"' not in tests
    ]
    assert not untested, f"pages whose samples no test runs: {untested}"


def test_file_samples_are_run_by_a_newcomer_or_imported_on_their_page() -> None:
    for page in pages():
        code = [b for b in python_blocks(page)]
        for index, block in enumerate(code):
            if block.file is None or "newcomer" in block.markers:
                continue
            module = Path(block.file).stem
            later = "".join(b.code for b in code[index + 1 :])
            assert re.search(rf"\b(from|import) {module}\b", later), (page, block.file)


def test_commands_shown_in_the_docs_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, re.MULTILINE))
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for page in [*pages(), "../README.md"]:
        for block in blocks(DOCS / page):
            if block.lang not in {"sh", "bash", "console"}:
                continue
            for target in _MAKE.findall(block.code):
                assert target in targets, (page, f"make {target}")
            for script in _KIT_SCRIPT.findall(block.code):
                assert script in scripts, (page, script)
