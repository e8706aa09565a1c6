"""The layers of ARCHITECTURE.md, checked on every module's imports (parsed with ``ast``,
``TYPE_CHECKING`` imports included): the core does no I/O and knows no framework, store,
runtime or adapter; adapters only translate, each its own framework; stores and runtimes
know no adapter; the sandbox is a separate implementation of Authonomy's side.

A rule names the layers a module may not reach, so a new module of a layer (or a new
adapter package) is held to the rules of its layer as soon as it exists.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import pytest

import authonomy_integrations

PACKAGE = Path(authonomy_integrations.__file__).parent
ROOT = "authonomy_integrations"

#: Each adapter package and the frameworks it translates.
ADAPTERS = {
    "starlette": {"starlette", "fastapi"},
    "flask": {"flask", "werkzeug"},
    "django": {"django", "rest_framework", "asgiref"},
    "quart": {"quart", "werkzeug"},
    "litestar": {"litestar"},
}
#: Every web framework or server the kit knows, and those it may support next.
FRAMEWORKS = {name for names in ADAPTERS.values() for name in names} | {
    "litestar",
    "quart",
    "uvicorn",
    "waitress",
}
#: What drives core flows with I/O attached.
RUNTIMES = {"_runtime", "_drivers", "_store_effects", "_transport", "_client", "_observability"}
#: Third-party packages the core may use: none of them does I/O.
CORE_LIBRARIES = {"jwt", "cryptography"}
#: The parts of the kit the core may use: itself, its errors, its configuration (values).
CORE_PARTS = {"_core", "_errors", "_config"}
#: The core modules written for adapters; the engine's parts stay behind them.
ADAPTER_FACING = {"caller", "effects", "guarding", "routes", "serving", "user", "web"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The absolute names an ``import from`` reaches (``from . import x`` reaches ``x``)."""
    if node.level == 0:
        return [node.module or ""]
    parts = module.split(".") if is_package else module.split(".")[:-1]
    base = ".".join(parts[: len(parts) - node.level + 1])
    if node.module:
        return [f"{base}.{node.module}"]
    return [f"{base}.{alias.name}" for alias in node.names]


@cache
def imports() -> dict[str, frozenset[str]]:
    """Every module of the kit and the absolute names of what it imports."""
    found: dict[str, frozenset[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                names.update(_resolve(node, module, path.name == "__init__.py"))
        found[module] = frozenset(names)
    return found


def part(module: str) -> str:
    """The kit's part a module of the kit belongs to: ``_core``, ``stores``,
    ``_runtime``, ``starlette`` (the adapter) ..."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ROOT


def modules_of(*parts: str) -> list[str]:
    """The kit's modules in any of ``parts``."""
    return [module for module in imports() if part(module) in parts and module != ROOT]


def parts_reached(module: str) -> set[str]:
    """The other parts of the kit ``module`` imports."""
    names = imports()[module]
    return {part(name) for name in names if name.split(".")[0] == ROOT} - {part(module)}


def outside(module: str) -> set[str]:
    """The third-party packages ``module`` imports."""
    tops = {name.split(".")[0] for name in imports()[module]}
    return tops - {ROOT, "__future__"} - set(sys.stdlib_module_names)


def _breaking(
    modules: Iterable[str], parts: Iterable[str] = (), libraries: Iterable[str] = ()
) -> dict[str, set[str]]:
    """The modules that reach any of ``parts`` of the kit or of the third-party
    ``libraries``, with what they reach."""
    found = {
        module: (parts_reached(module) & set(parts)) | (outside(module) & set(libraries))
        for module in modules
    }
    return {module: names for module, names in found.items() if names}


def test_imports_are_resolved_to_the_kit_s_parts() -> None:
    core = imports()["authonomy_integrations._core.engine"]
    assert "authonomy_integrations._config" in core
    assert part("authonomy_integrations.stores._redis") == "stores"
    assert parts_reached("authonomy_integrations._runtime") >= {"_core", "stores"}
    assert "httpx" in outside("authonomy_integrations._runtime")
    assert outside("authonomy_integrations.starlette._middleware") == {"starlette"}
    assert len(modules_of("_core")) > 30 and len(modules_of(*ADAPTERS)) >= 15


def test_the_core_uses_only_itself_its_errors_its_config_and_io_free_libraries() -> None:
    found = {
        module: (parts_reached(module) - CORE_PARTS) | (outside(module) - CORE_LIBRARIES)
        for module in modules_of("_core")
    }
    assert {module: names for module, names in found.items() if names} == {}


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_an_adapter_imports_its_own_framework_and_no_other_adapter(adapter: str) -> None:
    other_frameworks = FRAMEWORKS - ADAPTERS[adapter]
    other_adapters = set(ADAPTERS) - {adapter}
    assert _breaking(modules_of(adapter), other_adapters, other_frameworks) == {}


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_an_adapter_reaches_the_core_through_its_adapter_facing_modules_only(
    adapter: str,
) -> None:
    engine_parts = {
        (module, name)
        for module in modules_of(adapter)
        for name in imports()[module]
        if part(name) == "_core"
        and name.split(".")[2:3] not in ([], *[[f] for f in ADAPTER_FACING])
    }
    assert engine_parts == set()
    # Nor through the runtime: no adapter reads ``runtime.engine`` and its caches.
    assert _attributes_read(modules_of(adapter), "engine") == []


def _attributes_read(modules: Iterable[str], attribute: str) -> list[str]:
    found = []
    for module in modules:
        path = _path_of(module)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr == attribute:
                found.append(f"{module}:{node.lineno}")
    return found


def _path_of(module: str) -> Path:
    relative = Path(*module.split(".")[1:])
    package = PACKAGE / relative / "__init__.py"
    return package if package.exists() else (PACKAGE / relative).with_suffix(".py")


def test_adapters_do_not_drive_stores_or_flows_themselves() -> None:
    forbidden = {"stores", "_drivers", "_store_effects", "_transport"}
    assert _breaking(modules_of(*ADAPTERS), forbidden) == {}


def test_only_adapters_and_the_sandbox_import_a_web_framework() -> None:
    rest = [m for m in imports() if part(m) not in {*ADAPTERS, "sandbox"}]
    assert _breaking(rest, libraries=FRAMEWORKS) == {}


def test_stores_know_no_adapter_runtime_receiver_or_sandbox() -> None:
    forbidden = {*ADAPTERS, *RUNTIMES, "webhooks", "sandbox", "testing"}
    assert _breaking(modules_of("stores"), forbidden) == {}


def test_runtimes_know_no_adapter() -> None:
    runtimes = modules_of(*RUNTIMES)
    assert _breaking(runtimes, {*ADAPTERS, "sandbox", "testing"}, FRAMEWORKS) == {}


#: What the sandbox may share with the core: the grammar of ``app_url`` (which origins
#: and tenant hosts a configuration names), one parser for what both sides accept.
SANDBOX_SHARES = {"origins"}


def test_the_sandbox_shares_no_code_with_the_side_it_tests() -> None:
    """The sandbox implements Authonomy; if it used the kit's core, a bug there would be
    on both sides of every test and pass."""
    forbidden = {*RUNTIMES, "stores", *ADAPTERS, "testing"}
    assert _breaking(modules_of("sandbox"), forbidden) == {}
    shared = {
        (module, name)
        for module in modules_of("sandbox")
        for name in imports()[module]
        if part(name) == "_core" and name.split(".")[2:3] not in ([f] for f in SANDBOX_SHARES)
    }
    assert shared == set()


def test_io_libraries_stay_at_the_edges() -> None:
    """HTTP calls belong to the runtimes, the API client, the sandbox and test helpers;
    Redis to the stores."""
    http = [m for m in imports() if part(m) not in {*RUNTIMES, "sandbox", "testing"}]
    assert _breaking(http, libraries={"httpx"}) == {}
    redis = [m for m in imports() if part(m) != "stores"]
    assert _breaking(redis, libraries={"redis"}) == {}


def test_every_adapter_package_is_known_here() -> None:
    """A new adapter package is held to these rules once it is listed in ADAPTERS."""
    importing_frameworks = {
        part(m)
        for m in imports()
        if outside(m) & (FRAMEWORKS - {"uvicorn"}) and part(m) != "sandbox"
    }
    assert importing_frameworks == set(ADAPTERS)
