"""Server-rendered HTML of the hosted login pages: no JavaScript, every value escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ._models import Identity, LoginRequest, MockUser

__all__ = ["error_page", "mfa_page", "picker_page"]

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:26rem;margin:4rem auto;background:#fff;border-radius:10px;padding:2rem;
box-shadow:0 2px 10px rgba(0,0,0,.08)}
h1{font-size:1.25rem;margin:0 0 .25rem}p.sub{color:#5b6475;margin:0 0 1.5rem}
button{display:block;width:100%;text-align:left;padding:.75rem 1rem;margin:.5rem 0;
border:1px solid #d5d9e0;border-radius:8px;background:#fff;font:inherit;cursor:pointer}
button:hover{border-color:#3b5bdb}button.primary{background:#3b5bdb;color:#fff;text-align:center}
button.secondary{text-align:center;color:#5b6475}button.hint{border-color:#3b5bdb}
small{display:block;color:#5b6475}.error{background:#fdecec;color:#a61b1b;padding:.75rem;
border-radius:8px}.code{font-family:monospace;font-size:1.2rem;letter-spacing:.2em}
input,select{width:100%;box-sizing:border-box;padding:.6rem;margin:.25rem 0 .75rem;
border:1px solid #d5d9e0;border-radius:8px;font:inherit}
details{margin:1rem 0;color:#5b6475}footer{margin-top:1.5rem;font-size:.8rem;color:#8a93a5}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        '<link rel=icon href="data:,">'  # no /favicon.ico request, no 404
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}<footer>Authonomy sandbox: mock identity provider</footer>"
        "</main></body></html>"
    )


def _error(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def _user_button(user: MockUser, hinted: bool) -> str:
    traits = ", ".join(user.groups) + (" · MFA enrolled" if user.mfa_enrolled else "")
    css = ' class="hint"' if hinted else ""
    return (
        f'<button type="submit" name="user" value="{escape(user.username)}"{css}>'
        f"{escape(user.name)}<small>{escape(user.email)} · {escape(traits)}</small></button>"
    )


_OVERRIDES = """
<details><summary>Sandbox overrides</summary>
<label>Groups (comma-separated, replaces the user's groups)
<input type="text" name="groups" value=""></label>
<label>MFA <select name="mfa"><option value="" selected>as enrolled or requested</option>
<option value="1">sign in with MFA</option><option value="0">sign in without MFA</option>
</select></label></details>
"""


def picker_page(
    login: LoginRequest, customer_name: str, users: Sequence[MockUser], error: str | None = None
) -> str:
    """The mock IdP's sign-in page: one button per user, overrides, Cancel."""
    hint = login.login_hint
    hinted = [u for u in users if hint in (u.email, u.username, u.id)]
    step_up = login.prompt == "login" and bool(hint) and bool(hinted)
    if step_up:
        # Re-authentication of the signed-in user: nobody else is offered.
        users = hinted
    ordered = sorted(users, key=lambda user: user not in hinted)
    buttons = "".join(_user_button(u, u in hinted) for u in ordered)
    if not users:
        buttons = "<p>This customer's IdP has no users.</p>"
    sub = (
        f'<p class="sub step-up" role="status">Additional verification requested: the app '
        f"asks {escape(hinted[0].email)} to sign in again.</p>"
        if step_up
        else '<p class="sub">Choose a user of the mock identity provider.</p>'
    )
    body = (
        f"<h1>Sign in to {escape(customer_name)}</h1>"
        f"{sub}"
        f"{_error(error)}"
        '<form id="pick-user" method="post" action="/authorize/select">'
        f'<input type="hidden" name="code" value="{escape(login.handle)}">'
        f"{buttons}{_OVERRIDES}"
        '<button type="submit" name="action" value="cancel" class="secondary">Cancel</button>'
        "</form>"
    )
    return _page(f"Sign in to {customer_name}", body)


def mfa_page(login: LoginRequest, identity: Identity, code: str, error: str | None = None) -> str:
    """The MFA step: shows the sandbox code to type and asks for it."""
    body = (
        "<h1>Verify it's you</h1>"
        f'<p class="sub">Signing in as {escape(identity.user.email)}.</p>'
        f"{_error(error)}"
        f'<p>Sandbox one-time code: <span class="code">{escape(code)}</span></p>'
        '<form id="mfa" method="post" action="/authorize/mfa">'
        f'<input type="hidden" name="code" value="{escape(login.handle)}">'
        '<label>One-time code <input type="text" name="otp" inputmode="numeric" '
        'autocomplete="one-time-code" autofocus required></label>'
        '<button type="submit" class="primary">Verify</button>'
        '<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>'
        "Cancel</button></form>"
    )
    return _page("Verify it's you", body)


def error_page(message: str) -> str:
    """A dead end, e.g. an expired or unknown login link."""
    return _page("Sign-in problem", f"<h1>Sign-in problem</h1>{_error(message)}")
