"""The API flows driven by hand: responses go in, requests and waits come out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.utils import formatdate
from typing import Any

import pytest

from authonomy_integrations._core.api import ApiFlows, Pages, RetryPolicy, fetch_json
from authonomy_integrations._core.effects import Flow, HttpRequest, HttpResponse, Sleep
from authonomy_integrations._errors import (
    APIValidationError,
    AuthonomyAPIError,
    AuthonomyUnavailableError,
    ConfigurationError,
    IdPNotConfiguredError,
    InsufficientPermissionsError,
    InternalServerError,
    InvalidAPIKeyError,
    InvalidCustomerError,
    InvalidGrantError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
)

BASE = "https://api.example.test/v1"
NOW = 1_700_000_000.0


def api(**options: Any) -> ApiFlows:
    options.setdefault("clock", lambda: NOW)
    options.setdefault("jitter", lambda: 0.5)
    return ApiFlows(BASE, "ak_test_secret", **options)


def ok(
    data: Any, *, status: int = 200, pagination: Mapping[str, int] | None = None
) -> HttpResponse:
    body: dict[str, Any] = {"success": True, "data": data, "meta": {"request_id": "req_ok"}}
    if pagination is not None:
        body["pagination"] = pagination
    return HttpResponse(status, {"content-type": "application/json"}, json.dumps(body).encode())


def fail(
    status: int,
    code: str,
    message: str = "it failed",
    *,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    body = {
        "success": False,
        "error": {"code": code, "message": message, "details": details or {}},
        "meta": {"timestamp": "2024-01-15T10:30:00Z", "request_id": "req_fail"},
    }
    return HttpResponse(status, dict(headers or {}), json.dumps(body).encode())


def raw(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, dict(headers or {}), body)


class Script:
    """Plays the driver: answers each request from a list and records every effect."""

    def __init__(self, *answers: HttpResponse | Exception) -> None:
        self.answers = list(answers)
        self.effects: list[Any] = []

    @property
    def requests(self) -> list[HttpRequest]:
        return [effect for effect in self.effects if isinstance(effect, HttpRequest)]

    @property
    def sleeps(self) -> list[float]:
        return [effect.seconds for effect in self.effects if isinstance(effect, Sleep)]

    def run(self, flow: Flow[Any]) -> Any:
        value: Any = None
        error: Exception | None = None
        while True:
            try:
                effect = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            self.effects.append(effect)
            value, error = self._answer(effect)

    def _answer(self, effect: Any) -> tuple[Any, Exception | None]:
        if isinstance(effect, Sleep):
            return None, None
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            return None, answer
        return answer, None


def unreachable() -> AuthonomyUnavailableError:
    return AuthonomyUnavailableError("Authonomy unreachable: GET ...")


# --- requests and envelopes ----------------------------------------------------------


def test_every_call_sends_bearer_key_and_json_headers() -> None:
    script = Script(ok({"id": "acme-corp"}))
    script.run(api().customers.get("acme-corp"))
    (request,) = script.requests
    assert request.method == "GET"
    assert request.url == f"{BASE}/customers/acme-corp"
    assert request.headers["Authorization"] == "Bearer ak_test_secret"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Accept"] == "application/json"
    assert request.timeout == 10.0


def test_success_envelope_is_unwrapped_to_its_data() -> None:
    customer = {"id": "acme-corp", "name": "Acme", "status": "active"}
    assert Script(ok(customer)).run(api().customers.get("acme-corp")) == customer


def test_no_content_answer_yields_none() -> None:
    assert Script(raw(204, b"")).run(api().webhooks.delete("wh_1")) is None


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "INVALID_REQUEST", InvalidRequestError),
        (400, "INVALID_GRANT", InvalidGrantError),
        (401, "INVALID_API_KEY", InvalidAPIKeyError),
        (403, "INSUFFICIENT_PERMISSIONS", InsufficientPermissionsError),
        (404, "INVALID_CUSTOMER", InvalidCustomerError),
        (404, "NOT_FOUND", NotFoundError),
        (422, "VALIDATION_ERROR", APIValidationError),
        (422, "IDP_NOT_CONFIGURED", IdPNotConfiguredError),
        (429, "RATE_LIMITED", RateLimitedError),
        (500, "INTERNAL_ERROR", InternalServerError),
    ],
)
def test_error_envelope_raises_subclass_with_its_context(
    status: int, code: str, cls: type[AuthonomyAPIError]
) -> None:
    answer = fail(status, code, "Customer 'x' not found", details={"customer_id": "x"})
    with pytest.raises(cls) as caught:
        # POST: not retried, so one answer decides.
        Script(answer).run(api().customers.create("x", "X"))
    error = caught.value
    assert error.code == code
    assert error.message == "Customer 'x' not found"
    assert error.details == {"customer_id": "x"}
    assert error.status == status
    assert error.request_id == "req_fail"


def test_unknown_error_code_keeps_the_code_on_the_base_class() -> None:
    with pytest.raises(AuthonomyAPIError) as caught:
        Script(fail(409, "CONFLICT", "already exists")).run(api().customers.create("x", "X"))
    assert type(caught.value) is AuthonomyAPIError
    assert caught.value.code == "CONFLICT"
    assert caught.value.status == 409


def test_html_error_page_becomes_api_error_not_decode_error() -> None:
    with pytest.raises(AuthonomyAPIError) as caught:
        Script(raw(404, b"<html>Not Found</html>")).run(api().customers.get("acme-corp"))
    assert caught.value.code == "UNEXPECTED_RESPONSE"
    assert caught.value.status == 404


def test_error_json_without_envelope_becomes_api_error_not_key_error() -> None:
    with pytest.raises(AuthonomyAPIError) as caught:
        Script(raw(400, b'{"detail": "bad"}')).run(api().customers.create("x", "X"))
    assert caught.value.status == 400


def test_non_json_500_becomes_internal_server_error() -> None:
    flows = api(max_retries=0)
    with pytest.raises(InternalServerError) as caught:
        Script(raw(500, b"Internal Server Error")).run(flows.customers.get("acme-corp"))
    assert caught.value.status == 500


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_error_without_envelope_means_unavailable(status: int) -> None:
    with pytest.raises(AuthonomyUnavailableError):
        Script(raw(status, b"<html>Bad Gateway</html>")).run(api(max_retries=0).policies.get("p"))


def test_success_status_with_non_json_body_is_unexpected_response() -> None:
    with pytest.raises(AuthonomyAPIError) as caught:
        Script(raw(200, b"<html>captive portal</html>")).run(api().customers.get("acme-corp"))
    assert caught.value.code == "UNEXPECTED_RESPONSE"


def test_success_status_with_failed_envelope_raises_its_error() -> None:
    answer = fail(200, "INVALID_CUSTOMER", "Customer 'x' not found")
    with pytest.raises(InvalidCustomerError):
        Script(answer).run(api().customers.get("x"))


def test_authorize_answer_without_url_is_unexpected_response() -> None:
    flow = api().auth.authorize(
        "acme-corp", "https://app.test/cb", ["openid"], "challenge", "nonce"
    )
    with pytest.raises(AuthonomyAPIError) as caught:
        Script(ok({"state": "s"})).run(flow)
    assert caught.value.code == "UNEXPECTED_RESPONSE"


# --- retries -----------------------------------------------------------------------------


def test_get_is_retried_after_503_with_backoff() -> None:
    script = Script(raw(503, b""), raw(503, b""), ok({"id": "acme-corp"}))
    assert script.run(api().customers.get("acme-corp")) == {"id": "acme-corp"}
    assert len(script.requests) == 3
    # jitter 0.5 puts each wait at three quarters of 0.5 s, then of 1 s.
    assert script.sleeps == [0.375, 0.75]


def test_get_is_retried_after_connection_error() -> None:
    script = Script(unreachable(), ok([]))
    assert script.run(api().customers.get("acme-corp")) == []
    assert len(script.requests) == 2
    assert len(script.sleeps) == 1


def test_connection_errors_beyond_max_retries_raise_unavailable() -> None:
    script = Script(unreachable(), unreachable(), unreachable())
    with pytest.raises(AuthonomyUnavailableError):
        script.run(api(max_retries=2).customers.get("acme-corp"))
    assert len(script.requests) == 3


def test_internal_error_after_retries_raises_internal_server_error() -> None:
    script = Script(*[fail(500, "INTERNAL_ERROR", "boom")] * 3)
    with pytest.raises(InternalServerError) as caught:
        script.run(api(max_retries=2).policies.get("pol_1"))
    assert caught.value.request_id == "req_fail"
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    ("flow", "method"),
    [
        (lambda flows: flows.customers.update("acme-corp", name="Acme"), "PUT"),
        (lambda flows: flows.webhooks.delete("wh_1"), "DELETE"),
        (lambda flows: flows.auth.logout(session_id="sess_1"), "DELETE"),
    ],
    ids=["PUT", "DELETE", "DELETE logout"],
)
def test_put_and_delete_are_retried(flow: Any, method: str) -> None:
    script = Script(raw(502, b""), ok({"done": True}))
    assert script.run(flow(api())) == {"done": True}
    assert [request.method for request in script.requests] == [method, method]


@pytest.mark.parametrize(
    "answer",
    [raw(503, b""), fail(429, "RATE_LIMITED", headers={"Retry-After": "1"}), unreachable()],
    ids=["503", "429", "connection error"],
)
def test_token_exchange_is_never_retried(answer: HttpResponse | Exception) -> None:
    script = Script(answer, ok({"access_token": "second"}))
    flow = api().auth.token("code", "state", "verifier", "https://app.test/cb")
    with pytest.raises((AuthonomyUnavailableError, RateLimitedError)):
        script.run(flow)
    assert len(script.requests) == 1
    assert script.sleeps == []


def test_post_create_is_not_retried_on_500() -> None:
    script = Script(fail(500, "INTERNAL_ERROR"), ok({"id": "x"}))
    with pytest.raises(InternalServerError):
        script.run(api().customers.create("x", "X"))
    assert len(script.requests) == 1


def test_client_errors_are_not_retried() -> None:
    script = Script(fail(404, "INVALID_CUSTOMER"), ok({}))
    with pytest.raises(InvalidCustomerError):
        script.run(api().customers.get("nobody"))
    assert len(script.requests) == 1


def test_retry_after_seconds_is_waited_exactly() -> None:
    script = Script(fail(429, "RATE_LIMITED", headers={"Retry-After": "7"}), ok({}))
    script.run(api().analytics.dashboard())
    assert script.sleeps == [7.0]


def test_retry_after_http_date_is_read_with_the_clock() -> None:
    headers = {"Retry-After": formatdate(NOW + 12, usegmt=True)}
    script = Script(raw(503, b"", headers), ok({}))
    script.run(api().analytics.dashboard())
    assert script.sleeps == [12.0]


def test_rate_limit_reset_is_waited_for_when_no_retry_after() -> None:
    headers = {"X-RateLimit-Reset": str(int(NOW) + 9)}
    script = Script(fail(429, "RATE_LIMITED", headers=headers), ok({}))
    script.run(api().analytics.dashboard())
    assert script.sleeps == [9.0]


def test_rate_limit_reset_in_the_past_retries_at_once() -> None:
    headers = {"X-RateLimit-Reset": str(int(NOW) - 5)}
    script = Script(fail(429, "RATE_LIMITED", headers=headers), ok({}))
    script.run(api().analytics.dashboard())
    assert script.sleeps == [0.0]


def test_server_wait_beyond_cap_raises_at_once_with_retry_after() -> None:
    headers = {"Retry-After": "45"}
    script = Script(fail(429, "RATE_LIMITED", headers=headers), ok({}))
    with pytest.raises(RateLimitedError) as caught:
        script.run(api(max_delay=30.0).analytics.dashboard())
    assert caught.value.retry_after == 45.0
    assert script.sleeps == []
    assert len(script.requests) == 1


def test_rate_limited_after_retries_carries_reset_wait() -> None:
    headers = {"X-RateLimit-Reset": str(int(NOW) + 3)}
    script = Script(*[fail(429, "RATE_LIMITED", headers=headers)] * 2)
    with pytest.raises(RateLimitedError) as caught:
        script.run(api(max_retries=1).analytics.dashboard())
    assert caught.value.retry_after == 3.0


def test_unavailable_without_envelope_carries_retry_after() -> None:
    script = Script(raw(503, b"busy", {"Retry-After": "60"}))
    with pytest.raises(AuthonomyUnavailableError) as caught:
        script.run(api().analytics.dashboard())
    assert caught.value.retry_after == 60.0


@pytest.mark.parametrize("jitter", [0.0, 0.25, 0.999999])
def test_backoff_stays_between_half_and_all_of_the_doubled_delay(jitter: float) -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0, jitter=lambda: jitter)
    for attempt in range(4):
        ceiling = 0.5 * 2**attempt
        assert ceiling / 2 <= policy.backoff(attempt) <= ceiling


def test_backoff_never_exceeds_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, jitter=lambda: 0.999999)
    assert policy.backoff(10) <= 4.0


def test_negative_max_retries_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        api(max_retries=-1)
    assert caught.value.field == "max_retries"


# --- pagination --------------------------------------------------------------------------


def test_listing_walks_every_page_with_filters() -> None:
    pages = api().customers.list(status="active", limit=2)
    script = Script(
        ok([{"id": "a"}, {"id": "b"}], pagination={"current_page": 1, "total_pages": 2}),
        ok([{"id": "c"}], pagination={"current_page": 2, "total_pages": 2}),
    )
    assert [c["id"] for c in script.run(pages.collect())] == ["a", "b", "c"]
    assert [dict(r.params or {}) for r in script.requests] == [
        {"status": "active", "limit": 2, "page": 1},
        {"status": "active", "limit": 2, "page": 2},
    ]


def test_listing_stops_on_an_empty_page() -> None:
    script = Script(ok([], pagination={"current_page": 1, "total_pages": 5}))
    assert script.run(api().customers.list().collect()) == []
    assert len(script.requests) == 1


def test_listing_without_pagination_is_a_single_page() -> None:
    script = Script(ok([{"id": "wh_1"}]))
    assert script.run(api().webhooks.list().collect()) == [{"id": "wh_1"}]
    assert len(script.requests) == 1


def test_listing_ends_even_if_server_ignores_the_page_parameter() -> None:
    same = ok([{"id": "a"}], pagination={"current_page": 1, "total_pages": 2})
    script = Script(same, same)
    script.run(api().customers.list().collect())
    assert len(script.requests) == 2


def test_listing_that_is_not_a_list_is_unexpected_response() -> None:
    with pytest.raises(AuthonomyAPIError) as caught:
        Script(ok({"items": []})).run(api().policies.list().collect())
    assert caught.value.code == "UNEXPECTED_RESPONSE"


def test_find_by_name_stops_at_the_page_holding_the_policy() -> None:
    script = Script(
        ok([{"id": "pol_1", "name": "a"}], pagination={"current_page": 1, "total_pages": 3}),
        ok([{"id": "pol_2", "name": "require-mfa"}], pagination={"total_pages": 3}),
    )
    assert script.run(api().policies.find_by_name("require-mfa")) == {
        "id": "pol_2",
        "name": "require-mfa",
    }
    assert len(script.requests) == 2


def test_find_by_name_returns_none_when_absent() -> None:
    script = Script(ok([{"id": "pol_1", "name": "a"}], pagination={"total_pages": 1}))
    assert script.run(api().policies.find_by_name("require-mfa")) is None


def test_events_filters_become_query_parameters() -> None:
    pages: Pages[Any] = api().analytics.events(type="authentication", customer_id="acme-corp")
    script = Script(ok([]))
    script.run(pages.collect())
    assert script.requests[0].url == f"{BASE}/analytics/events"
    assert dict(script.requests[0].params or {}) == {
        "type": "authentication",
        "customer_id": "acme-corp",
        "limit": 100,
        "page": 1,
    }


@pytest.mark.parametrize("limit", [0, 101])
def test_page_size_outside_1_to_100_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        api().customers.list(limit=limit)


# --- request bodies and argument checks --------------------------------------------------


def test_authorize_sends_the_contract_fields() -> None:
    answer = ok(
        {"authorization_url": "https://auth.test/a?code=h", "state": "st", "expires_in": 600}
    )
    flow = api().auth.authorize(
        "acme-corp",
        "https://app.test/auth/callback",
        ["openid", "email"],
        "challenge",
        "nonce-1",
        prompt="login",
        max_age=0,
        acr_values="mfa",
    )
    script = Script(answer)
    assert script.run(flow)["state"] == "st"
    (request,) = script.requests
    assert (request.method, request.url) == ("POST", f"{BASE}/auth/authorize")
    assert request.json == {
        "customer_id": "acme-corp",
        "return_url": "https://app.test/auth/callback",
        "scopes": ["openid", "email"],
        "code_challenge": "challenge",
        "code_challenge_method": "S256",
        "nonce": "nonce-1",
        "prompt": "login",
        "max_age": 0,
        "acr_values": "mfa",
    }


def test_authorize_refuses_plain_pkce() -> None:
    with pytest.raises(ValueError, match="S256"):
        api().auth.authorize("acme-corp", "https://app.test/cb", ["openid"], "c", "n", "plain")


def test_authorize_refuses_scopes_given_as_one_string() -> None:
    with pytest.raises(TypeError, match="scopes"):
        api().auth.authorize("acme-corp", "https://app.test/cb", "openid email", "c", "n")


def test_authorize_refuses_relative_return_url() -> None:
    with pytest.raises(ValueError, match="return_url"):
        api().auth.authorize("acme-corp", "/auth/callback", ["openid"], "c", "n")


def test_token_exchange_sends_code_verifier_and_return_url() -> None:
    script = Script(ok({"access_token": "at", "refresh_token": "rt"}))
    tokens = script.run(api().auth.token("code", "st", "verifier", "https://app.test/cb"))
    assert tokens["access_token"] == "at"
    assert script.requests[0].json == {
        "code": "code",
        "state": "st",
        "code_verifier": "verifier",
        "return_url": "https://app.test/cb",
    }


def test_logout_sends_delete_with_json_body() -> None:
    script = Script(ok({"logged_out": True}))
    assert script.run(api().auth.logout(refresh_token="rt_1")) == {"logged_out": True}
    (request,) = script.requests
    assert (request.method, request.url, request.json) == (
        "DELETE",
        f"{BASE}/auth/logout",
        {"refresh_token": "rt_1"},
    )


@pytest.mark.parametrize(
    "kwargs", [{}, {"refresh_token": "rt", "session_id": "sess"}], ids=["neither", "both"]
)
def test_logout_needs_exactly_one_of_token_or_session(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        api().auth.logout(**kwargs)


def test_ids_are_quoted_into_a_single_path_segment() -> None:
    script = Script(ok({}))
    script.run(api().customers.get("acme/../policies"))
    assert script.requests[0].url == f"{BASE}/customers/acme%2F..%2Fpolicies"


@pytest.mark.parametrize("bad_id", ["..", ".", ""])
def test_dot_segment_ids_are_refused(bad_id: str) -> None:
    with pytest.raises(ValueError):
        api().customers.update(bad_id, name="x")


def test_update_without_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one field"):
        api().policies.update("pol_1")


def test_configure_idp_sends_type_and_settings() -> None:
    script = Script(ok({"id": "acme-corp"}))
    flow = api().customers.configure_idp(
        "acme-corp", "okta", domain="acme.okta.com", client_id="cid", client_secret="s"
    )
    script.run(flow)
    assert script.requests[0].url == f"{BASE}/customers/acme-corp/idp"
    assert script.requests[0].json == {
        "type": "okta",
        "domain": "acme.okta.com",
        "client_id": "cid",
        "client_secret": "s",
    }


def test_assign_sends_policy_ids_to_the_customer() -> None:
    script = Script(ok({"policy_ids": ["pol_1"]}))
    script.run(api().policies.assign("acme-corp", ["pol_1"]))
    assert (script.requests[0].method, script.requests[0].url) == (
        "POST",
        f"{BASE}/customers/acme-corp/policies",
    )
    assert script.requests[0].json == {"policy_ids": ["pol_1"]}


def test_webhook_needs_at_least_one_event() -> None:
    with pytest.raises(ValueError, match="events"):
        api().webhooks.create("https://app.test/hook", [], "whsec_x")


def test_missing_api_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        ApiFlows(BASE, "")
    assert caught.value.field == "api_key"


def test_plain_http_base_url_outside_localhost_is_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        ApiFlows("http://api.example.test/v1", "ak_x")
    assert caught.value.field == "base_url"


def test_plain_http_base_url_on_loopback_is_allowed() -> None:
    assert ApiFlows("http://127.0.0.1:8000/v1/", "ak_x").base_url == "http://127.0.0.1:8000/v1"


def test_repr_does_not_reveal_the_api_key() -> None:
    assert "ak_test_secret" not in repr(api())


# --- fetch_json ----------------------------------------------------------------------------


def test_fetch_json_sends_no_api_key_and_returns_body_and_headers() -> None:
    keys = {"keys": [{"kid": "k1"}]}
    answer = HttpResponse(200, {"Cache-Control": "max-age=300"}, json.dumps(keys).encode())
    script = Script(answer)
    body, headers = script.run(api().fetch_json("https://auth.test/.well-known/jwks.json"))
    assert body == keys
    assert headers["cache-control"] == "max-age=300"
    assert "Authorization" not in script.requests[0].headers


def test_fetch_json_retries_then_raises_unavailable() -> None:
    retry = RetryPolicy(max_retries=1, jitter=lambda: 0.0)
    script = Script(unreachable(), unreachable())
    with pytest.raises(AuthonomyUnavailableError):
        script.run(fetch_json("https://auth.test/jwks", retry=retry))
    assert len(script.requests) == 2


def test_fetch_json_non_json_body_is_unexpected_response() -> None:
    with pytest.raises(AuthonomyAPIError) as caught:
        Script(raw(200, b"<html>")).run(fetch_json("https://auth.test/jwks"))
    assert caught.value.code == "UNEXPECTED_RESPONSE"


def test_fetch_json_error_status_raises() -> None:
    with pytest.raises(AuthonomyAPIError) as caught:
        Script(raw(404, b"nope")).run(fetch_json("https://auth.test/jwks"))
    assert caught.value.status == 404
