"""``Sandbox``: the sandbox served by uvicorn on a background thread."""

from __future__ import annotations

import base64
import contextlib
import secrets
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import uvicorn

from .._config import AuthonomyConfig
from ._app import create_app
from ._issue import TokenRequest, issue_access_token
from ._models import Delivery, MockUser
from ._seed import AUDIENCE, FULL_API_KEY, READ_ONLY_API_KEY
from ._state import SandboxState

__all__ = ["Sandbox", "bind_socket"]

_START_TIMEOUT = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket; address reuse lets a stopped sandbox rebind its port at once."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, telling the starting thread when it accepts connections."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


class Sandbox:
    """A local Authonomy on ``127.0.0.1``: ``with Sandbox() as sb: ...``.

    ``stop()`` and ``start()`` take it off the network and back on the same port with the
    same state, for outage tests; ``down()`` does both around a block.
    """

    thread_name = "authonomy-sandbox"
    """The name of the thread its server runs on. uvicorn's loggers have one name for
    every server in a process: an app served beside the sandbox tells their records
    apart by ``record.threadName``."""

    def __init__(
        self,
        token_ttl: int = 3600,
        algorithm: str = "RS256",
        rate_limits: Mapping[str, int] | None = None,
        webhook_retry_schedule: Sequence[float] | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.state = SandboxState(
            token_ttl=token_ttl,
            algorithm=algorithm,
            rate_limits=rate_limits,
            webhook_retry_schedule=webhook_retry_schedule,
        )
        self.app = create_app(self.state)
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the sandbox accepts connections."""
        return self._server is not None

    def start(self) -> None:
        """Listen (on the port of the previous start, if any) and send webhooks."""
        if self._server is not None:
            return
        sock = bind_socket(self._host, self._port)
        self._port = sock.getsockname()[1]
        self.state.issuer = f"http://{self._host}:{self._port}"
        config = uvicorn.Config(
            self.app, log_config=None, log_level="warning", access_log=False, lifespan="off",
            timeout_graceful_shutdown=2,
        )  # fmt: skip
        server = _Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=self.thread_name, daemon=True
        )
        thread.start()
        if not server.ready.wait(_START_TIMEOUT):
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the sandbox did not start on port {self._port}")
        self._server, self._thread, self._socket = server, thread, sock
        self.state.dispatcher.start()

    def stop(self) -> None:
        """Stop listening and sending; state and pending webhook retries are kept."""
        self.state.dispatcher.stop()
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=_START_TIMEOUT)
        if sock is not None:
            sock.close()

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The sandbox is unreachable inside the block and back afterwards."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    @property
    def port(self) -> int:
        """The TCP port (chosen at the first start when 0 was asked for)."""
        return self._port

    @property
    def issuer(self) -> str:
        """``http://127.0.0.1:<port>``, exactly as tokens carry it in ``iss``."""
        return self.state.issuer

    @property
    def api_base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        return f"{self.state.issuer}/v1"

    @property
    def api_key(self) -> str:
        """The seeded full-access API key."""
        return FULL_API_KEY

    @property
    def read_only_api_key(self) -> str:
        """The seeded read-only API key."""
        return READ_ONLY_API_KEY

    @property
    def audience(self) -> str:
        """The application id tokens are issued for (``aud``)."""
        return AUDIENCE

    @property
    def users(self) -> dict[str, MockUser]:
        """Mock users by username (``alice``, ``bob``, ``carol``, ...)."""
        with self.state.lock:
            return dict(self.state.users)

    @property
    def webhook_secret(self) -> str:
        """A ``whsec_`` secret generated for this sandbox; :meth:`config` carries it."""
        return self._webhook_secret

    def config(self, **overrides: Any) -> AuthonomyConfig:
        """An ``AuthonomyConfig`` pointing at this sandbox, with a fresh session secret
        and :attr:`webhook_secret`; keyword arguments win."""
        values: dict[str, Any] = {
            "environment": "sandbox",
            "api_key": self.api_key,
            "api_base_url": self.api_base_url,
            "issuer": self.issuer,
            "audience": self.audience,
            "customer_id": "acme-corp",
            "session_secret": secrets.token_urlsafe(32),
            "webhook_secret": self._webhook_secret,
            "app_url": "http://127.0.0.1:8000",
        }
        values.update(overrides)
        return AuthonomyConfig(**values)

    def issue_token(
        self,
        user: str = "alice",
        *,
        scopes: Sequence[str] | None = None,
        groups: Sequence[str] | None = None,
        mfa: bool | None = None,
        ttl: int | None = None,
        customer_id: str | None = None,
    ) -> str:
        """A signed access token, as Authonomy issues it after ``user`` signs in.

        It belongs to a new session of the sandbox, so the kit accepts it as it accepts
        any token (issuer, audience, keys, customer) and refuses it once that session is
        revoked. ``None`` keeps the mock user's own groups, MFA (enrolled or not) and
        customer, the kit's default scopes and the sandbox's token lifetime (``ttl``,
        seconds). An unknown user or customer is a ``ValueError``.
        """
        request = TokenRequest(user, scopes, groups, mfa, ttl, customer_id)
        return issue_access_token(self.state, request)

    def publish_next_key(self) -> str:
        """Publish a new signing key in the JWKS without signing with it yet, as Authonomy
        does ahead of a rotation; returns its ``kid``."""
        return self.state.keys.publish_next()

    def rotate_keys(self) -> str:
        """Sign new tokens with the key published next (a new one if none was); returns
        its ``kid``. Old keys stay published."""
        return self.state.keys.rotate()

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's time forward (codes, grace window, rate windows, tokens)."""
        self.state.clock.advance(seconds)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery attempt so far, oldest first."""
        return self.state.dispatcher.deliveries

    def wait_for_deliveries(
        self, predicate: Callable[[list[Delivery]], bool], timeout: float = 10.0
    ) -> list[Delivery]:
        """Block until ``predicate(deliveries)`` holds; ``TimeoutError`` otherwise."""
        return self.state.dispatcher.wait_for(predicate, timeout)

    def fail_next(self, method: str, path: str, times: int = 1) -> None:
        """Answer the next ``times`` API requests to ``method path`` (e.g. ``"POST",
        "/v1/auth/refresh"``) with ``500 INTERNAL_ERROR``, as a server fault would."""
        self.state.inject_faults(method, path, times)

    def request_count(self, method: str, path: str) -> int:
        """How many requests reached ``method`` ``path`` (e.g. ``"POST", "/v1/auth/refresh"``)."""
        return self.state.request_count(method, path)
