"""Helpers for testing apps that use the kit.

The pytest plugin (entry point ``authonomy``) provides the ``authonomy_sandbox`` fixture;
:func:`login_as` signs a test client in through the app's real routes and the sandbox::

    from authonomy_integrations.testing import login_as

    def test_admin(client):
        login_as(client, "alice", groups=["admins"], mfa=True)
        assert client.get("/admin").status_code == 200
"""

from __future__ import annotations

from typing import Any

from .._extras import require_extra

__all__ = ["LoginAsError", "alogin_as", "login_as"]


def __getattr__(name: str) -> Any:
    # Imported on first use: pytest loads this package's plugin in every run, and the
    # helpers need the sandbox's extras (uvicorn), which not every install has.
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
