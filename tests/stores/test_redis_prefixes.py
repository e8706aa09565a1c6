"""Both Redis stores follow one key-prefix rule: given, else the default plus the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations.stores import RedisSessionStore
from authonomy_integrations.stores._replay import RedisReplayStore

URL = "redis://127.0.0.1:1/0"  # never connected to: prefixes are decided without Redis

STORES: list[tuple[Callable[..., Any], str, str]] = [
    (RedisSessionStore, "authonomy:session:", "session_store"),
    (RedisReplayStore, "authonomy:webhook:", "replay_store"),
]


@pytest.mark.parametrize(("store_type", "default", "field"), STORES)
def test_the_default_prefix_gains_the_apps_audience_once_bound(
    store_type: Callable[..., Any], default: str, field: str
) -> None:
    store = store_type(URL)
    assert store.prefix == default
    store.bind_audience("app_one")
    store.bind_audience("app_one")  # a second worker of the same app
    assert store.prefix == f"{default}app_one:"


@pytest.mark.parametrize(("store_type", "default", "field"), STORES)
def test_one_store_object_refuses_a_second_app(
    store_type: Callable[..., Any], default: str, field: str
) -> None:
    store = store_type(URL)
    store.bind_audience("app_one")
    with pytest.raises(ConfigurationError) as caught:
        store.bind_audience("app_two")
    assert caught.value.field == field
    assert "already serves the app 'app_one'" in str(caught.value)
    assert store.prefix == f"{default}app_one:"


@pytest.mark.parametrize(("store_type", "default", "field"), STORES)
def test_a_given_prefix_is_used_whatever_the_app(
    store_type: Callable[..., Any], default: str, field: str
) -> None:
    store = store_type(URL, prefix="{shared}:keys:")
    store.bind_audience("app_one")
    store.bind_audience("app_two")
    assert store.prefix == "{shared}:keys:"


@pytest.mark.parametrize(("store_type", "default", "field"), STORES)
def test_an_empty_hash_tag_is_refused_in_a_prefix_or_an_audience(
    store_type: Callable[..., Any], default: str, field: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        store_type(URL, prefix="app{}:")
    assert caught.value.field == "prefix"
    store = store_type(URL)
    with pytest.raises(ConfigurationError) as caught:
        store.bind_audience("app{}")
    assert caught.value.field == "audience"
    assert store.prefix == default
