"""Everything the request benchmarks share: a sandbox, real logins, configs and tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from authonomy_integrations._config import AuthonomyConfig
from authonomy_integrations._core import web
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores._cookie import CookieSessionStore
from authonomy_integrations.stores._memory import MemorySessionStore

from ._tokens import Login, mint, mint_many, public_key, real_login

#: Defined locally so ``@require_policy`` never fetches it.
POLICIES = {"require-mfa": {"mfa_required": True}}
#: Distinct tokens cycled through by first-seen variants; with a token cache of one
#: entry, every request verifies a token the cache does not hold.
FRESH_POOL = 1000


@dataclass(frozen=True)
class World:
    """Configs with their logins: memory sessions, cookie sessions, and no token cache."""

    sandbox: Sandbox
    memory_config: AuthonomyConfig
    memory_login: Login
    cookie_config: AuthonomyConfig
    cookie_login: Login
    fresh_config: AuthonomyConfig
    token: str
    """A valid access token of alice (real claims, sandbox key, plus ``client_id``)."""
    fresh_tokens: list[str]
    key: Any
    """The sandbox's public key, preloaded, for the peers."""

    @property
    def session_cookie_name(self) -> str:
        """Name of the session cookie, as the adapters set it."""
        return web.session_cookie_name(self.memory_config)

    @property
    def display_name(self) -> bytes:
        """What the endpoints answer for alice."""
        return str(self.memory_login.claims["name"]).encode()


def build_world(sb: Sandbox, fresh_pool: int = FRESH_POOL) -> World:
    """Log alice in twice (memory and cookie store) and mint the token pools."""
    memory_config = sb.config(session_store=MemorySessionStore(), policies=POLICIES)
    cookie_secret = secrets.token_urlsafe(32)
    cookie_config = sb.config(
        session_store=CookieSessionStore(cookie_secret),
        session_secret=cookie_secret,
        policies=POLICIES,
    )
    memory_login = real_login(sb, memory_config)
    return World(
        sandbox=sb,
        memory_config=memory_config,
        memory_login=memory_login,
        cookie_config=cookie_config,
        cookie_login=real_login(sb, cookie_config),
        fresh_config=sb.config(token_cache_size=1, policies=POLICIES),
        token=mint(sb, memory_login.claims),
        fresh_tokens=mint_many(sb, memory_login.claims, fresh_pool),
        key=public_key(sb),
    )
