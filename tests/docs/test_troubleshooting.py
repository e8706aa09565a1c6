"""The troubleshooting page lists every error message a user can meet.

The messages are collected from the source by ``ast``: the kit's exceptions (with the
``RuntimeError``, ``TypeError`` and ``ValueError`` of a wrong set-up or a bad argument),
what is logged at WARNING or above, Django's system checks, the sandbox command's exits
and the texts of the ``*_problem`` helpers that feed them. Each fixed part of each message
must appear on the page, so a new message without an entry fails here. So must every error
code the kit answers with, every exception's ``code``, every Django check id, and every
event logged at WARNING or above with its reasons.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import authonomy_integrations as kit
from authonomy_integrations._core import events

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "authonomy_integrations"
PAGE = ROOT / "docs" / "troubleshooting.md"

#: Exceptions whose messages a user reads: the kit's tree, plus the framework-bound ones.
RAISED = {
    *(name for name in kit.__all__ if name.endswith("Error")),
    "AuthonomyImproperlyConfigured",
    "LoginAsError",
    "RuntimeError",
    "TimeoutError",
    "TypeError",
    "ValueError",
}
#: Where the built-in errors below are the kit's own, caught before any user sees them (a
#: malformed key, JSON, cookie or stored record becomes a refusal or a miss; a lock's
#: timeout becomes a 503) or given only the kit's own values (cache and history sizes).
CAUGHT_INSIDE = {
    "_core/crypto.py",
    "_core/keys.py",
    "_core/login.py",
    "_core/sessions.py",
    "_core/strict_json.py",
    "_core/token_cache.py",
    "sandbox/_activity.py",
    "stores/_base.py",
}
BUILT_IN = {"TimeoutError", "TypeError", "ValueError"}
LOG_LEVELS = {"warning", "error", "exception", "critical"}
#: Functions whose returned texts become messages (a configuration or condition problem),
#: matched against ``file::function``.
MESSAGE_HELPERS = re.compile(
    r"_problem$|::_describe_error$|^_core/conditions\.py::(_bad_.*|_names)$"
)
#: A call of one of them passes its text on (it is collected at the helper).
HELPER_CALLS = re.compile(r"_problem$|^_describe_error$|^_bad_|^_names$")
#: Exceptions that build their message in ``_errors.py`` from the values they are given.
TEMPLATED = {
    "MissingExtraError",
    "PayloadTooLargeError",
    "PolicyUnavailableError",
    "PolicyViolationError",
}
#: Files whose errors never reach a user: the store contract's own test doubles.
NOT_USER_FACING = {"testing/store_contract.py"}
#: Message arguments that pass on the text of an error collected where it was raised.
PASSED_ON = {"exc.reason", "exc.message"}
#: Calls that hand on a helper's answer: ``_VALIDATORS[name]`` (all ``_bad_*``) and the
#: first of several helpers' answers (``next(...)``).
DISPATCHED = {"validator", "next"}
PLACEHOLDER = "\0"
FORMAT_FIELD = re.compile(r"%[srd]")


def _called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _templates(node: ast.AST, names: dict[str, ast.AST], depth: int = 0) -> list[str] | None:
    """The message ``node`` builds, variable parts as :data:`PLACEHOLDER`; ``None`` when
    it is not built here."""
    if depth > 4:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        fixed = (v.value if isinstance(v, ast.Constant) else PLACEHOLDER for v in node.values)
        return ["".join(str(part) for part in fixed)]
    if isinstance(node, ast.IfExp):
        # ``None if fine else "problem"``: a helper's answer when there is no problem.
        if isinstance(node.body, ast.Constant) and node.body.value is None:
            return _templates(node.orelse, names, depth + 1)
        body = _templates(node.body, names, depth + 1)
        orelse = _templates(node.orelse, names, depth + 1)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = _templates(node.left, names, depth + 1)
        right = _templates(node.right, names, depth + 1)
        return None if left is None or right is None else ["".join(left) + "".join(right)]
    if isinstance(node, ast.Name) and node.id in names:
        return _templates(names[node.id], names, depth + 1)
    return None


def _module_names(tree: ast.Module) -> dict[str, ast.AST]:
    names: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                names[target.id] = node.value
    return names


def _message_argument(node: ast.Call, where: str) -> ast.AST | None:
    """The argument of ``node`` that holds a user-facing message, if it makes one."""
    name = _called_name(node)
    if not node.args or name in TEMPLATED:
        return None
    if name in BUILT_IN and where in CAUGHT_INSIDE:
        return None
    if name == "ConfigurationError" or name == "AuthonomyImproperlyConfigured":
        return node.args[1] if len(node.args) > 1 else None
    if name in RAISED or name in ("Error", "Warning", "exit"):
        return node.args[0]
    receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
    if name in LOG_LEVELS and receiver is not None and "log" in ast.unparse(receiver).lower():
        return node.args[0]
    return None


def _scopes(tree: ast.Module) -> Iterator[tuple[ast.AST, dict[str, ast.AST]]]:
    """The module and each function in it, with the names assigned there (a function's
    own names over the module's)."""
    module = _module_names(tree)
    yield tree, module
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            local = dict(module)
            for inner in ast.walk(node):
                if isinstance(inner, ast.Assign) and len(inner.targets) == 1:
                    target = inner.targets[0]
                    if isinstance(target, ast.Name):
                        local[target.id] = inner.value
            yield node, local


def _arguments(scope: ast.AST, where: str) -> Iterator[ast.AST]:
    """The message arguments made directly in ``scope`` (not in a function inside it)."""
    helper = isinstance(scope, ast.FunctionDef) and bool(
        MESSAGE_HELPERS.search(f"{where}::{scope.name}")
    )
    for node in _own_nodes(scope):
        if isinstance(node, ast.Call):
            argument = _message_argument(node, where)
            if argument is not None:
                yield argument
        if isinstance(node, ast.Return) and node.value is not None and helper:
            yield node.value
        if where == "_errors.py" and _is_template_init(node):
            # ``super().__init__(f"...")``: an exception class's own message shape.
            assert isinstance(node, ast.Call)
            yield node.args[0]


def _is_template_init(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and _called_name(node) == "__init__"
        and bool(node.args)
        and isinstance(node.args[0], ast.JoinedStr)
    )


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    pending = list(ast.iter_child_nodes(scope))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        yield node
        pending.extend(ast.iter_child_nodes(node))


def collect() -> tuple[dict[str, list[str]], list[str]]:
    """Every message template by where it is made, and arguments that could not be read."""
    found: dict[str, list[str]] = {}
    unread: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if where in NOT_USER_FACING:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for scope, names in _scopes(tree):
            for argument in _arguments(scope, where):
                templates = _templates(argument, names)
                line = getattr(argument, "lineno", 0)
                if templates is not None:
                    found.setdefault(f"{where}:{line}", []).extend(templates)
                elif not _is_passed_on(argument, names):
                    unread.append(f"{where}:{line}: {ast.unparse(argument)}")
    return found, unread


def _is_passed_on(node: ast.AST, names: dict[str, ast.AST]) -> bool:
    # ``str(exc)``, a helper's answer (collected at the helper) and ``None`` (a helper
    # saying "no problem") carry no text of their own.
    if ast.unparse(node) in PASSED_ON or (isinstance(node, ast.Constant) and node.value is None):
        return True
    if isinstance(node, ast.Name) and node.id in names:
        node = names[node.id]
    if not isinstance(node, ast.Call):
        return False
    name = _called_name(node) or ""
    return name == "str" or name in DISPATCHED or bool(HELPER_CALLS.search(name))


def fragments(template: str) -> list[str]:
    """The fixed parts of ``template`` worth finding on the page."""
    pieces = FORMAT_FIELD.sub(PLACEHOLDER, template).split(PLACEHOLDER)
    stripped = (" ".join(piece.split()).strip(" :;,.()'\"") for piece in pieces)
    return [piece for piece in stripped if len(piece) >= 3]


def page_text() -> str:
    return " ".join(PAGE.read_text().split())


def test_every_message_has_an_entry() -> None:
    found, _ = collect()
    text = page_text()
    missing = {
        where: fragment
        for where, templates in found.items()
        for template in templates
        for fragment in fragments(template)
        if fragment not in text
    }
    assert not missing, f"messages without an entry in docs/troubleshooting.md: {missing}"


def test_every_message_is_read_from_the_source() -> None:
    # A message built in a way the collector cannot read would escape the first test.
    _, unread = collect()
    assert not unread, f"teach tests/docs/test_troubleshooting.py to read: {unread}"


def test_collector_finds_the_messages_it_is_meant_to() -> None:
    found, _ = collect()
    everything = [t for templates in found.values() for t in templates]
    assert len(everything) > 150
    assert any("must be an origin without a path" in t for t in everything)
    assert any(t.startswith("AuthonomyMiddleware cannot start") for t in everything)
    assert any("is not in MIDDLEWARE" in t for t in everything)
    assert any(t.startswith("authonomy-sandbox: --app-url") for t in everything)


def test_fragments_ignore_the_variable_parts() -> None:
    assert fragments(f"unknown environment {PLACEHOLDER}; use one of {PLACEHOLDER}") == [
        "unknown environment",
        "use one of",
    ]
    assert fragments("logout answered 503: %s") == ["logout answered 503"]


def test_every_error_code_has_an_entry() -> None:
    text = page_text()
    codes = {getattr(kit, name).code for name in kit.__all__ if name.endswith("Error")}
    codes |= set(_answered_codes())
    missing = sorted(code for code in codes if f"`{code}`" not in text)
    assert not missing, f"error codes without an entry in docs/troubleshooting.md: {missing}"


def _answered_codes() -> Iterator[str]:
    """The codes of the error envelopes the kit's routes and guards answer with."""
    for path in SRC.rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and _called_name(node) in ("error_envelope", "_failure"):
                for argument in node.args[:2]:
                    value = argument.value if isinstance(argument, ast.Constant) else None
                    if isinstance(value, str) and value.isupper():
                        yield value


def test_every_django_check_id_has_an_entry() -> None:
    text = page_text()
    source = (SRC / "django" / "apps.py").read_text()
    ids = set(re.findall(r'id="(authonomy\.[EW]\d{3})"', source))
    assert ids
    assert not {check for check in ids if check not in text}


def _level(node: ast.Call, event: str | None) -> int:
    """The level ``node`` reports at: its ``level=`` when it names one, else the event's
    usual level; a level chosen at run time counts as WARNING (it may be)."""
    for keyword in node.keywords:
        if keyword.arg == "level":
            named = ast.unparse(keyword.value).rsplit(".", 1)[-1]
            return int(getattr(logging, named, logging.WARNING))
    return events.AuthEvent(event).level if event is not None else logging.INFO


def warned_events() -> set[tuple[str | None, str | None]]:
    """``(event, reason)`` of every event reported at WARNING or above; ``None`` where
    the source chooses it at run time."""
    # Events whose usual level is WARNING, however they are emitted (some through helpers).
    found: set[tuple[str | None, str | None]] = {
        (name, None)
        for name in events.EVENT_NAMES
        if events.AuthEvent(name).level >= logging.WARNING
    }
    for path in SRC.rglob("*.py"):
        if "sandbox" in path.parts:
            continue  # the sandbox's own webhook events, not log lines of the kit
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and _called_name(node) == "emit" and node.args):
                continue
            constant = ast.unparse(node.args[0]).rsplit(".", 1)[-1]
            event = getattr(events, constant, None) if constant.isupper() else None
            if _level(node, event) < logging.WARNING:
                continue
            reason = node.args[1] if len(node.args) > 1 else None
            text = reason.value if isinstance(reason, ast.Constant) else None
            found.add((event, text if isinstance(text, str) else None))
    return found


def test_every_event_logged_as_a_warning_has_an_entry() -> None:
    text = page_text()
    missing = [
        (event, reason)
        for event, reason in warned_events()
        if (event is not None and f"`{event}`" not in text)
        or (reason is not None and f"`{reason}`" not in text)
    ]
    assert not missing, f"events at WARNING or above without an entry: {missing}"


def test_warned_events_are_found() -> None:
    found = warned_events()
    assert ("webhook.rejected", "replay_store_full") in found
    assert ("login.failed", "rate_limited") in found
    assert any(event == "refresh.failed" for event, _ in found)
