"""Helpers for testing apps that use the kit.

The pytest plugin (entry point ``authonomy``) provides the ``authonomy_sandbox`` fixture;
:func:`login_as` signs a test client in through the app's real routes and the sandbox,
and :func:`send_webhook` posts a correctly signed delivery to the app::

    from authonomy_integrations.testing import login_as, send_webhook

    def test_admin(client):
        login_as(client, "alice", groups=["admins"], mfa=True)
        assert client.get("/admin").status_code == 200

    def test_login_webhook(client):
        data = {"user": {"id": "user_alice"}, "session": {"id": "sess_1"}}
        assert send_webhook(client, "user.authenticated", data).status_code == 200
"""

from __future__ import annotations

from typing import Any

from .._extras import require_extra

__all__ = ["LoginAsError", "alogin_as", "asend_webhook", "login_as", "send_webhook"]

_WEBHOOK_HELPERS = frozenset({"asend_webhook", "send_webhook"})


def __getattr__(name: str) -> Any:
    # Imported on first use: pytest loads this package's plugin in every run, and the
    # login helpers need the sandbox's extras (uvicorn), which not every install has.
    if name in _WEBHOOK_HELPERS:
        from . import _webhooks

        return getattr(_webhooks, name)
    if name in __all__:
        # Checked here: the sandbox's own check would name its extra, not this one's.
        require_extra(
            "authonomy_integrations.testing",
            "testing",
            "starlette",
            "uvicorn",
            ("python_multipart", "multipart"),
        )
        from . import _login as login

        return getattr(login, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
