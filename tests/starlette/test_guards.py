"""The guards on a Starlette app and a FastAPI app alike, through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from authonomy_integrations._errors import ConfigurationError
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.starlette import login_required, require_groups

from ..browsing import API, PAGE, bearer, mint
from .apps import APP_FACTORIES, VARIANTS, whoami


@pytest.fixture(scope="module")
def alice(sb: Sandbox) -> dict[str, str]:
    """API headers of alice: admins, signed in with MFA."""
    return bearer(mint(sb))


@pytest.fixture(scope="module")
def bob(sb: Sandbox) -> dict[str, str]:
    """API headers of bob: engineering only, no MFA."""
    token = mint(
        sb,
        sub="user_bob",
        email="bob@acme-corp.com",
        name="Bob Brown",
        groups=["engineering"],
        amr=["pwd"],
    )
    return bearer(token)


@pytest.fixture(scope="module", params=sorted(APP_FACTORIES))
def client(request: pytest.FixtureRequest, sb: Sandbox) -> Iterator[TestClient]:
    app = APP_FACTORIES[request.param](sb)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.mark.parametrize("variant", VARIANTS)
def test_login_required_sends_browser_to_login(client: TestClient, variant: str) -> None:
    answer = client.get(f"/login/{variant}?x=1", headers=PAGE)
    assert answer.status_code == 302
    assert answer.headers["location"] == f"/auth/login?next=%2Flogin%2F{variant}%3Fx%3D1"


@pytest.mark.parametrize("variant", VARIANTS)
def test_login_required_answers_api_call_with_401(client: TestClient, variant: str) -> None:
    answer = client.get(f"/login/{variant}", headers=API)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "UNAUTHENTICATED"
    assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("variant", VARIANTS)
def test_login_required_serves_signed_in_user(
    client: TestClient, variant: str, bob: dict[str, str]
) -> None:
    answer = client.get(f"/login/{variant}", headers=bob)
    assert answer.status_code == 200
    expected = "user_bob" if variant.endswith("-request") else "not asked"
    assert answer.json() == {"user": expected}


@pytest.mark.parametrize("variant", VARIANTS)
def test_require_groups_refuses_user_outside_groups(
    client: TestClient, variant: str, bob: dict[str, str]
) -> None:
    answer = client.get(f"/admins/{variant}", headers=bob)
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "POLICY_VIOLATED"
    assert "admins" in error["message"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_require_groups_admits_member(
    client: TestClient, variant: str, alice: dict[str, str]
) -> None:
    assert client.get(f"/admins/{variant}", headers=alice).status_code == 200


@pytest.mark.parametrize("variant", VARIANTS)
def test_require_policy_refuses_user_without_mfa(
    client: TestClient, variant: str, bob: dict[str, str]
) -> None:
    answer = client.get(f"/mfa/{variant}", headers=bob)
    assert answer.status_code == 403
    assert answer.json()["error"]["details"]["policy"] == "require-mfa"


@pytest.mark.parametrize("variant", VARIANTS)
def test_require_policy_admits_user_with_mfa(
    client: TestClient, variant: str, alice: dict[str, str]
) -> None:
    assert client.get(f"/mfa/{variant}", headers=alice).status_code == 200


@pytest.mark.parametrize("variant", VARIANTS)
def test_require_policy_sends_signed_out_browser_to_login(client: TestClient, variant: str) -> None:
    answer = client.get(f"/mfa/{variant}", headers=PAGE)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("/auth/login?next=")


def test_stacked_guards_all_apply(
    client: TestClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    assert client.get("/stacked", headers=API).status_code == 401
    assert client.get("/stacked", headers=bob).status_code == 403
    assert client.get("/stacked", headers=alice).json() == {"user": "user_alice"}


def test_ip_allowlist_policy_sees_the_client_address(sb: Sandbox, alice: dict[str, str]) -> None:
    app = APP_FACTORIES["fastapi"](sb)
    with TestClient(app, client=("10.1.2.3", 50000)) as office:
        assert office.get("/office/async-request", headers=alice).status_code == 200
    with TestClient(app, client=("192.0.2.7", 50000)) as elsewhere:
        answer = elsewhere.get("/office/async-request", headers=alice)
        assert answer.status_code == 403
        assert "client address not allowed" in answer.json()["error"]["message"]


# --- FastAPI dependencies ---------------------------------------------------------


@pytest.fixture(scope="module")
def fastapi_client(sb: Sandbox) -> Iterator[TestClient]:
    with TestClient(APP_FACTORIES["fastapi"](sb), follow_redirects=False) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/dep/login", "/dep/mfa", "/dep/admins", "/dep/me"])
def test_dependency_refuses_signed_out_api_call(fastapi_client: TestClient, path: str) -> None:
    answer = fastapi_client.get(path, headers=API)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("path", ["/dep/login", "/dep/mfa", "/dep/admins", "/dep/me"])
def test_dependency_sends_signed_out_browser_to_login(
    fastapi_client: TestClient, path: str
) -> None:
    answer = fastapi_client.get(path, headers=PAGE)
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("/auth/login?next=")


@pytest.mark.parametrize("path", ["/dep/mfa", "/dep/admins"])
def test_dependency_refuses_user_failing_the_check(
    fastapi_client: TestClient, path: str, bob: dict[str, str]
) -> None:
    answer = fastapi_client.get(path, headers=bob)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "POLICY_VIOLATED"


@pytest.mark.parametrize("path", ["/dep/mfa", "/dep/admins", "/dep/me"])
def test_dependency_hands_the_user_to_the_endpoint(
    fastapi_client: TestClient, path: str, alice: dict[str, str]
) -> None:
    assert fastapi_client.get(path, headers=alice).json() == {"user": "user_alice"}


def test_dependency_guard_as_route_dependency_admits_user(
    fastapi_client: TestClient, bob: dict[str, str]
) -> None:
    assert fastapi_client.get("/dep/login", headers=bob).status_code == 200


def test_decorated_fastapi_endpoint_hides_the_injected_request(
    fastapi_client: TestClient,
) -> None:
    schema = fastapi_client.get("/openapi.json").json()
    parameters = schema["paths"]["/login/async-bare"]["get"].get("parameters", [])
    assert parameters == []


# --- misuse ------------------------------------------------------------------------


def test_guard_without_middleware_names_what_to_install() -> None:
    app = Starlette(routes=[Route("/", login_required(whoami))])
    with (
        TestClient(app) as test_client,
        pytest.raises(RuntimeError, match=r"add_middleware\(AuthonomyMiddleware"),
    ):
        test_client.get("/")


def test_require_groups_without_groups_fails_at_definition() -> None:
    with pytest.raises(ConfigurationError):
        require_groups()


def test_guard_refuses_to_decorate_a_non_callable() -> None:
    with pytest.raises(TypeError):
        login_required("not a function")  # type: ignore[call-overload]
