"""Several origins and tenant subdomains, attacked through every adapter.

The app is served on 127.0.0.1 and each request names the host it is for in ``Host``,
as a browser would after DNS; cookies are kept per host by hand (host-only cookies,
which a browser never sends to another host), so a test can carry one host's cookie to
another the way an attacker would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from authonomy_integrations import AuthEvent
from authonomy_integrations.sandbox import Sandbox, hosted_login

from ..browsing import API, PAGE, bearer, mint
from .apps import Adapter
from .flows import handle

ORIGINS = ["https://myapp.example", "https://{customer}.myapp.example"]
ACME = "acme-corp.myapp.example"
GLOBEX = "globex.myapp.example"
#: A fixed origin of the app: any customer's users sign in there.
MAIN = "myapp.example"
SESSION = "__Host-authonomy_session"
LOGIN = "__Host-authonomy_login"
#: Hosts that are none of the app's origins, yet pass Django's ``ALLOWED_HOSTS`` (the
#: tests' settings allow ``.myapp.example``), so the kit itself has to refuse them.
UNKNOWN = ["a.b.myapp.example", "myapp.example:8443", "acme-corp.myapp.example:8443"]


class HostBrowser:
    """A browser reaching the app's hosts through one address: each request names its
    ``Host``, and each host has its own cookies, as host-only cookies are kept."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, headers=PAGE, follow_redirects=False)
        self.jars: dict[str, dict[str, str]] = {}

    def request(
        self, method: str, host: str, path: str, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        """``method path`` on ``host`` with that host's cookies; keeps what it sets."""
        jar = self.jars.setdefault(host, {})
        sent = {"host": host, **(headers or {})}
        if jar:
            sent["cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())
        answer = self.http.request(method, path, headers=sent, **kw)
        self.http.cookies.clear()  # only the jars above: never another host's cookies
        for header in answer.headers.get_list("set-cookie"):
            name, _, value = header.partition(";")[0].partition("=")
            if value:
                jar[name] = value
            else:
                jar.pop(name, None)
        return answer

    def get(self, host: str, path: str, **kw: Any) -> httpx.Response:
        """GET ``path`` on ``host``."""
        return self.request("GET", host, path, **kw)


@contextmanager
def tenant_app(adapter: Adapter, sb: Sandbox, **settings: Any) -> Iterator[HostBrowser]:
    """The adapter's app on ``ORIGINS``, and a browser for it."""
    serving = adapter.serve(lambda url: sb.config(app_url=ORIGINS, **settings), sb.state.clock.now)
    with serving as url:
        browser = HostBrowser(url)
        with browser.http:
            yield browser


def sign_in_on(browser: HostBrowser, host: str, user: str = "bob") -> httpx.Response:
    """A whole sign-in on ``host``: the login route, the hosted pages, the callback."""
    start = browser.get(host, "/auth/login", params={"next": "/whoami"})
    assert start.status_code == 302, start.text
    with httpx.Client() as idp:  # the hosted pages are the sandbox's own host
        callback = urlsplit(hosted_login(idp, start.headers["location"], user=user))
    assert callback.netloc == host, "Authonomy sends the browser back to the host it left"
    return browser.get(host, f"{callback.path}?{callback.query}")


def who(browser: HostBrowser, host: str, **kw: Any) -> Any:
    answer = browser.get(host, "/whoami", **kw)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_login_on_a_tenant_host_returns_there_for_that_customer_only(
    adapter: Adapter, sb: Sandbox
) -> None:
    with tenant_app(adapter, sb) as browser:
        start = browser.get(ACME, "/auth/login", params={"next": "/whoami"})
        login = sb.state.login_requests[handle(start.headers["location"])]
        assert login.return_url == f"https://{ACME}/auth/callback"
        assert login.customer_id == "acme-corp"
        main = browser.get(MAIN, "/auth/login")
        assert sb.state.login_requests[handle(main.headers["location"])].return_url == (
            f"https://{MAIN}/auth/callback"
        )
        done = sign_in_on(browser, ACME)
        assert done.status_code == 302 and done.headers["location"] == "/whoami"
        assert who(browser, ACME) == {"user": "user_bob", "customer": "acme-corp"}
        # Cookies stay host-only and __Host- on every origin.
        for header in [*start.headers.get_list("set-cookie"), *done.headers.get_list("set-cookie")]:
            assert header.startswith((f"{LOGIN}=", f"{SESSION}=")), header
            assert "; Secure" in header and "; Path=/" in header
            assert "domain=" not in header.lower()


def test_a_tenant_host_refuses_another_customer_before_calling_authonomy(
    adapter: Adapter, sb: Sandbox
) -> None:
    authorizes = sb.request_count("POST", "/v1/auth/authorize")
    with tenant_app(adapter, sb, allowed_customers=("acme-corp", "globex")) as browser:
        refused = browser.get(ACME, "/auth/login", params={"customer": "globex"})
        assert refused.status_code == 400
        assert "does not sign in users of the requested customer" in refused.text
        # A customer the app does not list gets nothing on its own host either.
        assert browser.get("initech.myapp.example", "/auth/login").status_code == 400
        assert sb.request_count("POST", "/v1/auth/authorize") == authorizes
        assert browser.get(ACME, "/auth/login", params={"customer": "acme-corp"}).status_code == 302
        assert browser.get(GLOBEX, "/auth/login").status_code == 302


@pytest.mark.parametrize("host", UNKNOWN)
def test_unknown_hosts_get_400_on_the_kits_routes_and_never_a_url(
    adapter: Adapter, sb: Sandbox, host: str
) -> None:
    authorizes = sb.request_count("POST", "/v1/auth/authorize")
    events: list[AuthEvent] = []
    with tenant_app(adapter, sb, on_event=events.append) as browser:
        answers = [
            browser.get(host, "/auth/login", params={"next": "/whoami"}),
            # A proxy's header is not the request's host: it does not let one in.
            browser.get(host, "/auth/login", headers={"x-forwarded-host": ACME}),
            browser.get(host, "/auth/callback", params={"code": "c", "state": "s", "iss": "i"}),
            browser.request("POST", host, "/auth/logout", headers={"origin": f"https://{host}"}),
        ]
        for answer in answers:
            assert answer.status_code == 400, answer.text
            assert "location" not in answer.headers
            assert host.split(":")[0] not in answer.text
        assert sb.request_count("POST", "/v1/auth/authorize") == authorizes
        reported = {(e.name, e.reason) for e in events}
        assert {("login.failed", "unknown_host"), ("callback.refused", "unknown_host")} <= reported
        # A guarded page there sends a browser to a login path, not to a URL of that host.
        page = browser.get(host, "/profile")
        assert page.status_code == 302 and page.headers["location"].startswith("/auth/login?")


def test_a_callback_carried_to_another_tenants_host_is_refused(
    adapter: Adapter, sb: Sandbox
) -> None:
    with tenant_app(adapter, sb) as browser:
        start = browser.get(ACME, "/auth/login", params={"next": "/whoami"})
        with httpx.Client() as idp:
            callback = urlsplit(hosted_login(idp, start.headers["location"], user="bob"))
        exchanges = sb.request_count("POST", "/v1/auth/token")
        browser.jars[GLOBEX] = dict(browser.jars[ACME])  # the login cookie, carried over
        answer = browser.get(GLOBEX, f"{callback.path}?{callback.query}")
        assert answer.status_code == 400
        assert "started at another of the app&#x27;s addresses" in answer.text
        assert SESSION not in browser.jars[GLOBEX]
        assert sb.request_count("POST", "/v1/auth/token") == exchanges  # the code unspent
        assert who(browser, GLOBEX)["user"] is None


def test_a_session_cookie_carried_to_another_tenants_host_is_not_used(
    adapter: Adapter, sb: Sandbox
) -> None:
    with tenant_app(adapter, sb) as browser:
        assert sign_in_on(browser, ACME).status_code == 302
        carried = {SESSION: browser.jars[ACME][SESSION]}
        refreshes = sb.request_count("POST", "/v1/auth/refresh")
        sb.advance_clock(sb.state.token_ttl - 30)  # the session is due for a refresh
        for host in (GLOBEX, UNKNOWN[0]):
            browser.jars[host] = dict(carried)
            assert who(browser, host)["user"] is None
            assert browser.get(host, "/profile", headers=API).status_code == 401
            page = browser.get(host, "/profile")
            assert page.status_code == 302 and page.headers["location"].startswith("/auth/login")
            assert browser.jars[host] == carried  # nothing set or cleared for it there
        # Not refreshed on another host: on its own host the session goes on.
        assert sb.request_count("POST", "/v1/auth/refresh") == refreshes
        assert who(browser, ACME)["user"] == "user_bob"
        assert sb.request_count("POST", "/v1/auth/refresh") == refreshes + 1
        # A fixed origin serves every customer.
        browser.jars[MAIN] = dict(carried)
        assert who(browser, MAIN)["user"] == "user_bob"


def test_a_token_of_another_customer_is_refused_on_a_tenant_host(
    adapter: Adapter, sb: Sandbox
) -> None:
    token = mint(sb)  # alice, of acme-corp
    events: list[AuthEvent] = []
    with tenant_app(adapter, sb, on_event=events.append) as browser:
        assert who(browser, ACME, headers=bearer(token))["user"] == "user_alice"
        assert who(browser, MAIN, headers=bearer(token))["user"] == "user_alice"
        for host in (GLOBEX, UNKNOWN[0]):
            refused = browser.get(host, "/whoami", headers=bearer(token))
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Bearer")
        globex = mint(sb, sub="user_carol", customer_id="globex")
        assert who(browser, GLOBEX, headers=bearer(globex))["user"] == "user_carol"
        assert browser.get(ACME, "/whoami", headers=bearer(globex)).status_code == 401
    refusals = [e for e in events if e.name == "token.refused"]
    assert {e.reason for e in refusals} == {"wrong_host", "unknown_host"}
    assert {e.fields["credential"] for e in refusals} == {"bearer"}


def test_logout_is_judged_against_the_origin_in_use(adapter: Adapter, sb: Sandbox) -> None:
    with tenant_app(adapter, sb) as browser:
        assert sign_in_on(browser, ACME).status_code == 302
        for other in (f"https://{GLOBEX}", f"https://{MAIN}", "http://acme-corp.myapp.example"):
            refused = browser.request("POST", ACME, "/auth/logout", headers={"origin": other})
            assert refused.status_code == 403, other
        assert who(browser, ACME)["user"] == "user_bob"
        done = browser.request("POST", ACME, "/auth/logout", headers={"origin": f"https://{ACME}"})
        assert done.status_code == 303
        assert SESSION not in browser.jars[ACME]
        assert who(browser, ACME)["user"] is None


def test_fixed_origins_each_get_their_own_callback_and_others_get_400(
    adapter: Adapter, sb: Sandbox
) -> None:
    origins = ["https://app.myapp.example", "https://admin.myapp.example"]
    serving = adapter.serve(lambda url: sb.config(app_url=origins), sb.state.clock.now)
    with serving as url:
        browser = HostBrowser(url)
        with browser.http:
            for host in ("app.myapp.example", "admin.myapp.example"):
                done = sign_in_on(browser, host)
                assert done.status_code == 302, done.text
                assert who(browser, host)["user"] == "user_bob"
            assert browser.get(ACME, "/auth/login").status_code == 400
            assert browser.get(MAIN, "/auth/login").status_code == 400
