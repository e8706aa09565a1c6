"""The hosted login pages at the issuer: pick a user, pass MFA, or cancel."""

from __future__ import annotations

import hmac

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from . import _auth_flow as auth_flow
from ._models import Identity, IdpSession, LoginRequest
from ._seed import SANDBOX_MFA_CODE
from ._state import SandboxState
from ._templates import error_page, mfa_page, picker_page

__all__ = ["SSO_COOKIE", "login_routes"]

#: Cookie holding the mock IdP's session, reused for single sign-on.
SSO_COOKIE = "authonomy_sandbox_sso"

_MAX_MFA_FAILURES = 5
_EXPIRED = "This sign-in link is invalid, already used or expired. Start again from the app."
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status, headers=_HEADERS)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=_HEADERS)


def _picker(state: SandboxState, login: LoginRequest, error: str | None = None) -> HTMLResponse:
    customer = state.customers[login.customer_id]
    page = picker_page(login, customer.name, state.users_of(customer.id), error)
    return _html(page, 400 if error else 200)


def _ask_mfa(state: SandboxState, login: LoginRequest, identity: Identity) -> HTMLResponse:
    with state.lock:
        login.pending = Identity(identity.user, identity.groups, mfa=True)
    return _html(mfa_page(login, identity, SANDBOX_MFA_CODE))


def _finish(
    state: SandboxState,
    request: Request,
    login: LoginRequest,
    identity: Identity,
    reused: IdpSession | None = None,
) -> Response:
    idp_session = reused or IdpSession(
        state.new_id("idps"), login.customer_id, identity, state.clock.now()
    )
    client = (request.client.host if request.client else "", request.headers.get("user-agent", ""))
    response = _redirect(auth_flow.issue_code(state, login, identity, idp_session, client))
    response.set_cookie(SSO_COOKIE, idp_session.id, httponly=True, samesite="lax", path="/")
    return response


async def _authorize_page(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    login = auth_flow.live_login(state, request.query_params.get("code", ""))
    if login is None:
        return _html(error_page(_EXPIRED), 400)
    sso = auth_flow.sso_session(state, login, request.cookies.get(SSO_COOKIE))
    if sso is None:
        return _picker(state, login)
    if auth_flow.needs_mfa(login, sso.identity, reused=True):
        return _ask_mfa(state, login, sso.identity)
    return _finish(state, request, login, sso.identity, reused=sso)


def _overrides(form: FormData) -> tuple[tuple[str, ...] | None, bool | None]:
    raw_groups = str(form.get("groups") or "").strip()
    groups = tuple(g.strip() for g in raw_groups.split(",") if g.strip()) if raw_groups else None
    mfa = {"1": True, "0": False}.get(str(form.get("mfa") or ""))
    return groups, mfa


async def _login_from_form(request: Request) -> tuple[SandboxState, FormData, LoginRequest | None]:
    state: SandboxState = request.app.state.sandbox
    form = await request.form()
    return state, form, auth_flow.live_login(state, str(form.get("code") or ""))


async def _select(request: Request) -> Response:
    state, form, login = await _login_from_form(request)
    if login is None:
        return _html(error_page(_EXPIRED), 400)
    if form.get("action") == "cancel":
        return _redirect(auth_flow.cancel_redirect(state, login, "The user cancelled sign-in"))
    groups, mfa = _overrides(form)
    identity = auth_flow.identity_for(state, login, str(form.get("user") or ""), groups, mfa)
    if identity is None:
        return _picker(state, login, "Pick one of the listed users.")
    if auth_flow.needs_mfa(login, identity, reused=False):
        return _ask_mfa(state, login, identity)
    return _finish(state, request, login, identity)


async def _verify_mfa(request: Request) -> Response:
    state, form, login = await _login_from_form(request)
    if login is None or login.pending is None:
        return _html(error_page(_EXPIRED), 400)
    if form.get("action") == "cancel":
        return _redirect(auth_flow.cancel_redirect(state, login, "The user cancelled sign-in"))
    otp = str(form.get("otp") or "").strip()
    if hmac.compare_digest(otp.encode(), SANDBOX_MFA_CODE.encode()):
        return _finish(state, request, login, login.pending)
    with state.lock:
        login.mfa_failures += 1
        failures = login.mfa_failures
    state.record("authentication_failed", customer_id=login.customer_id, reason="wrong_mfa_code")
    auth_flow.wrong_mfa_code(state, login)
    if failures >= _MAX_MFA_FAILURES:
        return _redirect(auth_flow.cancel_redirect(state, login, "Too many wrong MFA codes"))
    page = mfa_page(login, login.pending, SANDBOX_MFA_CODE, "That code is not right. Try again.")
    return _html(page, 400)


def login_routes() -> list[Route]:
    """The hosted pages, served at the issuer's root."""
    return [
        Route("/authorize", _authorize_page, methods=["GET"]),
        Route("/authorize/select", _select, methods=["POST"]),
        Route("/authorize/mfa", _verify_mfa, methods=["POST"]),
    ]
