"""``hosted_login``: drive the hosted login pages as a browser without JavaScript would."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

from ._seed import SANDBOX_MFA_CODE

__all__ = ["HostedLoginError", "hosted_login"]

_REDIRECTS = (301, 302, 303, 307, 308)


class HostedLoginError(Exception):
    """The hosted pages did not end in a redirect to the app (bad link, unknown user, ...)."""


@dataclass
class _Form:
    id: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    """Collects forms, their successful controls' defaults and their submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []
        self.errors: list[str] = []
        self._select: str | None = None
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(_Form(a.get("id", ""), a.get("action", "")))
        elif tag == "p" and "error" in a.get("class", "").split():
            self._in_error = True
        elif self.forms:
            self._control(tag, a)

    def _control(self, tag: str, a: dict[str, str]) -> None:
        form, name = self.forms[-1], a.get("name", "")
        if tag == "input" and name:
            form.fields[name] = a.get("value", "")
        elif tag == "button" and name:
            form.buttons.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select is not None and self._default_option(form, a):
            form.fields[self._select] = a.get("value", "")

    def _default_option(self, form: _Form, a: dict[str, str]) -> bool:
        # The first option, or the one marked selected, is what a browser submits.
        return self._select not in form.fields or "selected" in a

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "p":
            self._in_error = False

    def handle_data(self, data: str) -> None:
        if self._in_error and data.strip():
            self.errors.append(data.strip())


def _parse(response: httpx.Response) -> _FormParser:
    parser = _FormParser()
    parser.feed(response.text)
    return parser


def _form(response: httpx.Response, form_id: str) -> _Form | None:
    parser = _parse(response)
    return next((form for form in parser.forms if form.id == form_id), None)


def _fail(response: httpx.Response, what: str) -> HostedLoginError:
    errors = _parse(response).errors
    detail = f": {'; '.join(errors)}" if errors else f" (HTTP {response.status_code})"
    return HostedLoginError(f"{what}{detail}")


def _submit(
    http: httpx.Client, page: httpx.Response, form: _Form, extra: dict[str, str]
) -> httpx.Response:
    url = urljoin(str(page.url), form.action)
    return http.post(url, data={**form.fields, **extra}, follow_redirects=False)


def _pick(
    http: httpx.Client,
    page: httpx.Response,
    user: str,
    cancel: bool,
    groups: Sequence[str] | None,
    mfa: bool | None,
) -> httpx.Response:
    form = _form(page, "pick-user")
    if form is None:
        raise _fail(page, "the login page has no user picker")
    if cancel:
        return _submit(http, page, form, {"action": "cancel"})
    if ("user", user) not in form.buttons:
        raise HostedLoginError(f"user {user!r} is not offered on the login page")
    extra = {"user": user}
    if groups is not None:
        extra["groups"] = ",".join(groups)
    if mfa is not None:
        extra["mfa"] = "1" if mfa else "0"
    return _submit(http, page, form, extra)


def _pass_mfa(
    http: httpx.Client, page: httpx.Response, mfa_code: str, cancel: bool
) -> httpx.Response:
    form = _form(page, "mfa")
    if form is None:
        raise _fail(page, "the sign-in did not reach the MFA step")
    extra = {"action": "cancel"} if cancel else {"otp": mfa_code}
    return _submit(http, page, form, extra)


def hosted_login(
    http: httpx.Client,
    authorization_url: str,
    user: str = "alice",
    *,
    mfa_code: str = SANDBOX_MFA_CODE,
    cancel: bool = False,
    groups: Sequence[str] | None = None,
    mfa: bool | None = None,
) -> str:
    """Sign in through the hosted pages; the redirect ``Location`` back to the app.

    Like a browser, ``http`` keeps the mock IdP's cookie, so a later login reuses the
    session (single sign-on) unless the app asked for ``prompt=login`` or ``max_age``.
    Raises :class:`HostedLoginError` when the pages do not redirect (expired link,
    unknown user, wrong MFA code).
    """
    page = http.get(authorization_url, follow_redirects=False)
    if page.status_code in _REDIRECTS:
        return page.headers["location"]
    if _form(page, "pick-user") is not None:
        page = _pick(http, page, user, cancel, groups, mfa)
        if page.status_code in _REDIRECTS:
            return page.headers["location"]
    page = _pass_mfa(http, page, mfa_code, cancel)
    if page.status_code in _REDIRECTS:
        return page.headers["location"]
    raise _fail(page, "the MFA step did not accept the code")
