"""The URL prefix rules of the core, on their own: where an ASGI app routes a path under
its ``root_path``, how a prefix is written, and which return targets stay inside it."""

from __future__ import annotations

import pytest

from authonomy_integrations._core.login import next_in_app
from authonomy_integrations._core.serving import route_path
from authonomy_integrations._core.targets import prefixed, url_prefix


@pytest.mark.parametrize(
    ("path", "root", "routed"),
    [
        ("/shop/auth/login", "/shop", "/auth/login"),
        ("/shop", "/shop", ""),
        ("/shopping/auth/login", "/shop", "/shopping/auth/login"),
        ("/auth/login", "/shop", "/auth/login"),
        ("/auth/login", "", "/auth/login"),
    ],
)
def test_route_path_drops_the_root_path_as_starlette_routes(
    path: str, root: str, routed: str
) -> None:
    assert route_path(path, root) == routed


@pytest.mark.parametrize(
    ("root", "prefix"),
    [(None, ""), ("", ""), ("/", ""), ("/shop/", "/shop"), ("/my shop", "/my%20shop")],
)
def test_a_prefix_is_written_percent_encoded_without_a_trailing_slash(
    root: str | None, prefix: str
) -> None:
    assert url_prefix(root) == prefix


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/shop/a?b=1", "/shop/a?b=1"), ("/a?b=1", "/shop/a?b=1"), ("/shop?x", "/shop?x")],
)
def test_a_target_gets_the_prefix_once(target: str, expected: str) -> None:
    assert prefixed(target, "/shop") == expected


@pytest.mark.parametrize(
    "value",
    ["/shop/orders?page=2", "/shop", "/shop/", "/shop/a%2Fb"],
)
def test_a_return_target_inside_the_prefix_is_kept(value: str) -> None:
    assert next_in_app(value, "/shop") == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "/",
        "/admin",
        "/shopping",
        "//evil.example/shop/",
        "https://evil.example/shop/",
        "/shop/../admin",
        "/shop/%2e%2e/admin",
        "/shop/%252e%252e/admin",
        "/shop/./../admin",
    ],
)
def test_a_return_target_outside_the_prefix_is_the_apps_root(value: str | None) -> None:
    assert next_in_app(value, "/shop") == "/shop/"


def test_without_a_prefix_the_rules_are_safe_next_s() -> None:
    assert next_in_app("/admin", "") == "/admin"
    assert next_in_app("//evil.example", "") == "/"
