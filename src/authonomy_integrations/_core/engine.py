"""The kit's authentication engine: every decision of a request, as flows without I/O.

The adapters call it through :class:`~authonomy_integrations._runtime.AuthonomySync`
(threads) or :class:`~authonomy_integrations._runtime.AuthonomyAsync` (event loop), which
drive these flows. The engine only wires its parts, each in its own module:

* :class:`~.verifier.TokenVerifier`: access and ID tokens, signing keys, bearer tokens,
  revoked Authonomy sessions;
* :class:`~.signin.LoginTransaction`: the login redirect and the callback;
* :class:`~.session_flows.SessionKeeper`: session cookies, refresh, logout;
* :class:`~.policy_checks.PolicyChecks`: policies and step-up.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from .._config import AuthonomyConfig
from .api import ApiFlows
from .context import Context
from .effects import Flow
from .events import Events
from .policy_checks import PolicyChecks
from .session_flows import SessionKeeper, SessionState
from .signin import LoginDone, LoginStart, LoginTransaction
from .user_sessions import UserSessions
from .verifier import SESSION_END_EVENTS, TokenVerifier

__all__ = ["SESSION_END_EVENTS", "Engine", "LoginDone", "LoginStart", "SessionState"]


class Engine:
    """Login, callback, bearer and session authentication, refresh, logout, policies.

    Each operation is a method of one part, bound here under the name the runtimes and
    routes use; the parts' own modules document them.
    """

    def __init__(
        self,
        config: AuthonomyConfig,
        *,
        api: ApiFlows | None = None,
        clock: Callable[[], float] = time.time,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
        session_cache_ttl: float = 0.0,
        shared_revocations: bool = False,
        events: Events | None = None,
    ) -> None:
        """``session_cache_ttl``: seconds a decoded session may be reused without reading
        the store again; 0 (the default) for stores other processes write to.
        ``shared_revocations``: the session store records ended Authonomy sessions for
        every process, so each bearer token and session is checked there too.
        ``events``: where decisions are reported (the log and ``config.on_event`` when
        not given)."""
        self.config = config
        self.events = events if events is not None else Events(config.on_event)
        api = api or ApiFlows(
            config.resolved_api_base_url,
            config.api_key or "unset",
            timeout=config.http_timeout,
            max_retries=config.max_retries,
            clock=clock,
            events=self.events,
        )
        self.api = api
        self.ctx = Context(config, api, self.events, clock, random_bytes)
        self.tokens = tokens = TokenVerifier(self.ctx, shared_revocations=shared_revocations)
        self.sessions = sessions = SessionKeeper(
            self.ctx, tokens, session_cache_ttl=session_cache_ttl
        )
        self.policy_checks = checks = PolicyChecks(self.ctx)
        self.login = login = LoginTransaction(self.ctx, tokens, sessions, checks)
        self.user_sessions = UserSessions(self.ctx, sessions)
        self.shared_revocations = shared_revocations
        self.session_cache_ttl = session_cache_ttl
        # Caches and state, by the names benchmarks and diagnostics read.
        self.keys = tokens.keys
        self.bearer_cache = tokens.bearer_cache
        self.recent_sessions = sessions.recent_sessions
        self._ended = sessions._ended
        self.policies = checks.policies
        self.login_box = login.login_box
        self.login_throttle = login.login_throttle
        self.return_url = login.return_url
        # Tokens.
        self.verify_access_token = tokens.verify_access_token
        self.verify_id_token = tokens.verify_id_token
        self.repeat_bearer = tokens.repeat_bearer
        self.report_repeat = tokens.report_repeat
        self.cached_bearer = tokens.cached_bearer
        self.authenticate_bearer = tokens.authenticate_bearer
        self.revoke_sid = tokens.revoke_sid
        # Login.
        self.resolve_customer = login.resolve_customer
        self.start_login = login.start_login
        self.finish_login = login.finish_login
        self.spent_login_cookie = login.spent_login_cookie
        self.login_refused_for = login.login_refused_for
        # Sessions.
        self.cached_session = sessions.cached_session
        self.authenticate_session = sessions.authenticate_session
        self.logout = sessions.logout
        self.access_token = sessions.access_token
        # Policies.
        self.check_policy = checks.check_policy
        self.report_policy = checks.report_policy
        self.policy_now = checks.policy_now
        self.uses_policy = checks.uses_policy

    def end_sessions(self, user_id: str, why: str = "sessions_ended") -> Flow[int]:
        """End every session of ``user_id`` (all devices, every worker sharing the store,
        their refresh tokens at Authonomy); how many the store listed."""
        ended: int = yield from self.user_sessions.end_all(user_id, why)
        return ended

    def back_channel_logout(
        self, event_type: str, sid: str | None, user_id: str | None = None
    ) -> Flow[None]:
        """React to a verified webhook: ``user.logged_out`` and ``session.revoked`` end
        the Authonomy session ``sid``; ``user.logged_out`` without one ends every session
        of ``user_id``."""
        if sid is None and user_id and event_type == "user.logged_out":
            yield from self.end_sessions(user_id, "back_channel_logout")
            return
        yield from self.tokens.back_channel_logout(event_type, sid)

    @property
    def clock(self) -> Callable[[], float]:
        """The engine's clock; replacing it changes the time every part reads."""
        return self.ctx.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.ctx.clock = clock

    @property
    def random_bytes(self) -> Callable[[int], bytes]:
        """The engine's source of random bytes."""
        return self.ctx.random_bytes
