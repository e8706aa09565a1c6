"""A Litestar app signed in with Authonomy; ``python -m examples.litestar_app`` runs it."""

from .app import create_app

__all__ = ["create_app"]
