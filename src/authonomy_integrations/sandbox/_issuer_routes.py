"""The issuer's discovery document and key set."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ._state import SandboxState

__all__ = ["issuer_routes"]


async def _jwks(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    return JSONResponse(state.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


async def _openid_configuration(request: Request) -> JSONResponse:
    state: SandboxState = request.app.state.sandbox
    issuer = state.issuer
    document = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [state.keys.algorithm],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "groups"],
        "claims_supported": [
            "iss", "aud", "sub", "customer_id", "email", "name", "groups", "scope",
            "amr", "auth_time", "sid", "iat", "nbf", "exp", "jti", "nonce",
        ],
        "authorization_response_iss_parameter_supported": True,
    }  # fmt: skip
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})


def issuer_routes() -> list[Route]:
    """``/.well-known/jwks.json`` and ``/.well-known/openid-configuration``."""
    return [
        Route("/.well-known/jwks.json", _jwks, methods=["GET"]),
        Route("/.well-known/openid-configuration", _openid_configuration, methods=["GET"]),
    ]
