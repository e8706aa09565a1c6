"""``Authonomy``: the Flask extension object."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask

from .._config import AuthonomyConfig
from .._errors import ConfigurationError
from .._runtime import AuthonomySync
from ..webhooks import WebhookReceiver
from ._context import EXTENSION_KEY
from ._routes import make_blueprint
from ._wsgi import AuthonomyWSGI

__all__ = ["Authonomy"]


class Authonomy:
    """Authonomy sign-in, sessions, policies and webhooks for a Flask app.

    ``Authonomy(app, config=config)``, or ``authonomy = Authonomy(config=config)`` and
    later ``authonomy.init_app(app)``. Without ``config``, each app's settings are read
    from its ``AUTHONOMY_*`` config keys. ``clock`` (Unix seconds) replaces ``time.time``
    for token expiry and policies, for tests.
    """

    def __init__(
        self,
        app: Flask | None = None,
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

    def init_app(self, app: Flask) -> None:
        """Install on ``app``: its runtime, the routes and the request hooks.

        Raises :class:`~authonomy_integrations._errors.ConfigurationError`, naming the
        field, when the configuration is invalid.
        """
        config = self.config or AuthonomyConfig.from_mapping(app.config)
        receiver = self._webhook_receiver(config)
        runtime = AuthonomySync(config, clock=self._clock)
        app.extensions[EXTENSION_KEY] = runtime
        if receiver is not None:
            # Reachable from app code and tests without the extension object.
            app.extensions[f"{EXTENSION_KEY}.webhooks"] = receiver
        app.register_blueprint(make_blueprint(config, receiver))
        # Who is calling is settled before Flask dispatches: see ``_wsgi``.
        app.wsgi_app = AuthonomyWSGI(app.wsgi_app, runtime)  # type: ignore[method-assign]

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
