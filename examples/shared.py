"""What the example apps share: their words, the sandbox's users, the signed-out page, their
configuration from the sandbox and ``AUTHONOMY_*`` variables, and how their log lines are
told apart from the embedded sandbox's."""

from __future__ import annotations

import contextlib
import logging
import secrets
import signal
from collections.abc import Iterator, Mapping
from types import FrameType
from typing import Any

from authonomy_integrations import AuthonomyClient, AuthonomyConfig
from authonomy_integrations.sandbox import SANDBOX_MFA_CODE, Sandbox
from authonomy_integrations.webhooks import EVENT_TYPES

__all__ = [
    "FAVICON_LINK",
    "SIGNED_OUT_MESSAGE",
    "SIGNED_OUT_PATH",
    "SIGN_IN",
    "SIGN_OUT",
    "banner",
    "build_config",
    "demo_sandbox",
    "demo_settings",
    "demo_setup",
    "log_config",
    "page_layout",
    "register_webhook",
    "stop_on_signals",
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


#: What the sandbox sets; the app's URL and session secret are the demo's own.
_FROM_SANDBOX = ("environment", "api_key", "api_base_url", "issuer", "audience", "customer_id")


def demo_settings(app_url: str, sandbox: Sandbox | None) -> dict[str, Any]:
    """The demo's settings by field name: the sandbox's own (when it runs), the app's
    URL and a fresh session secret."""
    settings: dict[str, Any] = {
        "app_url": app_url,
        "session_secret": secrets.token_urlsafe(32),
    }
    if sandbox is not None:
        # The sandbox's own configuration, as ``Sandbox.config`` gives it to tests.
        config = sandbox.config(app_url=app_url)
        settings.update({name: getattr(config, name) for name in _FROM_SANDBOX})
        settings["webhook_secret"] = sandbox.webhook_secret
    return settings


def build_config(
    environ: Mapping[str, str], app_url: str, sandbox: Sandbox | None
) -> AuthonomyConfig:
    """The app's configuration: ``AUTHONOMY_*`` variables win over the defaults."""
    defaults = demo_settings(app_url, sandbox)
    kept = {
        name: value
        for name, value in defaults.items()
        if f"AUTHONOMY_{name.upper()}" not in environ
    }
    return AuthonomyConfig.from_mapping(environ, **kept)


def register_webhook(sandbox: Sandbox, config: AuthonomyConfig) -> None:
    """Subscribe the app's webhook route to every event type of the sandbox."""
    url = f"{config.app_url}{config.webhook_path}"
    with AuthonomyClient(api_key=sandbox.api_key, base_url=sandbox.api_base_url) as client:
        client.webhooks.create(url=url, events=list(EVENT_TYPES), secret=config.webhook_secrets[0])


@contextlib.contextmanager
def demo_setup(
    environ: Mapping[str, str], app_url: str
) -> Iterator[tuple[AuthonomyConfig, Sandbox | None]]:
    """The demo's configuration and its embedded sandbox, started (and the app's webhook
    route subscribed to it) unless ``AUTHONOMY_API_KEY`` names a real tenant."""
    with contextlib.ExitStack() as stack:
        sandbox = None
        if "AUTHONOMY_API_KEY" not in environ:
            sandbox = stack.enter_context(demo_sandbox())
        config = build_config(environ, app_url, sandbox)
        if sandbox is not None and config.webhook_secrets:
            register_webhook(sandbox, config)
        yield config, sandbox


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def stop_on_signals() -> None:
    """End the demo cleanly (servers closed, the sandbox stopped, exit status 0) on
    SIGTERM, as ``kill`` and service managers send it, and on Ctrl-C.

    Without this, SIGTERM kills a waitress demo on the spot, its sandbox with it, and
    uvicorn raises the signal again once it has shut down, with the same end. A signal
    the demo was started with ignored (SIGINT under ``nohup`` or in a background job)
    stays ignored.
    """
    for signum in (signal.SIGTERM, signal.SIGINT):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stop)


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


class _OnSandboxThread(logging.Filter):
    """Passes the records logged on the embedded sandbox's server thread (``on=True``) or
    on any other thread: the sandbox and a uvicorn app share uvicorn's logger names."""

    def __init__(self, on: bool) -> None:
        super().__init__()
        self.on = on

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.threadName == Sandbox.thread_name) is self.on


def log_config() -> dict[str, Any]:
    """``logging.config.dictConfig`` settings: the app's lines start with ``[app]``, the
    embedded sandbox's with ``[sandbox]`` (both run in the demo's process), its
    server's request lines included."""

    def handler(formatter: str, *filters: str) -> dict[str, Any]:
        return {
            "class": "logging.StreamHandler",
            "formatter": formatter,
            "stream": "ext://sys.stderr",
            "filters": list(filters),
        }

    def logger(*handlers: str) -> dict[str, Any]:
        return {"handlers": list(handlers), "level": "INFO", "propagate": False}

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "app": {"format": "[app]     %(levelname)-8s %(message)s"},
            "sandbox": {"format": "[sandbox] %(levelname)-8s %(message)s"},
        },
        "filters": {
            "sandbox_thread": {"()": _OnSandboxThread, "on": True},
            "other_threads": {"()": _OnSandboxThread, "on": False},
        },
        "handlers": {
            "app": handler("app"),
            "sandbox": handler("sandbox"),
            "app_server": handler("app", "other_threads"),
            "sandbox_server": handler("sandbox", "sandbox_thread"),
        },
        "loggers": {
            "uvicorn": logger("app_server", "sandbox_server"),
            "uvicorn.access": logger("app_server", "sandbox_server"),
            "waitress": logger("app"),
            "django": logger("app"),
            "authonomy_integrations": logger("app"),
            "authonomy_integrations.sandbox": logger("sandbox"),
        },
    }
