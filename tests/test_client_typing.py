"""What a type checker sees of both clients: the declared parameters and each mode's result.

Each endpoint is declared once in the core and bound to the sync client, the async client
and the core's flows; these tests run mypy on user code to show that every call is still
checked against the declaration, with the result type of the client it goes through.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

PRELUDE = """\
from collections.abc import AsyncIterator, Iterator
import httpx
from authonomy_integrations import AsyncAuthonomyClient, AuthonomyClient
from authonomy_integrations._core.api import Customer, Pages, PolicyRecord
from authonomy_integrations._core.effects import Flow

client = AuthonomyClient("ak_x", base_url="https://api.example.test/v1")
aclient = AsyncAuthonomyClient("ak_x", base_url="https://api.example.test/v1")
"""

CORRECT = """\
customer = client.customers.get("acme")
reveal_type(customer)
reveal_type(client.customers.list(status="active"))
reveal_type(client.flows.customers.get("acme"))
reveal_type(client.flows.policies.list(limit=10))
pending = aclient.customers.get("acme")
reveal_type([pending])  # in a list: a bare coroutine expression is an error of its own
pending.close()
reveal_type(aclient.webhooks.list())
client.auth.authorize(
    customer_id="acme",
    return_url="https://app.example.test/auth/callback",
    scopes=["openid"],
    code_challenge="c",
    nonce="n",
    max_age=300,
)
client.customers.create("acme", "Acme", domains=["acme.test"], plan="pro")
client.audit.logs(limit=10, actor="user_1")
found: PolicyRecord | None = client.policies.find_by_name("require-mfa")
names: Iterator[Customer] = client.customers.list()
pages: Pages[Customer] = client.flows.customers.list()
flow: Flow[Customer] = client.flows.customers.get("acme")

async def main() -> None:
    got: Customer = await aclient.customers.get("acme")
    listed: AsyncIterator[Customer] = aclient.customers.list(limit=5)
    async for item in aclient.analytics.events(type="authentication"):
        print(item["type"])
    await aclient.auth.logout(session_id="sess_1")
"""

# Each line is a mistake a user could write; the comment says what kind.
WRONG = """\
client.auth.authorize(customer_id=1)  # wrong type and missing arguments
client.customers.get("acme", colour="red")  # unknown keyword
client.customers.get()  # missing argument
client.webhooks.create(url="https://a.test", events="user.created", secret=3)  # wrong type
wrong: int = client.customers.get("acme")  # a Customer is not an int
aclient.customers.get("acme")["id"]  # a coroutine is not a Customer
client.flows.auth.refresh("rt")["access_token"]  # a flow is not its answer
client.policies.create("p", "authentication", conditions=[1])  # a list is not a Mapping
AuthonomyClient("ak_x", http_client=httpx.AsyncClient())  # the sync client needs a sync pool

async def misuse() -> None:
    await client.customers.get("acme")  # the sync client's answer is not awaitable
    for item in aclient.customers.list():  # an async listing needs async for
        pass
    async for other in client.customers.list():  # a sync listing needs plain for
        pass
"""


def check(tmp_path: Path, body: str, cache: Path) -> tuple[int, str]:
    source = tmp_path / "user_code.py"
    source.write_text(PRELUDE + textwrap.dedent(body))
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n")
    out, err, status = mypy_api.run(
        [
            "--config-file",
            str(config),
            "--cache-dir",
            str(cache),
            "--show-error-codes",
            "--no-pretty",
            str(source),
        ]
    )
    assert not err, err
    return status, out


def error_lines(output: str) -> set[int]:
    return {int(n) for n in re.findall(r"user_code\.py:(\d+): error:", output)}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def test_correct_calls_type_check_with_each_clients_result_type(
    tmp_path: Path, cache: Path
) -> None:
    status, out = check(tmp_path, CORRECT, cache)
    assert status == 0, out
    revealed = re.findall(r'Revealed type is "(.+)"', out)
    assert len(revealed) == 6, out
    customer = "TypedDict({'id': str, 'name': str, 'status': str, 'domains': list[str], "
    assert revealed[0].startswith(customer)
    assert revealed[1].startswith("typing.Iterator[" + customer)
    assert revealed[2].startswith("typing.Generator[Any, Any, " + customer)
    assert revealed[3].startswith("authonomy_integrations._core.api_envelopes.Pages[TypedDict(")
    assert "'conditions': dict[str, Any]" in revealed[3]  # a PolicyRecord
    assert revealed[4].startswith("list[typing.Coroutine[Any, Any, " + customer)
    assert revealed[5].startswith("typing.AsyncIterator[TypedDict({'id': str, 'url': str, ")


def test_each_wrong_call_is_a_type_error(tmp_path: Path, cache: Path) -> None:
    status, out = check(tmp_path, WRONG, cache)
    assert status == 1, out
    first = PRELUDE.count("\n") + 1
    body = textwrap.dedent(WRONG).splitlines()
    expected = {first + n for n, line in enumerate(body) if "#" in line}
    assert error_lines(out) == expected, out
    assert 'Unexpected keyword argument "colour"' in out
    assert "Too few arguments" in out
    assert 'Incompatible types in "await"' in out
    assert 'has no attribute "__iter__"' in out
    assert 'has no attribute "__aiter__"' in out
