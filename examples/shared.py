"""What both example apps share: their words, the sandbox's users, the signed-out page and
how their log lines are told apart from the embedded sandbox's."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from authonomy_integrations import AuthonomyConfig
from authonomy_integrations.sandbox import SANDBOX_MFA_CODE, Sandbox

__all__ = [
    "FAVICON_LINK",
    "SIGNED_OUT_MESSAGE",
    "SIGNED_OUT_PATH",
    "SIGN_IN",
    "SIGN_OUT",
    "banner",
    "demo_sandbox",
    "log_config",
    "page_layout",
    "with_signed_out_page",
]

SIGN_IN = "Sign in"
SIGN_OUT = "Sign out"
#: Where the logout route sends the browser in the demos: a page that confirms it.
SIGNED_OUT_PATH = "/signed-out"
SIGNED_OUT_MESSAGE = "You are signed out."
#: An empty icon: the browser asks for no ``/favicon.ico``.
FAVICON_LINK = '<link rel="icon" href="data:,">'


def page_layout(framework: str, body: str) -> str:
    """The demos' page template, in the syntax Jinja and Django templates share: a page's
    content goes where ``body`` (the engine's own slot) stands."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{{{{ title }}}} · {framework} + Authonomy</title>"
        + FAVICON_LINK
        + """<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;
padding:0 1rem}nav a{margin-right:1rem}nav form{display:inline}
td,th{padding:.2rem .6rem;text-align:left}</style></head><body>
<nav><a href="/">Home</a><a href="/profile">Profile</a><a href="/admin">Admin</a>
<a href="/api/me">/api/me</a><a href="/webhooks">Webhooks</a>
{% if user.is_authenticated %}
<form method="post" action="{{ logout_path }}"><button type="submit">{{ sign_out }}</button></form>
{% else %}<a href="{{ login_path }}?next=/profile">{{ sign_in }}</a>{% endif %}
</nav><h1>{{ title }}</h1>"""
        + body
        + "</body></html>"
    )


#: The embedded sandbox's usual port in the demos.
SANDBOX_PORT = 8400


@contextlib.contextmanager
def demo_sandbox() -> Iterator[Sandbox]:
    """The demo's embedded sandbox, on its usual port when that is free, else any."""
    sandbox = Sandbox(port=SANDBOX_PORT)
    try:
        sandbox.start()
    except OSError:  # the usual port is taken: any free one will do
        sandbox = Sandbox()
        sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def with_signed_out_page(config: AuthonomyConfig) -> AuthonomyConfig:
    """``config`` sending the browser to the signed-out page after logout, unless the
    configuration chose another page."""
    if config.after_logout_path != "/":
        return config
    return config.replace(after_logout_path=SIGNED_OUT_PATH)


def banner(app_url: str, sandbox: Sandbox | None) -> str:
    """What a demo prints at start: where to go and what each sandbox user experiences."""
    lines = [f"Open {app_url} in your browser."]
    if sandbox is not None:
        lines += [
            f"Authonomy sandbox at {sandbox.issuer} (customer acme-corp).",
            f"  console: {sandbox.issuer}/console (logins, tokens, webhook deliveries)",
            "Users:",
            "  alice: groups admins, engineering; MFA enrolled: asked for the one-time "
            f"code {SANDBOX_MFA_CODE} at every sign-in, so the admin page opens at once",
            "  bob:   group engineering; no MFA at sign-in: the admin page (policy "
            f"require-mfa) sends him to sign in again with the code {SANDBOX_MFA_CODE}",
        ]
    return "\n".join(lines)


def log_config() -> dict[str, Any]:
    """``logging.config.dictConfig`` settings: the app's lines start with ``[app]``, the
    embedded sandbox's with ``[sandbox]`` (both run in the demo's process)."""

    def handler(formatter: str) -> dict[str, str]:
        return {
            "class": "logging.StreamHandler",
            "formatter": formatter,
            "stream": "ext://sys.stderr",
        }

    def logger(name: str) -> dict[str, Any]:
        return {"handlers": [name], "level": "INFO", "propagate": False}

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "app": {"format": "[app]     %(levelname)-8s %(message)s"},
            "sandbox": {"format": "[sandbox] %(levelname)-8s %(message)s"},
        },
        "handlers": {"app": handler("app"), "sandbox": handler("sandbox")},
        "loggers": {
            "uvicorn": logger("app"),
            "uvicorn.access": logger("app"),
            "waitress": logger("app"),
            "django": logger("app"),
            "authonomy_integrations": logger("app"),
            "authonomy_integrations.sandbox": logger("sandbox"),
        },
    }
