"""The console at ``/console``, over real HTTP: what a developer sees after each action.

Each test gets its own sandbox, so every table starts empty and "newest first" is judged
on the test's own actions. Webhooks go to a receiver on 127.0.0.1 started here.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from authonomy_integrations.sandbox import HostedLoginError, Sandbox, hosted_login
from authonomy_integrations.sandbox._activity import ActivityLog
from authonomy_integrations.sandbox._clock import Clock
from authonomy_integrations.sandbox._models import Subscription
from authonomy_integrations.sandbox._webhooks import WebhookDispatcher

from .helpers import api, callback_params, exchange, sign_in, start_login
from .receiver import Receiver, receiving

SECRET = "whsec_" + base64.b64encode(b"sandbox-console-test-secret-0123").decode()


# --- reading the page -----------------------------------------------------------------


@dataclass
class Section:
    """One table of the console: its rows as cell texts, its empty-state line, its forms."""

    rows: list[list[str]] = field(default_factory=list)
    empty: str = ""
    forms: list[dict[str, str]] = field(default_factory=list)


class _ConsoleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, Section] = {}
        self.h1 = ""
        self._section: Section | None = None
        self._cell: list[str] | None = None
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "section":
            self._section = self.sections.setdefault(a["id"], Section())
        elif self._section is not None and tag == "tr" and self._in != "thead":
            self._section.rows.append([])
        elif tag in ("thead", "h1") or (tag == "p" and a.get("class") == "empty"):
            self._in = tag
        elif tag == "td" and self._section is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")
        elif tag == "form" and self._section is not None:
            self._section.forms.append({"action": a["action"]})
        elif tag == "input" and self._section is not None and self._section.forms:
            self._section.forms[-1][a["name"]] = a["value"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._section is not None:
            self._section.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "section":
            self._section = None
        elif tag in ("thead", "h1", "p"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._in == "h1":
            self.h1 += data
        elif self._in == "p" and self._section is not None:
            self._section.empty += data


@dataclass
class Console:
    """The console page as fetched, parsed."""

    html: str
    h1: str
    sections: dict[str, Section]

    def rows(self, section: str) -> list[list[str]]:
        """The rows of one table, newest first as shown."""
        return self.sections[section].rows


def console(sb: Sandbox, path: str = "/console") -> Console:
    """GET the console and parse it; it must be a 200 HTML page."""
    response = httpx.get(f"{sb.issuer}{path}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    parser = _ConsoleParser()
    parser.feed(response.text)
    return Console(response.text, parser.h1, parser.sections)


def resend(
    sb: Sandbox, form: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST a console resend form as the console page's browser would (unless overridden)."""
    sent = {"origin": sb.issuer, **(headers or {})}
    data = {name: value for name, value in form.items() if name != "action"}
    return httpx.post(f"{sb.issuer}{form['action']}", data=data, headers=sent)


# --- a webhook receiver ---------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving("/hooks") as state:
        yield state


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """A fresh sandbox per test; failed deliveries are retried once, quickly."""
    with Sandbox(webhook_retry_schedule=(0.01,)) as sandbox:
        yield sandbox


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    with api(sb) as http:
        yield http


def subscribe(client: httpx.Client, url: str) -> str:
    """Register ``url`` for sign-ins; the webhook id."""
    body = {"url": url, "events": ["user.authenticated"], "secret": SECRET}
    response = client.post("/webhooks", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


# --- the page -------------------------------------------------------------------------


def test_fresh_console_has_a_heading_and_an_empty_state_line_per_table(sb: Sandbox) -> None:
    page = console(sb)
    assert page.h1 == "Authonomy sandbox console"
    assert set(page.sections) == {"logins", "tokens", "sessions", "webhooks"}
    for name, section in page.sections.items():
        assert section.rows == [], name
        assert section.empty.startswith("No "), name


def test_console_cannot_be_framed_or_cached(sb: Sandbox) -> None:
    headers = httpx.get(f"{sb.issuer}/console").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "form-action 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"


def test_logins_are_listed_newest_first_with_user_customer_mfa_and_result(
    sb: Sandbox, client: httpx.Client
) -> None:
    sign_in(client, "bob")
    sign_in(client, "alice")  # enrolled in MFA: the hosted pages ask for the code
    login = start_login(client)
    with httpx.Client() as browser:
        hosted_login(browser, login.authorization_url, "bob", cancel=True)

    rows = console(sb).rows("logins")
    assert [row[1:] for row in rows] == [
        ["—", "Acme Corp acme-corp", "—", "The user cancelled sign-in"],
        ["alice@acme-corp.com", "Acme Corp acme-corp", "yes", "signed in"],
        ["bob@acme-corp.com", "Acme Corp acme-corp", "no", "signed in"],
    ]
    times = [row[0] for row in rows]
    assert times == sorted(times, reverse=True)
    assert all(len(t) == len("2026-01-01 12:00:00") for t in times), times


def test_a_refused_code_exchange_shows_as_a_failed_login(sb: Sandbox, client: httpx.Client) -> None:
    login = start_login(client)
    with httpx.Client() as browser:
        code = callback_params(hosted_login(browser, login.authorization_url, "bob"))["code"]
    assert exchange(client, login, code, code_verifier="x" * 43).status_code == 400

    [row] = console(sb).rows("logins")
    assert row[1:] == [
        "bob@acme-corp.com",
        "Acme Corp acme-corp",
        "no",
        "code_verifier does not match the code_challenge",
    ]


def test_a_wrong_mfa_code_shows_as_a_failed_login_for_that_user(
    sb: Sandbox, client: httpx.Client
) -> None:
    login = start_login(client)
    with httpx.Client() as browser, pytest.raises(HostedLoginError):
        hosted_login(browser, login.authorization_url, "alice", mfa_code="000000")

    [row] = console(sb).rows("logins")
    assert row[1:] == ["alice@acme-corp.com", "Acme Corp acme-corp", "yes", "wrong MFA code"]


def test_tokens_issued_and_refreshed_are_listed_without_token_values(
    sb: Sandbox, client: httpx.Client
) -> None:
    _, tokens = sign_in(client, "bob")
    refreshed = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200

    page = console(sb)
    session_id = sb.state.activity.tokens[0].session_id
    assert [row[1:5] for row in page.rows("tokens")] == [
        ["refreshed", "bob@acme-corp.com", "Acme Corp acme-corp", session_id],
        ["issued", "bob@acme-corp.com", "Acme Corp acme-corp", session_id],
    ]
    for secret in (*tokens.values(), *refreshed.json()["data"].values()):
        if isinstance(secret, str) and len(secret) > 20:
            assert secret not in page.html


def test_revoked_sessions_show_the_reason_newest_first(sb: Sandbox, client: httpx.Client) -> None:
    _, first = sign_in(client, "bob")
    response = client.request(
        "DELETE", "/auth/logout", json={"refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 200
    _, second = sign_in(client, "alice")
    client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
    sb.advance_clock(60)  # past the grace window: a second use is theft
    client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})

    rows = console(sb).rows("sessions")
    assert [(row[1], row[4]) for row in rows] == [
        ("alice@acme-corp.com", "refresh token used twice"),
        ("bob@acme-corp.com", "signed out"),
    ]


def test_webhook_delivery_is_listed_and_resend_delivers_the_same_event_again(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    webhook_id = subscribe(client, receiver.url)
    sign_in(client, "bob")
    [first] = receiver.wait_for(1)
    sb.wait_for_deliveries(lambda log: len(log) == 1)

    section = console(sb).sections["webhooks"]
    [row] = section.rows
    event_id = first.headers["webhook-id"]
    assert row[1:5] == [f"user.authenticated {event_id}", receiver.url, "1", "HTTP 204"]
    [form] = section.forms
    assert form["action"] == "/console/resend"
    assert (form["event_id"], form["webhook_id"]) == (event_id, webhook_id)

    response = resend(sb, form)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console?")

    again = receiver.wait_for(2)[1]
    assert again.headers["webhook-id"] == event_id
    assert again.body == first.body
    StandardWebhook(SECRET).verify(again.body, again.headers)  # freshly signed, verifiable
    page = console(sb, response.headers["location"])
    [row] = page.rows("webhooks")
    assert row[3:5] == ["2", "HTTP 204"]
    assert f"Sent {event_id} again to {receiver.url}: HTTP 204." in page.html
    assert [d.attempt for d in sb.deliveries] == [1, 2]


def test_failed_deliveries_show_their_last_status_and_resend_reports_the_new_one(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    receiver.status = 503
    subscribe(client, receiver.url)
    sign_in(client, "bob")
    sb.wait_for_deliveries(lambda log: len(log) == 2)  # the attempt and its one retry

    [row] = console(sb).rows("webhooks")
    assert row[3:5] == ["2", "HTTP 503"]
    receiver.status = 200
    form = console(sb).sections["webhooks"].forms[0]
    assert resend(sb, form).status_code == 303
    [row] = console(sb).rows("webhooks")
    assert row[3:5] == ["3", "HTTP 200"]


def test_deliveries_are_listed_newest_first(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    subscribe(client, receiver.url)
    sign_in(client, "bob")
    first = receiver.wait_for(1)[0].headers["webhook-id"]
    sign_in(client, "alice")
    second = receiver.wait_for(2)[1].headers["webhook-id"]
    rows = console(sb).rows("webhooks")
    assert [row[1].split()[1] for row in rows] == [second, first]


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "null"},
        {"origin": "http://127.0.0.1:1"},
        {"origin": "", "referer": "http://evil.example/page"},
    ],
    ids=["other-site", "opaque-origin", "other-port", "cross-site-referer"],
)
def test_cross_site_resend_is_refused_and_sends_nothing(
    sb: Sandbox, client: httpx.Client, receiver: Receiver, headers: dict[str, str]
) -> None:
    subscribe(client, receiver.url)
    sign_in(client, "bob")
    receiver.wait_for(1)
    form = console(sb).sections["webhooks"].forms[0]

    sent = dict(headers)
    if sent.get("origin") == "":
        del sent["origin"]
        response = httpx.post(
            f"{sb.issuer}/console/resend",
            data={k: v for k, v in form.items() if k != "action"},
            headers=sent,
        )
    else:
        response = resend(sb, form, sent)
    assert response.status_code == 403
    assert "Resend refused" in response.text
    assert len(sb.deliveries) == 1
    assert console(sb).rows("webhooks")[0][3] == "1"


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_resend_without_the_console_form_token_is_refused(
    sb: Sandbox, client: httpx.Client, receiver: Receiver, token: str
) -> None:
    subscribe(client, receiver.url)
    sign_in(client, "bob")
    receiver.wait_for(1)
    form = {**console(sb).sections["webhooks"].forms[0], "token": token}

    response = resend(sb, form)
    assert response.status_code == 403
    assert "reload the console" in response.text
    assert len(sb.deliveries) == 1


def test_resend_of_an_unknown_delivery_or_deleted_webhook_is_a_clear_error(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    webhook_id = subscribe(client, receiver.url)
    sign_in(client, "bob")
    receiver.wait_for(1)
    form = console(sb).sections["webhooks"].forms[0]

    unknown = resend(sb, {**form, "event_id": "evt_missing"})
    assert unknown.status_code == 404
    assert "evt_missing" in unknown.text
    assert client.delete(f"/webhooks/{webhook_id}").status_code == 200
    deleted = resend(sb, form)
    assert deleted.status_code == 409
    assert "no longer registered" in deleted.text
    assert len(sb.deliveries) == 1


def test_user_controlled_text_is_escaped(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    name = '<script>alert("owned")</script> & Co'
    created = client.post("/customers", json={"id": "xss-corp", "name": name})
    assert created.status_code == 201
    client.post("/customers/xss-corp/idp", json={"type": "okta", "domain": "xss.example"})
    subscribe(client, receiver.url + '?next="><script>alert(2)</script>')
    sign_in(client, "xss-corp-user", "xss-corp")
    receiver.wait_for(1)

    page = console(sb)
    assert "<script" not in page.html
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; Co" in page.html
    assert page.rows("logins")[0][2] == f"{name} xss-corp"
    assert page.rows("webhooks")[0][2].endswith('?next="><script>alert(2)</script>')


# --- bounded history ------------------------------------------------------------------


def test_activity_history_keeps_only_the_newest_entries() -> None:
    log = ActivityLog(Clock(), limit=2)
    for user in ("u1", "u2", "u3"):
        log.login(user=user, customer=("acme-corp", "Acme"), mfa=False, ok=True, result="ok")
        log.revoked(user=user, customer=("acme-corp", "Acme"), session_id=user, reason="logout")
        log.token("issued", user=user, customer=("acme-corp", None), session_id=user, expires_in=1)
    assert [entry.user for entry in log.logins] == ["u3", "u2"]
    assert [entry.user for entry in log.revoked_sessions] == ["u3", "u2"]
    assert [entry.user for entry in log.tokens] == ["u3", "u2"]


def test_delivery_history_keeps_only_the_newest_and_forgets_the_rest() -> None:
    dispatcher = WebhookDispatcher(Clock(), history=2)
    hook = Subscription("wh_1", "http://127.0.0.1:1/hooks", ("user.authenticated",), SECRET, 0.0)
    for event_id in ("evt_1", "evt_2", "evt_3"):
        dispatcher.enqueue(event_id, "user.authenticated", b"{}", hook)
    assert [record.event_id for record in dispatcher.records] == ["evt_3", "evt_2"]
    assert dispatcher.resend("evt_1", "wh_1") is None
    assert dispatcher.resend("evt_3", "wh_1") == 0


def test_unreachable_receiver_shows_no_answer_and_the_error(
    sb: Sandbox, client: httpx.Client
) -> None:
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/hooks"
        subscribe(client, url)
        sign_in(client, "bob")
        sb.wait_for_deliveries(lambda log: len(log) == 2)
        [row] = console(sb).rows("webhooks")
    assert row[2:4] == [url, "2"]
    assert row[4].startswith("no answer ConnectError")


def test_two_sandboxes_keep_their_own_activity_and_form_tokens(
    sb: Sandbox, client: httpx.Client, receiver: Receiver
) -> None:
    subscribe(client, receiver.url)
    sign_in(client, "bob")
    receiver.wait_for(1)
    form = console(sb).sections["webhooks"].forms[0]
    with Sandbox() as other, api(other) as other_client:
        subscribe(other_client, receiver.url)
        sign_in(other_client, "alice")
        receiver.wait_for(2)
        other_page = console(other)
        assert [row[1] for row in other_page.rows("logins")] == ["alice@acme-corp.com"]
        other_form = other_page.sections["webhooks"].forms[0]
        assert other_form["token"] != form["token"]
        assert resend(other, {**other_form, "token": form["token"]}).status_code == 403
    assert [row[1] for row in console(sb).rows("logins")] == ["bob@acme-corp.com"]
