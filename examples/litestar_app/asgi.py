"""The Litestar example as an ASGI app configured from the environment, for any number of
workers: ``uvicorn examples.litestar_app.asgi:app --workers 4`` with the ``AUTHONOMY_*``
variables set, and ``AUTHONOMY_REDIS_URL`` so the workers share sessions and webhook ids
(see ``examples/environment.py``).
"""

from __future__ import annotations

from ..environment import config_from_env
from .app import create_app

app = create_app(config_from_env())
