"""What every part of the engine shares: the configuration, the clock, randomness, the
API flows and where events go."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._config import AuthonomyConfig
from .api import ApiFlows
from .events import Events

__all__ = ["Context", "Part"]


@dataclass(slots=True)
class Context:
    """One engine's shared settings; replacing ``clock`` here changes it for every part."""

    config: AuthonomyConfig
    api: ApiFlows
    events: Events
    clock: Callable[[], float]
    random_bytes: Callable[[int], bytes]


class Part:
    """A part of the engine: reads the shared settings of its :class:`Context`."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def config(self) -> AuthonomyConfig:
        """The app's configuration."""
        return self.ctx.config

    @property
    def api(self) -> ApiFlows:
        """The management and auth API flows."""
        return self.ctx.api

    @property
    def events(self) -> Events:
        """Where decisions are reported."""
        return self.ctx.events

    def clock(self) -> float:
        """The current time (the engine's clock)."""
        return self.ctx.clock()

    def random_bytes(self, n: int) -> bytes:
        """``n`` random bytes (the engine's source)."""
        return self.ctx.random_bytes(n)
