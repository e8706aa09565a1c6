"""What FastAPI's OpenAPI document learns from the kit's guards used as dependencies.

FastAPI puts a security scheme in ``components.securitySchemes`` and a ``security``
requirement on an operation when a ``fastapi.security`` class is in the operation's
dependency tree, with the scopes of the ``Security(...)`` that leads to it. So each guard,
seen by FastAPI, takes one more parameter: an ``HTTPBearer(auto_error=False)`` declared
through ``Security(..., scopes=[...])``. It only documents: with ``auto_error=False`` it
never refuses a request, and the kit's own check still decides. Plain Starlette apps have
no FastAPI; then the guard's dependency is left as it is.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import HTTPConnection

__all__ = ["BEARER_PARAMETER", "with_security"]

#: The parameter FastAPI fills with the bearer scheme's (unused) credentials.
BEARER_PARAMETER = "authonomy_bearer"
#: The scheme's name in ``components.securitySchemes``.
_SCHEME = "AuthonomyBearer"

Dependency = Callable[[HTTPConnection], Awaitable[Any]]


def _security_parameter(scopes: tuple[str, ...]) -> inspect.Parameter | None:
    """``authonomy_bearer = Security(HTTPBearer(auto_error=False), scopes=[...])``, or
    ``None`` without FastAPI."""
    if importlib.util.find_spec("fastapi") is None:
        return None
    from fastapi import Security
    from fastapi.security import HTTPBearer

    class DocumentedBearer(HTTPBearer):
        """The bearer scheme as the document shows it; it reads nothing (the kit's
        check decides), so it takes a WebSocket as well as a request, which FastAPI's
        own ``HTTPBearer`` does not on every version the kit supports."""

        async def __call__(self, request: HTTPConnection) -> None:
            return None

    # Evaluated here: FastAPI before 0.124 cannot resolve an instance's text annotations.
    DocumentedBearer.__call__.__annotations__ = {"request": HTTPConnection, "return": None}
    scheme = DocumentedBearer(
        auto_error=False,
        scheme_name=_SCHEME,
        description="An Authonomy access token (the sandbox issues them for tests).",
    )
    return inspect.Parameter(
        BEARER_PARAMETER,
        inspect.Parameter.KEYWORD_ONLY,
        default=Security(scheme, scopes=list(scopes)),
        annotation=Any,
    )


def with_security(
    dependency: Dependency, scopes: tuple[str, ...] = (), *, name: str | None = None
) -> Callable[..., Any]:
    """``dependency`` as FastAPI should see it: with the bearer scheme and ``scopes``
    declared, so the operation shows a lock; ``dependency`` itself without FastAPI.
    ``name``: the public name of the result, when not the dependency's."""
    parameter = _security_parameter(scopes)
    if parameter is None:
        return dependency

    async def documented(request: HTTPConnection, **_security: Any) -> Any:
        return await dependency(request)

    request = inspect.Parameter(
        "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=HTTPConnection
    )
    documented.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [request, parameter], return_annotation=inspect.Signature.empty
    )
    # Named as the dependency (not ``functools.wraps``: FastAPI would follow
    # ``__wrapped__`` back to the undocumented signature).
    for attribute in ("__name__", "__qualname__", "__doc__", "__module__"):
        setattr(documented, attribute, getattr(dependency, attribute, None))
    if name is not None:
        documented.__name__ = documented.__qualname__ = name
    return documented
