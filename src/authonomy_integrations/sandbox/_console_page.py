"""Server-rendered HTML of the console: four small tables, no JavaScript, every value escaped."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from html import escape
from typing import TypeVar

from ._activity import LoginEntry, RevokedEntry, TokenEntry
from ._webhooks import DeliveryRecord

__all__ = ["ConsoleView", "console_page", "message_page"]

_Row = TypeVar("_Row")

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:72rem;margin:0 auto;padding:1.5rem 1.5rem 3rem}
h1{font-size:1.5rem;margin:.5rem 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
h2 small{font-weight:normal;color:#5b6475}p.sub{color:#5b6475;margin:0 0 1rem}
nav a{margin-right:1rem;color:#3b5bdb}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;overflow:hidden;
box-shadow:0 1px 4px rgba(0,0,0,.08)}
th,td{text-align:left;padding:.45rem .75rem;border-bottom:1px solid #e6e8ec;vertical-align:top}
th{background:#eef0f4;font-weight:600;font-size:.85rem;color:#3d4454}
td.time{white-space:nowrap;font-variant-numeric:tabular-nums;color:#3d4454}
small,.muted{color:#6b7385}code{font-size:.85rem}td.url{overflow-wrap:anywhere}td.status{white-space:nowrap}
.ok{color:#1b7a3a;font-weight:600}.fail{color:#b42318;font-weight:600}
.pending{color:#8a6100;font-weight:600}p.empty{background:#fff;padding:.75rem 1rem;
border-radius:8px;color:#6b7385;margin:0}p.notice{background:#e7f5ec;color:#14532d;
padding:.6rem 1rem;border-radius:8px}p.error{background:#fdecec;color:#a61b1b;
padding:.6rem 1rem;border-radius:8px}
button{font:inherit;padding:.25rem .8rem;border:1px solid #3b5bdb;border-radius:6px;
background:#fff;color:#3b5bdb;cursor:pointer}button:hover{background:#3b5bdb;color:#fff}
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def _time(at: float) -> str:
    """UTC date and time to the second, as a person reads it."""
    readable = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at))
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
    return f'<td class="time"><time datetime="{iso}">{readable}</time></td>'


def _text(value: str | None) -> str:
    return f"<td>{escape(value)}</td>" if value else '<td class="muted">—</td>'


def _customer(customer_id: str | None, name: str | None) -> str:
    if customer_id is None:
        return '<td class="muted">—</td>'
    shown = name or customer_id
    return f"<td>{escape(shown)}<br><small>{escape(customer_id)}</small></td>"


def _yes_no(value: bool | None) -> str:
    return _text(None if value is None else ("yes" if value else "no"))


def _table(
    anchor: str,
    title: str,
    headers: Sequence[str],
    rows: Sequence[_Row],
    row: Callable[[_Row], str],
    empty: str,
) -> str:
    heading = f"<h2>{escape(title)} <small>({len(rows)})</small></h2>"
    if not rows:
        return f'<section id="{anchor}">{heading}<p class="empty">{escape(empty)}</p></section>'
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in headers)
    body = "".join(f"<tr>{row(item)}</tr>" for item in rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<section id="{anchor}">{heading}{table}</section>'


def _login_row(entry: LoginEntry) -> str:
    css = "ok" if entry.ok else "fail"
    return (
        f"{_time(entry.at)}{_text(entry.user)}{_customer(entry.customer_id, entry.customer_name)}"
        f'{_yes_no(entry.mfa)}<td class="{css}">{escape(entry.result)}</td>'
    )


def _token_row(entry: TokenEntry) -> str:
    return (
        f"{_time(entry.at)}<td>{escape(entry.kind)}</td>{_text(entry.user)}"
        f"{_customer(entry.customer_id, entry.customer_name)}"
        f"<td><code>{escape(entry.session_id)}</code></td>{_time(entry.expires_at)}"
    )


_REASONS = {
    "logout": "signed out",
    "code_reuse": "authorization code used twice",
    "refresh_token_reuse": "refresh token used twice",
}


def _revoked_row(entry: RevokedEntry) -> str:
    return (
        f"{_time(entry.at)}{_text(entry.user)}{_customer(entry.customer_id, entry.customer_name)}"
        f"<td><code>{escape(entry.session_id)}</code></td>"
        f"<td>{escape(_REASONS.get(entry.reason, entry.reason))}</td>"
    )


def _status(record: DeliveryRecord) -> str:
    if record.attempts == 0:
        return '<td class="status pending">pending</td>'
    if record.last_status is None:
        # The error names the exception and its text: wraps, unlike a status code.
        error = escape(record.last_error or "")
        return f'<td class="fail">no answer<br><small>{error}</small></td>'
    return f'<td class="status {"ok" if record.ok else "fail"}">HTTP {record.last_status}</td>'


class ConsoleView:
    """What one rendering of the console shows."""

    def __init__(
        self,
        issuer: str,
        form_token: str,
        logins: Sequence[LoginEntry],
        tokens: Sequence[TokenEntry],
        revoked: Sequence[RevokedEntry],
        deliveries: Sequence[DeliveryRecord],
    ) -> None:
        self.issuer = issuer
        self.form_token = form_token
        self.logins = logins
        self.tokens = tokens
        self.revoked = revoked
        self.deliveries = deliveries

    def delivery_row(self, record: DeliveryRecord) -> str:
        """One delivery and its Resend form (carrying the form token)."""
        last = _time(record.last_attempt_at) if record.last_attempt_at else _text(None)
        form = (
            '<form method="post" action="/console/resend">'
            f'<input type="hidden" name="event_id" value="{escape(record.event_id)}">'
            f'<input type="hidden" name="webhook_id" value="{escape(record.webhook.id)}">'
            f'<input type="hidden" name="token" value="{escape(self.form_token)}">'
            f'<button type="submit" aria-label="Resend {escape(record.event_id)}">Resend</button>'
            "</form>"
        )
        return (
            f"{_time(record.queued_at)}<td>{escape(record.event_type)}<br>"
            f"<small><code>{escape(record.event_id)}</code></small></td>"
            f'<td class="url">{escape(record.webhook.url)}</td><td>{record.attempts}</td>'
            f"{_status(record)}{last}<td>{form}</td>"
        )


_SECTIONS = (
    ("logins", "Logins"),
    ("tokens", "Tokens issued and refreshed"),
    ("sessions", "Sessions revoked"),
    ("webhooks", "Webhook deliveries"),
)


def console_page(view: ConsoleView, notice: str | None = None) -> str:
    """The whole console: a heading, a short index, then one table per kind."""
    links = "".join(f'<a href="#{anchor}">{escape(title)}</a>' for anchor, title in _SECTIONS)
    tables: Iterable[str] = (
        _table(
            "logins", "Logins", ("Time (UTC)", "User", "Customer", "MFA", "Result"),
            view.logins, _login_row, "No logins yet. Sign in through your app to see one here.",
        ),
        _table(
            "tokens", "Tokens issued and refreshed",
            ("Time (UTC)", "Event", "User", "Customer", "Session", "Expires (UTC)"),
            view.tokens, _token_row, "No tokens issued yet.",
        ),
        _table(
            "sessions", "Sessions revoked",
            ("Time (UTC)", "User", "Customer", "Session", "Reason"),
            view.revoked, _revoked_row, "No sessions revoked yet.",
        ),
        _table(
            "webhooks", "Webhook deliveries",
            ("Queued (UTC)", "Event", "Target URL", "Attempts", "Last status",
             "Last attempt (UTC)", ""),
            view.deliveries, view.delivery_row,
            "No webhook deliveries yet. Register a webhook to receive events.",
        ),
    )  # fmt: skip
    body = (
        "<h1>Authonomy sandbox console</h1>"
        f'<p class="sub">Activity of the sandbox at {escape(view.issuer)}, newest first '
        '(the last 500 of each kind). <a href="/console">Reload</a> to update.</p>'
        f"<nav>{links}</nav>"
        + (f'<p class="notice" role="status">{escape(notice)}</p>' if notice else "")
        + "".join(tables)
    )
    return _page("Authonomy sandbox console", body)


def message_page(title: str, message: str) -> str:
    """A refusal or dead end, with a way back to the console."""
    body = (
        f"<h1>{escape(title)}</h1>"
        f'<p class="error" role="alert">{escape(message)}</p>'
        '<p><a href="/console">Back to the console</a></p>'
    )
    return _page(title, body)
