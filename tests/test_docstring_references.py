"""Docstrings stay true to the code they name: every Sphinx cross-reference in the kit
(``:class:``, ``:func:``, ``:meth:``, ``:mod:`` ...) resolves to a module or object that
exists, so a rename or a move cannot leave a docstring pointing at nothing."""

from __future__ import annotations

import builtins
import importlib
import re
from pathlib import Path
from types import ModuleType

import pytest

import authonomy_integrations

PACKAGE = Path(authonomy_integrations.__file__).parent
REFERENCE = re.compile(r":(?:mod|class|func|meth|data|attr|exc|obj):`~?([^`<>]+?)`")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(target: str, module: str, is_package: bool) -> str:
    """``.x`` and ``..x`` relative to ``module``'s package, as imports read them."""
    level = len(target) - len(target.lstrip("."))
    if not level:
        return target
    parts = module.split(".") if is_package else module.split(".")[:-1]
    base = parts[: len(parts) - level + 1]
    rest = target[level:]
    return ".".join([*base, rest] if rest else base)


def _lookup(root: object, names: list[str]) -> bool:
    for name in names:
        if not hasattr(root, name):
            return False
        root = getattr(root, name)
    return True


def _member_here(home: ModuleType, pieces: list[str]) -> bool:
    """``known`` in a class's docstrings names a member of that class (perhaps one set on
    ``self``); ``AuthonomyMiddleware`` in an adapter's module, what its package exports."""
    classes = [value for value in vars(home).values() if isinstance(value, type)]
    if any(_lookup(cls, pieces) for cls in classes):
        return True
    source = Path(home.__file__ or "").read_text()
    if re.search(rf"self\.{re.escape(pieces[-1])}\s*[:=]", source):
        return True
    package = importlib.import_module(home.__name__.rpartition(".")[0] or home.__name__)
    return pieces[0] in getattr(package, "__all__", ()) and _lookup(package, pieces)


def _resolves(target: str, home: ModuleType, is_package: bool) -> bool:
    name = _absolute(target, home.__name__, is_package)
    pieces = name.split(".")
    if _lookup(home, pieces) or _lookup(builtins, pieces):
        return True
    if not target.startswith(".") and _member_here(home, pieces):
        return True
    for cut in range(len(pieces), 0, -1):
        try:
            module = importlib.import_module(".".join(pieces[:cut]))
        except ImportError:
            continue
        return _lookup(module, pieces[cut:])
    return False


def _references() -> list[tuple[str, str, bool]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for target in REFERENCE.findall(path.read_text()):
            found.append((module, target, path.name == "__init__.py"))
    return found


def test_references_are_found() -> None:
    assert len(_references()) > 100


@pytest.mark.parametrize(
    "module", sorted({module for module, _, _ in _references()}), ids=lambda m: m[23:] or m
)
def test_every_docstring_reference_resolves(module: str) -> None:
    home = importlib.import_module(module)
    broken = [
        target
        for name, target, is_package in _references()
        if name == module and not _resolves(target, home, is_package)
    ]
    assert broken == []
