"""The embedded Authonomy sandbox: the whole wire contract, served locally, no account.

``with Sandbox() as sb:`` runs it on a free port of 127.0.0.1: ``sb.config()`` is an
``AuthonomyConfig`` for it (with a generated session secret and ``sb.webhook_secret``),
``sb.issue_token("alice", ...)`` a signed access token for bearer tests. ``hosted_login``
signs a mock user in through its hosted pages; ``create_app`` mounts it in another ASGI
server.

Seeded world (stable values, safe to hard-code in tests)::

    API keys    FULL_API_KEY (full), READ_ONLY_API_KEY (read),
                AUTHENTICATION_API_KEY (authentication), CONFIGURATION_API_KEY (configuration)
    audience    AUDIENCE = "app_sandbox"
    customers   acme-corp (okta, acme-corp.com, policy require-mfa), globex (azure_ad),
                initech (no IdP: IDP_NOT_CONFIGURED)
    users       alice  acme-corp  admins, engineering  MFA enrolled
                bob    acme-corp  engineering
                carol  globex     finance
    policy      pol_require_mfa "require-mfa": mfa_required, max_session_duration 28800
    MFA code    SANDBOX_MFA_CODE = "123456"

A customer created through the API gets one mock user, ``<customer id>-user``.
"""

# ruff: noqa: E402 -- the extras are checked before the imports that need them
from .._extras import require_extra

# Checked before anything imports them: a plain ModuleNotFoundError would not say which
# extra brings them.
require_extra(
    "authonomy_integrations.sandbox",
    "sandbox",
    "starlette",
    "uvicorn",
    ("python_multipart", "multipart"),
)

from ._app import create_app
from ._browser import HostedLoginError, hosted_login
from ._models import Delivery, MockUser
from ._seed import (
    AUDIENCE,
    AUTHENTICATION_API_KEY,
    CONFIGURATION_API_KEY,
    FULL_API_KEY,
    READ_ONLY_API_KEY,
    SANDBOX_MFA_CODE,
)
from ._server import Sandbox
from ._state import SandboxState

__all__ = [
    "AUDIENCE",
    "AUTHENTICATION_API_KEY",
    "CONFIGURATION_API_KEY",
    "FULL_API_KEY",
    "READ_ONLY_API_KEY",
    "SANDBOX_MFA_CODE",
    "Delivery",
    "HostedLoginError",
    "MockUser",
    "Sandbox",
    "SandboxState",
    "create_app",
    "hosted_login",
]
