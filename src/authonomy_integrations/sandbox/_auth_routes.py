"""``/v1/auth/*``: start a login, exchange a code, refresh, log out."""

from __future__ import annotations

from starlette.routing import Route

from . import _auth_flow as auth_flow
from ._api import Call, api_route
from ._envelope import ApiError, ApiReply
from ._return_urls import check_return_url
from ._state import SandboxState
from ._validation import (
    check_url,
    json_object,
    optional_int,
    optional_str,
    optional_str_list,
    required_str,
)

__all__ = ["auth_routes"]

_DEFAULT_SCOPES = ("openid", "profile", "email")


async def _authorize_params(call: Call) -> auth_flow.AuthorizeParams:
    body = await json_object(call.request)
    method = optional_str(body, "code_challenge_method") or "S256"
    if method != "S256":
        raise ApiError.validation(
            "code_challenge_method must be S256", field="code_challenge_method"
        )
    prompt = optional_str(body, "prompt")
    if prompt not in (None, "login"):
        raise ApiError.validation("prompt must be 'login' when given", field="prompt")
    max_age = optional_int(body, "max_age")
    if max_age is not None and max_age < 0:
        raise ApiError.validation("max_age must not be negative", field="max_age")
    scopes = optional_str_list(body, "scopes")
    customer_id = required_str(body, "customer_id")
    return_url = check_url("return_url", required_str(body, "return_url"))
    check_return_url(call.state.app_origins, return_url, customer_id)
    return auth_flow.AuthorizeParams(
        customer_id=customer_id,
        return_url=return_url,
        scopes=tuple(scopes) if scopes else _DEFAULT_SCOPES,
        code_challenge=required_str(body, "code_challenge"),
        nonce=optional_str(body, "nonce"),
        login_hint=optional_str(body, "login_hint"),
        prompt=prompt,
        max_age=max_age,
        acr_values=optional_str(body, "acr_values"),
    )


async def _authorize(call: Call) -> ApiReply:
    login = auth_flow.start_login(call.state, call.key, await _authorize_params(call))
    url = f"{call.state.issuer}/authorize?code={login.handle}"
    return ApiReply(
        {"authorization_url": url, "state": login.state, "expires_in": call.state.login_ttl}
    )


async def _token(call: Call) -> ApiReply:
    body = await json_object(call.request)
    tokens = auth_flow.exchange_code(
        call.state,
        call.key,
        code=required_str(body, "code"),
        state_param=required_str(body, "state"),
        verifier=required_str(body, "code_verifier"),
        return_url=required_str(body, "return_url"),
    )
    return ApiReply(tokens.as_json())


async def _refresh(call: Call) -> ApiReply:
    body = await json_object(call.request)
    tokens = auth_flow.refresh(call.state, call.key, required_str(body, "refresh_token"))
    return ApiReply(tokens.as_json())


async def _logout(call: Call) -> ApiReply:
    body = await json_object(call.request)
    refresh_token = optional_str(body, "refresh_token")
    session_id = optional_str(body, "session_id")
    if not refresh_token and not session_id:
        raise ApiError.invalid_request("Give 'refresh_token' or 'session_id'")
    auth_flow.logout(call.state, refresh_token or None, session_id or None)
    return ApiReply({"logged_out": True})


def auth_routes(state: SandboxState) -> list[Route]:
    """The authentication endpoints (category and permission ``authentication``)."""
    table = [
        ("/auth/authorize", _authorize, "POST"),
        ("/auth/token", _token, "POST"),
        ("/auth/refresh", _refresh, "POST"),
        ("/auth/logout", _logout, "DELETE"),
    ]
    return [
        api_route(
            state,
            path,
            handler,
            methods=[method],
            category="authentication",
            permission="authentication",
        )
        for path, handler, method in table
    ]
