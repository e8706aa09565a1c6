"""The kit's routes and guards, framework-free: what login, callback, logout and a guarded
endpoint answer, given what the adapter read off the request.

Each adapter builds a :class:`RequestInfo`, runs the flow with its runtime, and turns the
:class:`Answer` (or guard :class:`~.web.Reply`) into its own response type. So the two
adapters cannot drift apart: they share every decision, and only translate.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .._errors import (
    OUTAGE_ERRORS,
    AuthonomyAPIError,
    LoginError,
    PolicyUnavailableError,
    SessionError,
)
from . import web
from .devices import device_of
from .effects import Flow
from .engine import Engine
from .events import CALLBACK_REFUSED, LOGIN_FAILED, POLICY_FAILED, login_reason, reason_code
from .login import CALLBACK_REFUSALS
from .origins import Origin, Origins
from .policies import Policy, PolicyDecision, evaluate, note_guard_policy
from .scopes import checked_scopes, insufficient_scope, missing_scopes
from .session_flows import SessionState
from .user import AuthonomyUser
from .web import Reply

__all__ = [
    "TEMPORARY_ERRORS",
    "Answer",
    "RequestInfo",
    "Requirement",
    "Routes",
]

logger = logging.getLogger("authonomy_integrations")

T = TypeVar("T")
#: A route's flow: what the kit answers on one of its paths.
Route = Callable[["RequestInfo"], Flow["Answer"]]
#: Characters of a session handle (URL-safe base64 of 16 bytes).
_HANDLE_LENGTH = 22

#: Errors that mean "cannot answer right now" (Authonomy or the session store out of
#: reach): 503 with ``Retry-After``, and the session is kept.
TEMPORARY_ERRORS = (*OUTAGE_ERRORS, SessionError)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What the kit needs to know about a request, read off it by the adapter."""

    method: str
    headers: Mapping[str, str]
    """Request headers with lower-case names."""
    target: str
    """Path and query string: where to come back to after a login."""
    query: Mapping[str, str]
    client_ip: str | None = None
    session_cookie: str | None = None
    login_cookie: str | None = None
    request: Any = None
    """The framework's request object, handed to ``config.customer_resolver``."""
    prefix: str = ""
    """The URL prefix the app is served under (ASGI ``root_path``, WSGI ``SCRIPT_NAME``,
    as :func:`~.targets.url_prefix` gives it), ``""`` at the site's root: every URL the
    kit builds for the browser starts with it."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A route's reply and the ``Set-Cookie`` values to send with it."""

    reply: Reply
    cookies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a guard demands: a signed-in user, and maybe a policy by name or a local one,
    or scopes its access token must grant."""

    description: str
    policy_name: str | None = None
    local_policy: Policy | None = None
    needed_scopes: tuple[str, ...] = ()

    @classmethod
    def signed_in(cls) -> Requirement:
        """Any signed-in user."""
        return cls("login_required")

    @classmethod
    def policy(cls, name: str) -> Requirement:
        """A user who meets the policy ``name`` (from ``config.policies`` or the API)."""
        if not isinstance(name, str) or not name:
            raise TypeError("require_policy needs a policy name")
        note_guard_policy(name)
        return cls(f"require_policy({name!r})", policy_name=name)

    @classmethod
    def groups(cls, *groups: str) -> Requirement:
        """A user in at least one of ``groups``: a local ``allowed_groups`` policy."""
        policy = Policy.local(f"groups:{','.join(groups)}", {"allowed_groups": list(groups)})
        return cls(f"require_groups{groups!r}", local_policy=policy)

    @classmethod
    def scopes(cls, *scopes: str) -> Requirement:
        """A user whose access token grants every one of ``scopes``."""
        needed = checked_scopes(scopes)
        return cls(f"require_scopes{needed!r}", needed_scopes=needed)


#: The origin in use of an app with one origin: ``app_url``'s, whatever the ``Host``.
_THE_ONE = Origin(url="", host="")


def _code(value: str | None) -> str | None:
    """A customer id read off the query, only when it has the form of one."""
    return value if value is not None and reason_code(value, "") == value else None


def _private(reply: Reply) -> Reply:
    """``reply`` kept out of caches and ``Referer`` headers: the callback URL holds a code."""
    present = {name for name, _ in reply.headers}
    extra = tuple(
        header
        for header in (("cache-control", "no-store"), ("referrer-policy", "no-referrer"))
        if header[0] not in present
    )
    return dataclasses.replace(reply, headers=reply.headers + extra)


class Routes:
    """Login, callback, logout and guards for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.config = engine.config
        self.session_cookie = web.session_cookie_name(self.config)
        self.login_cookie = web.login_cookie_name(self.config)
        self.origins = Origins(self.config.origins)
        #: The route flow serving each of the kit's paths; none for an API-only app.
        self.by_path: dict[str, Route] = {}
        #: Where ``{sessions_path}/{id}/end`` paths start; ``None`` for an API-only app.
        self.session_prefix: str | None = None
        if self.config.login_path is not None:
            self.by_path = {
                self.config.login_path: self.login,
                self.config.callback_path: self.callback,
                self.config.logout_path: self.logout,
                self.config.sessions_path: self.sessions,
            }
            self.session_prefix = self.config.sessions_path.rstrip("/") + "/"
        #: Paths whose requests have no caller to settle: the kit's routes read their
        #: own cookies, and webhook deliveries are judged by their signature alone (a
        #: stray ``Authorization`` header must not refuse them).
        self.unauthenticated = frozenset({*self.by_path, self.config.webhook_path})

    # --- routes ------------------------------------------------------------------------

    def login(self, info: RequestInfo) -> Flow[Answer]:
        """``GET login_path?next=&customer=&step_up=``: start a login at Authonomy.

        A client that started more than ``config.login_rate_limit`` logins in the window
        gets 429 instead (see :mod:`.throttle`), signed in or not.
        """
        # Not HEAD either: each start is a call to Authonomy and a new login attempt.
        if info.method != "GET":
            return Answer(web.method_not_allowed("GET"))
        origin = self._origin(info, LOGIN_FAILED)
        if origin is None:
            return Answer(web.unknown_host(info.method, info.headers))
        # Browsers only: a test client that follows the callback by its path is unaffected.
        host = None if self.origins.several else web.foreign_host(self.config, info.headers)
        if host is not None and web.is_browser_navigation(info.method, info.headers):
            if web.other_port(self.config, info.headers) is not None:
                return Answer(self._login_on_other_port(host))
            logger.warning(
                "login started on host %r but app_url is %r: the browser returns to "
                "app_url's host without the login cookie set here, and the sign-in fails. "
                "Open the app at app_url, or set AUTHONOMY_APP_URL to the address in use",
                host,
                self.config.app_url,
            )
        # Every start counts, a signed-in browser's too: one account must not be able
        # to spend the app's authorize quota either.
        retry_after = yield from self.engine.login_refused_for(info.client_ip)
        if retry_after is not None:
            self.engine.events.emit(
                LOGIN_FAILED,
                "rate_limited",
                level=logging.WARNING,
                client=self.engine.login_throttle.label(info.client_ip),
            )
            return Answer(web.too_many_logins(retry_after, info.method, info.headers))
        try:
            query = info.query
            customer = self.engine.resolve_customer(
                query.get("customer"), info.request, origin.customer
            )
            start = yield from self.engine.start_login(
                customer_id=customer,
                next_path=query.get("next"),
                login_cookie=info.login_cookie,
                step_up=query.get("step_up") or None,
                session_cookie=info.session_cookie,
                origin=origin.url or None,
                prefix=info.prefix,
            )
        except Exception as exc:
            return Answer(self._login_trouble(exc, info))
        return Answer(web.redirect(start.redirect_url), (self._login_cookie(start.login_cookie),))

    def callback(self, info: RequestInfo) -> Flow[Answer]:
        """``GET callback_path?code=&state=&iss=``: finish the login, start the session."""
        # Not HEAD either: a link checker's HEAD would spend the single-use code.
        if info.method != "GET":
            return Answer(web.method_not_allowed("GET"))
        origin = self._origin(info, CALLBACK_REFUSED)
        if origin is None:
            return Answer(_private(web.unknown_host(info.method, info.headers)))
        if not info.login_cookie and "state" in info.query:
            return Answer(_private(self._login_cookie_missing(info, origin)))
        try:
            done = yield from self.engine.finish_login(
                info.query,
                login_cookie=info.login_cookie,
                old_session=info.session_cookie,
                origin=origin.url or None,
                device=device_of(info.headers, info.client_ip),
                prefix=info.prefix,
            )
        except Exception as exc:
            reply = _private(self._login_trouble(exc, info))
            spent = self.engine.spent_login_cookie(info.query.get("state"), info.login_cookie)
            return Answer(reply, (self._login_cookie(spent),) if spent is not None else ())
        cookies = (
            web.set_cookie(
                self.config, self.session_cookie, done.session_cookie, self.config.session_max_age
            ),
            self._login_cookie(done.login_cookie),
        )
        return Answer(_private(web.redirect(done.redirect_to)), cookies)

    def logout(self, info: RequestInfo) -> Flow[Answer]:
        """``POST logout_path`` from the app's own pages: end the session, clear the cookie.

        With ``everywhere=1`` in the query, every session of the user ends: on all
        devices, in every worker, and at Authonomy."""
        refused = self._not_from_own_pages(info)
        if refused is not None:
            return Answer(refused)
        try:
            if info.query.get("everywhere") == "1":
                yield from self.engine.user_sessions.logout_everywhere(info.session_cookie)
            else:
                yield from self.engine.logout(info.session_cookie)
        except TEMPORARY_ERRORS as exc:  # the store out of reach: nothing ended yet
            logger.warning("logout answered 503: %s", exc)
            return Answer(web.unavailable(exc, info.method, info.headers))
        clear = web.clear_cookie(self.config, self.session_cookie)
        after = info.prefix + self.config.after_logout_path
        return Answer(web.redirect(after, status=303), (clear,))

    def route(self, path: str) -> Route | None:
        """The route flow serving ``path`` (``self.login`` ...), or ``None``."""
        return self.finder(self.by_path)(path)

    def finder(self, table: Mapping[str, T]) -> Callable[[str], T | Route | None]:
        """A lookup of request paths: ``table``'s entry for the exact path, else the
        route of a ``{sessions_path}/{id}/end`` path. An app's own path costs the dict
        lookup and one prefix test."""
        get, prefix, session_route = table.get, self.session_prefix, self._session_route
        if prefix is None:
            return get

        def find(path: str) -> T | Route | None:
            found = get(path)
            if found is None and path.startswith(prefix):
                return session_route(path[len(prefix) :])
            return found

        return find

    def _session_route(self, rest: str) -> Route | None:
        """The route of ``{id}/end`` under ``sessions_path``, or ``None``."""
        handle, _, action = rest.partition("/")
        if action != "end" or len(handle) != _HANDLE_LENGTH:
            return None
        return lambda info: self.end_session(info, handle)

    def sessions(self, info: RequestInfo) -> Flow[Answer]:
        """``GET sessions_path``: the signed-in user's sessions as JSON, newest first."""
        if info.method not in ("GET", "HEAD"):
            return Answer(web.method_not_allowed("GET"))
        try:
            found = yield from self.engine.user_sessions.listing(info.session_cookie)
        except TEMPORARY_ERRORS as exc:
            return Answer(web.unavailable(exc, info.method, info.headers))
        cookies = self._state_cookies(found.state)
        if found.body is None:
            return Answer(self._signed_out(info), cookies)
        return Answer(Reply(200, found.body, headers=(("cache-control", "no-store"),)), cookies)

    def end_session(self, info: RequestInfo, handle: str) -> Flow[Answer]:
        """``POST {sessions_path}/{id}/end`` from the app's own pages: end one of the
        user's sessions (the caller's own too: then its cookie is cleared)."""
        refused = self._not_from_own_pages(info)
        if refused is not None:
            return Answer(refused)
        try:
            ended = yield from self.engine.user_sessions.end_by_handle(info.session_cookie, handle)
        except TEMPORARY_ERRORS as exc:
            return Answer(web.unavailable(exc, info.method, info.headers))
        cookies = self._state_cookies(ended.state)
        if ended.state.user is None:
            return Answer(self._signed_out(info), cookies)
        if not ended.found:
            body = web.error_envelope("NOT_FOUND", "No such session of this user")
            return Answer(Reply(404, body), cookies)
        if ended.current:
            cookies = (web.clear_cookie(self.config, self.session_cookie),)
        return Answer(Reply(200, json.dumps({"ended": True}).encode()), cookies)

    def _not_from_own_pages(self, info: RequestInfo) -> Reply | None:
        """The refusal of a POST that ends sessions (logout, ending one, everywhere) when
        it is not a POST from the app's own pages (CSRF defence); else ``None``."""
        if info.method != "POST":
            return web.post_only(self.config, info.method, info.headers)
        origin = self._origin(info, None)
        if origin is None:
            return web.unknown_host(info.method, info.headers)
        if not web.logout_allowed(self.config, info.headers, origin.url or None):
            return web.logout_refused()
        return None

    def _signed_out(self, info: RequestInfo) -> Reply:
        return web.unauthenticated(
            self.config, info.method, info.headers, info.target, prefix=info.prefix
        )

    def _state_cookies(self, state: SessionState) -> tuple[str, ...]:
        """The ``Set-Cookie`` a session's refresh or end needs."""
        config = self.config
        if state.set_cookie is not None:
            name, value = self.session_cookie, state.set_cookie
            return (web.set_cookie(config, name, value, config.session_max_age),)
        if state.clear_cookie:
            return (web.clear_cookie(config, self.session_cookie),)
        return ()

    def _login_cookie(self, value: str) -> str:
        return web.set_cookie(self.config, self.login_cookie, value, self.config.login_timeout)

    def _origin(self, info: RequestInfo, event: str | None) -> Origin | None:
        """The origin this request to a kit's route is served at; ``None`` (reported
        as ``event`` with the reason ``unknown_host``) when the app has several and the
        request's ``Host`` names none of them."""
        if not self.origins.several:
            return _THE_ONE
        host = info.headers.get("host")
        origin = self.origins.match(host)
        if origin is None and event is not None:
            # repr: the Host is the client's text, kept to one printable line.
            self.engine.events.emit(
                event, "unknown_host", level=logging.WARNING, host=repr(host)[:200]
            )
        elif origin is None:
            logger.warning("logout refused: host %r is none of app_url's origins", host)
        return origin

    def _login_on_other_port(self, host: str) -> Reply:
        # Answered before Authonomy is asked: the sign-in would return to another server.
        logger.warning(
            "login started on %r, another port than app_url %r: refused with a page, as "
            "the browser would come back to app_url. Open the app there, or set "
            "AUTHONOMY_APP_URL to the address in use",
            host,
            self.config.app_url,
        )
        return web.login_on_other_port(self.config, host)

    def _login_cookie_missing(self, info: RequestInfo, origin: Origin) -> Reply:
        host = info.headers.get("host", "")
        self.engine.events.emit(CALLBACK_REFUSED, "login_cookie_missing")
        logger.warning(
            "login callback on host %r came without its login cookie; app_url is %r. "
            "Sign-ins must start on app_url's host (a cookie set on another host, e.g. "
            "localhost instead of 127.0.0.1, is not sent back): open the app at app_url "
            "or set AUTHONOMY_APP_URL to the address the browser uses",
            host,
            self.config.app_url,
        )
        host = host or web.app_host(self.config)
        return web.login_cookie_missing(self.config, host, origin.url or None)

    def _login_trouble(self, exc: Exception, info: RequestInfo) -> Reply:
        events = self.engine.events
        customer = info.query.get("customer")
        if isinstance(exc, TEMPORARY_ERRORS):
            events.emit(LOGIN_FAILED, "unavailable", level=logging.WARNING, detail=str(exc))
            return web.unavailable(exc, info.method, info.headers)
        if isinstance(exc, LoginError):
            if exc.error in CALLBACK_REFUSALS:
                events.emit(CALLBACK_REFUSED, exc.error, detail=exc.reason)
            else:
                reason = login_reason(exc.error)
                events.emit(LOGIN_FAILED, reason, customer_id=_code(customer), detail=exc.reason)
            return web.login_failed(exc)
        if isinstance(exc, AuthonomyAPIError):
            # INVALID_CUSTOMER, IDP_NOT_CONFIGURED, ...: the user can act on the message.
            code = exc.code.lower()
            events.emit(
                LOGIN_FAILED, reason_code(code, "api_error"), level=logging.WARNING, detail=str(exc)
            )
            return web.login_failed(LoginError(exc.message, error=code))
        raise exc

    # --- guards ------------------------------------------------------------------------

    def passes_now(
        self, requirement: Requirement, user: AuthonomyUser | None, client_ip: str | None
    ) -> bool:
        """Whether ``user`` meets ``requirement`` on what is known already (no fetch).

        ``False`` means "run :meth:`guard`": it decides the refusal, or fetches first.
        Adapters call this first so a request that passes costs no flow and no
        :class:`RequestInfo`.
        """
        if user is None:
            return False
        if requirement.needed_scopes:
            return not missing_scopes(requirement.needed_scopes, user)
        if requirement.local_policy is not None:
            now = self.engine.clock()
            decision = evaluate(
                requirement.local_policy,
                user,
                client_ip=client_ip,
                now=now,
                leeway=self.config.leeway,
            )
        elif requirement.policy_name is None:
            return True
        else:
            found = self.engine.policy_now(requirement.policy_name, user, client_ip)
            if found is None:
                return False
            decision = found
        if decision.allowed:
            self.engine.report_policy(decision, user)
        return decision.allowed

    def guard(
        self, requirement: Requirement, info: RequestInfo, user: AuthonomyUser | None
    ) -> Flow[Reply | None]:
        """``None`` when ``user`` meets ``requirement``, else the reply to answer with."""
        if user is None:
            return web.unauthenticated(
                self.config, info.method, info.headers, info.target, prefix=info.prefix
            )
        if requirement.needed_scopes:
            return self._scope_refusal(requirement.needed_scopes, info, user)
        try:
            decision = yield from self._decision(requirement, info, user)
        except TEMPORARY_ERRORS as exc:
            return web.unavailable(exc, info.method, info.headers)
        except PolicyUnavailableError as exc:  # the cause is logged where the fetch failed
            self.engine.events.emit(
                POLICY_FAILED,
                "unavailable",
                user_id=user.id,
                customer_id=user.customer_id,
                policy=exc.policy,
                detail=exc.failure,
            )
            return web.policy_unavailable(info.method, info.headers)
        if decision is None or decision.allowed:
            return None
        return web.policy_denied(
            self.config, decision, info.method, info.headers, info.target, info.prefix
        )

    def _scope_refusal(
        self, needed: tuple[str, ...], info: RequestInfo, user: AuthonomyUser
    ) -> Reply | None:
        missing = missing_scopes(needed, user)
        if not missing:
            return None
        self.engine.events.emit(
            POLICY_FAILED,
            "insufficient_scope",
            user_id=user.id,
            customer_id=user.customer_id,
            missing=list(missing),
        )
        return insufficient_scope(needed, missing, info.method, info.headers)

    def _decision(
        self, requirement: Requirement, info: RequestInfo, user: AuthonomyUser
    ) -> Flow[PolicyDecision | None]:
        if requirement.local_policy is not None:
            now = self.engine.clock()
            local = evaluate(
                requirement.local_policy,
                user,
                client_ip=info.client_ip,
                now=now,
                leeway=self.config.leeway,
            )
            self.engine.report_policy(local, user)
            return local
        if requirement.policy_name is None:
            return None
        decision: PolicyDecision = yield from self.engine.check_policy(
            requirement.policy_name, user, info.client_ip
        )
        return decision
