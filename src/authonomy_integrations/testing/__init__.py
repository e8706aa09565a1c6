"""Helpers for testing apps that use the kit.

The pytest plugin (entry point ``authonomy``) provides the ``authonomy_sandbox`` fixture;
:func:`login_as` signs a test client in through the app's real routes and the sandbox::

    from authonomy_integrations.testing import login_as

    def test_admin(client):
        login_as(client, "alice", groups=["admins"], mfa=True)
        assert client.get("/admin").status_code == 200
"""

from .login import LoginAsError, alogin_as, login_as

__all__ = ["LoginAsError", "alogin_as", "login_as"]
