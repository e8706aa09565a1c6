"""Resident memory of 100,000 sessions and 100,000 cached tokens, and the bounds.

Sessions are realistic records: access tokens signed by the sandbox (1,000 distinct
token pools, each record with its own session id and refresh token), stored through
``MemorySessionStore.save`` as the engine does after a login. Cached tokens are what
``Engine.authenticate_bearer`` puts in its ``TokenCache``: the token string and the
user built from its claims; the 100,000 strings are distinct tokens of real length and
claims (the cache never verifies, so their signature segment is copied from a real one).

``python -m benchmarks.memory_bench [--quick]``
"""

from __future__ import annotations

import base64
import gc
import json
import os
import secrets
import sys
import time
from typing import Any

from authonomy_integrations._core.sessions import TokenSet, new_record, new_session_id
from authonomy_integrations._core.token_cache import TokenCache
from authonomy_integrations._core.user import AuthonomyUser
from authonomy_integrations._runtime import AuthonomySync
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores._memory import MemorySessionStore

from ._harness import Row, SuiteResult, Target, finish
from ._tokens import Login, mint_many, payload, real_login

MB = 1024 * 1024
LIMIT_MB = 200


def rss() -> int:
    """Resident set size of this process in bytes, after a full collection."""
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _row(name: str, grown: int, count: int, note: str = "") -> Row:
    per = grown / count
    return Row(
        "memory",
        name,
        round(grown / MB, 1),
        (0.0, 0.0),
        None,
        None,
        f"{per:,.0f} bytes each; {note}".strip("; "),
    )


def fill_sessions(store: MemorySessionStore, pool: list[str], count: int, start: float) -> None:
    """Save ``count`` sessions of distinct ids, cycling through the token pool."""
    claims = [payload(token) for token in pool]
    for i in range(count):
        tokens = TokenSet(
            access_token=pool[i % len(pool)],
            refresh_token=f"rt_{secrets.token_urlsafe(32)}",
            id_token=None,
            expires_at=start + 3600,
            scope="openid profile email groups",
        )
        store.save(new_record(new_session_id(), tokens, claims[i % len(pool)], start), 8 * 3600)


def sessions(sb: Sandbox, login: Login, count: int, result: SuiteResult) -> None:
    """RSS growth for ``count`` sessions, then overfill by 20% and show the bound holds."""
    pool = mint_many(sb, login.claims, 1000)
    store = MemorySessionStore(maxsize=count)
    before = rss()
    fill_sessions(store, pool, count, time.time())
    grown = rss() - before
    result.rows.append(_row(f"MemorySessionStore, {count:,} sessions", grown, count))
    fill_sessions(store, pool, count // 5, time.time())
    held = len(store)
    result.rows.append(
        Row(
            "bounds",
            f"MemorySessionStore(maxsize={count:,}) after {count + count // 5:,} saves",
            float(held),
            (0.0, 0.0),
            note=f"{held:,} held",
        )
    )
    result.targets.append(
        Target(
            f"memory: {count:,} sessions",
            f"< {LIMIT_MB} MB",
            f"{grown / MB:.1f} MB",
            grown < LIMIT_MB * MB,
        )
    )
    result.targets.append(
        Target(
            "bound: MemorySessionStore",
            f"never more than maxsize={count:,}",
            f"{held:,} after {count + count // 5:,} saves",
            held <= count,
        )
    )


def _lookalike(token: str, claims: dict[str, Any], i: int) -> tuple[str, dict[str, Any]]:
    header, _, signature = token.split(".")
    changed = {
        **claims,
        "sub": f"user_cache{i:06d}",
        "sid": f"ses_cache{i:06d}",
        "jti": secrets.token_urlsafe(16),
    }
    body = (
        base64.urlsafe_b64encode(json.dumps(changed, separators=(",", ":")).encode())
        .rstrip(b"=")
        .decode()
    )
    return f"{header}.{body}.{signature}", changed


def token_cache(login: Login, count: int, result: SuiteResult) -> None:
    """RSS growth of ``count`` cached tokens in a ``TokenCache`` sized for them; overfill."""
    cache = TokenCache(maxsize=count)
    entries = [
        _lookalike(login.access_token, dict(login.claims), i) for i in range(count + count // 5)
    ]
    before = rss()
    for token, claims in entries[:count]:
        cache.put(token, {"exp": claims["exp"], "__user__": AuthonomyUser.from_claims(claims)})
    grown = rss() - before
    result.rows.append(
        _row(f"TokenCache, {count:,} tokens", grown, count, "token strings included")
    )
    for token, claims in entries[count:]:
        cache.put(token, {"exp": claims["exp"], "__user__": AuthonomyUser.from_claims(claims)})
    held = len(cache)
    result.rows.append(
        Row(
            "bounds",
            f"TokenCache(maxsize={count:,}) after {len(entries):,} puts",
            float(held),
            (0.0, 0.0),
            note=f"{held:,} held",
        )
    )
    result.targets.append(
        Target(
            "bound: TokenCache",
            f"never more than maxsize={count:,}",
            f"{held:,} after {len(entries):,} puts",
            held <= count,
        )
    )


def engine_bound(sb: Sandbox, login: Login, result: SuiteResult) -> None:
    """The engine's own cache, through real verifications: config bound 500, 1,000 tokens."""
    kit = AuthonomySync(sb.config(token_cache_size=500))
    try:
        for token in mint_many(sb, login.claims, 1000):
            kit.authenticate_bearer(token)
        held = len(kit.engine.bearer_cache)
    finally:
        kit.close()
    result.rows.append(
        Row(
            "bounds",
            "Engine bearer cache (token_cache_size=500) after 1,000 first-seen tokens",
            float(held),
            (0.0, 0.0),
            note=f"{held:,} held",
        )
    )
    result.targets.append(
        Target(
            "bound: engine bearer cache",
            "never more than token_cache_size=500",
            f"{held:,} after 1,000 tokens",
            held <= 500,
        )
    )


def main(argv: list[str]) -> None:
    """Sessions, token cache, and the engine's configured bound."""
    count = 10_000 if "--quick" in argv else 100_000
    result = SuiteResult(suite="memory")
    with Sandbox() as sb:
        login = real_login(sb, sb.config(session_store=MemorySessionStore()))
        sessions(sb, login, count, result)
        token_cache(login, count, result)
        engine_bound(sb, login, result)
    result.notes.append(
        "memory: growth of resident set size (/proc/self/statm) after gc; median_us column holds MB"
    )
    finish(result, argv)


if __name__ == "__main__":
    main(sys.argv[1:])
