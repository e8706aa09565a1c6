"""``Authonomy``: the Quart extension object."""

from __future__ import annotations

import time
from collections.abc import Callable

from quart import Quart

from .._config import AuthonomyConfig
from .._errors import ConfigurationError
from .._runtime import AuthonomyAsync
from ..webhooks import WebhookReceiver
from ._asgi import AuthonomyASGI
from ._context import EXTENSION_KEY
from ._routes import make_blueprint

__all__ = ["Authonomy"]


class Authonomy:
    """Authonomy sign-in, sessions, policies and webhooks for a Quart app.

    ``Authonomy(app, config=config)``, or ``authonomy = Authonomy(config=config)`` and
    later ``authonomy.init_app(app)``. Without ``config``, each app's settings are read
    from its ``AUTHONOMY_*`` config keys. ``clock`` (Unix seconds) replaces ``time.time``
    for token expiry and policies, for tests.
    """

    def __init__(
        self,
        app: Quart | None = None,
        config: AuthonomyConfig | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self._clock = clock or time.time
        self._receiver: WebhookReceiver | None = None
        self._receiver_secrets: tuple[str, ...] = ()
        if config is not None:
            self._webhook_receiver(config)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Quart) -> None:
        """Install on ``app``: its runtime, the routes and the ASGI layer.

        Raises :class:`~authonomy_integrations._errors.ConfigurationError`, naming the
        field, when the configuration is invalid: the app stops before it serves.
        """
        config = self.config or AuthonomyConfig.from_mapping(app.config)
        receiver = self._webhook_receiver(config)
        runtime = AuthonomyAsync(config, clock=self._clock)
        app.extensions[EXTENSION_KEY] = runtime
        if receiver is not None:
            # Reachable from app code and tests without the extension object.
            app.extensions[f"{EXTENSION_KEY}.webhooks"] = receiver
        app.register_blueprint(make_blueprint(config, receiver))
        # Pooled connections belong to the server's loop: dropped when it stops serving.
        app.after_serving(runtime.reset_connections)
        # Who is calling is settled before Quart dispatches: see ``_asgi``.
        app.asgi_app = AuthonomyASGI(app.asgi_app, runtime)  # type: ignore[method-assign,assignment]

    @property
    def webhooks(self) -> WebhookReceiver:
        """The webhook receiver: ``@authonomy.webhooks.on("user.authenticated")``.

        It exists once a configuration with a webhook secret is known (given to the
        constructor, or read at :meth:`init_app`).
        """
        if self._receiver is None:
            raise ConfigurationError(
                "webhook_secret",
                "is required for authonomy.webhooks: pass a config that has one, or "
                "register handlers after init_app",
                variable="AUTHONOMY_WEBHOOK_SECRET",
            )
        return self._receiver

    def _webhook_receiver(self, config: AuthonomyConfig) -> WebhookReceiver | None:
        secrets = config.webhook_secrets
        if not secrets:
            return None
        if self._receiver is None:
            self._receiver = WebhookReceiver(config, clock=self._clock)
            self._receiver_secrets = secrets
        elif secrets != self._receiver_secrets:
            raise ConfigurationError(
                "webhook_secret",
                "differs from the secret of another app using this Authonomy object; "
                "use one Authonomy object per webhook secret",
            )
        return self._receiver
