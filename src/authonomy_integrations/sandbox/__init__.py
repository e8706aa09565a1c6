"""The embedded Authonomy sandbox: the whole wire contract, served locally, no account.

``with Sandbox() as sb:`` runs it on a free port of 127.0.0.1; ``hosted_login`` signs a
mock user in through its hosted pages; ``create_app`` mounts it in another ASGI server.
"""

from .app import create_app
from .browser import HostedLoginError, hosted_login
from .models import Delivery, MockUser
from .seed import (
    AUDIENCE,
    AUTHENTICATION_API_KEY,
    CONFIGURATION_API_KEY,
    FULL_API_KEY,
    READ_ONLY_API_KEY,
    SANDBOX_MFA_CODE,
)
from .server import Sandbox
from .state import SandboxState

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
