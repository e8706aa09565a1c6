"""Each adapter's lines of code, all of its files counted (docstrings, comments and blank
lines are not): what is the same in every adapter lives in the core, so a change that
moves a decision back into an adapter shows up here as lines. The budgets are today's
sizes with a little room; ARCHITECTURE.md lists them. Lower one when an adapter shrinks."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

import authonomy_integrations

from .test_layering import ADAPTERS

PACKAGE = Path(authonomy_integrations.__file__).parent
#: Lines of code each adapter package may have, every file in it counted.
BUDGETS = {
    "django": 480,  # WSGI and ASGI, blocking and async views, Django REST framework
    "flask": 360,  # an extension, a WSGI layer, a request context proxy
    "starlette": 550,  # pure ASGI middleware, guards and FastAPI dependencies
    "quart": 345,  # an extension, an ASGI layer, a request and WebSocket context proxy
    "litestar": 350,  # a plugin, route middleware, guards, the user dependency
}
SKIPPED = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}


def _docstring_lines(tree: ast.Module) -> set[int]:
    """Lines of string statements: docstrings of modules, classes, functions, attributes."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def code_lines(source: str) -> int:
    """Lines holding code: no blank lines, comments or docstrings."""
    docs = _docstring_lines(ast.parse(source))
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in SKIPPED:
            lines.update(n for n in range(token.start[0], token.end[0] + 1) if n not in docs)
    return len(lines)


def test_code_lines_skip_docstrings_comments_and_blank_lines() -> None:
    source = (
        '"""Module."""\n\n# why\n'
        'def f(x):\n    """Doc\n    more."""\n    return (x +\n        1)  # why\n'
    )
    assert code_lines(source) == 3


def adapter_lines(adapter: str) -> dict[str, int]:
    """Lines of code of each file of an adapter package, its subpackages included."""
    root = PACKAGE / adapter
    return {
        str(path.relative_to(root)): code_lines(path.read_text())
        for path in sorted(root.rglob("*.py"))
    }


@pytest.mark.parametrize("adapter", sorted(BUDGETS))
def test_adapter_stays_within_its_budget(adapter: str) -> None:
    counts = adapter_lines(adapter)
    assert sum(counts.values()) <= BUDGETS[adapter], counts


def test_every_adapter_has_a_budget() -> None:
    assert set(BUDGETS) == set(ADAPTERS)


def test_every_file_of_an_adapter_counts() -> None:
    assert "rest_framework.py" in adapter_lines("django")
    assert "apps.py" in adapter_lines("django")
    assert len(adapter_lines("starlette")) >= 5
