"""The configuration's hooks are called, never awaited: an ``async`` ``customer_resolver``
or ``on_event`` stops the app at start-up with the field named, instead of a 500 at the
first login (the resolver's coroutine taken for a customer id) or every event dropped
without a word (an ``on_event`` coroutine nobody awaits)."""

from __future__ import annotations

from typing import Any

import pytest

from authonomy_integrations import AuthEvent, AuthonomyConfig, ConfigurationError

from .test_config import GOOD


async def _async_resolver(request: Any) -> str:
    return "acme-corp"


async def _async_hook(event: AuthEvent) -> None:
    return None


class _AsyncCallable:
    async def __call__(self, value: Any) -> None:
        return None


@pytest.mark.parametrize("hook", [_async_resolver, _AsyncCallable()])
def test_an_async_customer_resolver_stops_the_app_at_start_up(hook: Any) -> None:
    with pytest.raises(ConfigurationError) as failure:
        AuthonomyConfig(**GOOD, customer_resolver=hook)
    assert failure.value.field == "customer_resolver"
    assert "not async" in str(failure.value)


def test_a_customer_resolver_that_cannot_be_called_stops_the_app_at_start_up() -> None:
    with pytest.raises(ConfigurationError) as failure:
        AuthonomyConfig(**GOOD, customer_resolver="acme-corp")
    assert failure.value.field == "customer_resolver"


@pytest.mark.parametrize("hook", [_async_hook, _AsyncCallable()])
def test_an_async_on_event_stops_the_app_at_start_up(hook: Any) -> None:
    with pytest.raises(ConfigurationError) as failure:
        AuthonomyConfig(**GOOD, on_event=hook)
    assert failure.value.field == "on_event"
    assert "not async" in str(failure.value)


def test_plain_hooks_are_accepted() -> None:
    class Resolver:
        def __call__(self, request: Any) -> str:
            return "acme-corp"

    config = AuthonomyConfig(**GOOD, customer_resolver=Resolver(), on_event=print)
    assert config.customer_resolver is not None and config.on_event is print
