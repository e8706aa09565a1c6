"""The sandbox answers only at its own address: a DNS-rebinding page gets nothing.

A page at ``http://rebind.evil.example:PORT`` whose name the attacker points at
127.0.0.1 reaches the sandbox from the developer's browser with that name as ``Host``
(and as ``Origin``). Every such request is refused before any route runs.
"""

from __future__ import annotations

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox

from .helpers import api, sign_in
from .receiver import Receiver
from .test_console import console, receiver, sb, subscribe

__all__ = ["receiver", "sb"]  # the fixtures of the console's tests, reused


def _rebound(sb: Sandbox) -> str:
    return f"rebind.evil.example:{sb.port}"


def test_console_is_not_served_under_another_host(sb: Sandbox) -> None:
    answer = httpx.get(f"{sb.issuer}/console", headers={"host": _rebound(sb)})
    assert answer.status_code == 421
    assert "<h1" not in answer.text  # no page, so no form token either


def test_api_refuses_its_own_key_under_another_host(sb: Sandbox) -> None:
    headers = {"host": _rebound(sb), "authorization": f"Bearer {sb.api_key}"}
    answer = httpx.get(f"{sb.issuer}/v1/customers", headers=headers)
    assert answer.status_code == 421
    assert "acme-corp" not in answer.text


@pytest.mark.parametrize(
    "host",
    ["rebind.evil.example", "127.0.0.1", "127.0.0.1:1", "localhost.evil.example:{port}", ""],
    ids=["no-port", "own-name-no-port", "own-name-other-port", "lookalike", "empty"],
)
def test_other_host_values_are_refused(sb: Sandbox, host: str) -> None:
    answer = httpx.get(
        f"{sb.issuer}/.well-known/jwks.json", headers={"host": host.format(port=sb.port)}
    )
    assert answer.status_code == 421


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])
def test_its_own_names_with_its_port_are_served(sb: Sandbox, name: str) -> None:
    answer = httpx.get(f"{sb.issuer}/console", headers={"host": f"{name}:{sb.port}"})
    assert answer.status_code == 200
    assert "<h1" in answer.text


def test_rebound_page_cannot_resend_a_delivery(sb: Sandbox, receiver: Receiver) -> None:
    with api(sb) as client:
        subscribe(client, receiver.url)
        sign_in(client, "bob")
    sb.wait_for_deliveries(lambda log: len(log) == 1)
    form = console(sb).sections["webhooks"].forms[0]  # the token, however it was learnt
    data = {name: value for name, value in form.items() if name != "action"}
    rebound = _rebound(sb)
    headers = {"host": rebound, "origin": f"http://{rebound}"}
    answer = httpx.post(f"{sb.issuer}/console/resend", data=data, headers=headers)
    assert answer.status_code == 421
    assert len(sb.deliveries) == 1
