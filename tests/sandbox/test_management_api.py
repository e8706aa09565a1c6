"""Customers, policies and webhooks over real HTTP: CRUD, validation, lists, permissions."""

from __future__ import annotations

import httpx
import pytest

from authonomy_integrations.sandbox import CONFIGURATION_API_KEY, Sandbox

from .helpers import api, error_code


def test_seeded_customers_are_listed_with_pagination(client: httpx.Client) -> None:
    body = client.get("/customers").json()
    assert {"acme-corp", "globex", "initech"} <= {c["id"] for c in body["data"]}
    assert body["pagination"]["current_page"] == 1
    assert body["pagination"]["total_items"] == len(body["data"])


def test_customer_pages_split_the_list(client: httpx.Client) -> None:
    for n in range(3):
        client.post("/customers", json={"id": f"paged-{n}", "name": f"Paged {n}"})
    total = client.get("/customers").json()["pagination"]["total_items"]
    pages = [client.get("/customers", params={"page": p, "limit": 2}).json() for p in (1, 2, 3)]
    assert pages[0]["pagination"]["total_pages"] == -(-total // 2)
    ids = [c["id"] for page in pages for c in page["data"]]
    assert len(ids) == len(set(ids)) == min(total, 6)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "page=0", "page=abc", "limit=-1"])
def test_invalid_pagination_is_invalid_request(client: httpx.Client, query: str) -> None:
    response = client.get(f"/customers?{query}")
    assert response.status_code == 400
    assert error_code(response) == "INVALID_REQUEST"


def test_status_filter_and_sort_order(client: httpx.Client) -> None:
    client.post("/customers", json={"id": "zeta-sus", "name": "Zeta", "status": "suspended"})
    suspended = client.get("/customers", params={"status": "suspended"}).json()["data"]
    assert [c["id"] for c in suspended] == ["zeta-sus"]
    by_name = client.get("/customers", params={"sort": "name", "order": "desc"}).json()["data"]
    names = [c["name"] for c in by_name]
    assert names == sorted(names, reverse=True)


def test_unknown_sort_field_is_invalid_request(client: httpx.Client) -> None:
    assert error_code(client.get("/customers?sort=secret")) == "INVALID_REQUEST"


def test_create_customer_returns_201_logs_audit_and_rejects_duplicates(
    client: httpx.Client,
) -> None:
    created = client.post(
        "/customers", json={"id": "hooli", "name": "Hooli", "domains": ["hooli.com"]}
    )
    assert created.status_code == 201
    assert created.json()["data"] == {
        **created.json()["data"],
        "id": "hooli",
        "status": "active",
        "domains": ["hooli.com"],
        "idp": None,
    }
    duplicate = client.post("/customers", json={"id": "hooli", "name": "Hooli again"})
    assert (duplicate.status_code, error_code(duplicate)) == (422, "VALIDATION_ERROR")
    audit = client.get("/audit/logs", params={"resource_id": "hooli"}).json()["data"]
    assert [entry["action"] for entry in audit] == ["customer.created"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "INVALID_REQUEST"),
        ({"name": 5}, 400, "INVALID_REQUEST"),
        ({"name": "X", "domains": ["not a domain"]}, 422, "VALIDATION_ERROR"),
        ({"name": "X", "status": "deleted"}, 422, "VALIDATION_ERROR"),
        ({"name": "X", "id": "Bad Id!"}, 422, "VALIDATION_ERROR"),
        ({"name": "X", "color": "red"}, 422, "VALIDATION_ERROR"),
    ],
)
def test_create_customer_rejects_bad_input(
    client: httpx.Client, body: dict[str, object], status: int, code: str
) -> None:
    response = client.post("/customers", json=body)
    assert (response.status_code, error_code(response)) == (status, code)


def test_get_unknown_customer_is_invalid_customer(client: httpx.Client) -> None:
    response = client.get("/customers/nobody")
    assert response.status_code == 404
    assert error_code(response) == "INVALID_CUSTOMER"
    assert response.json()["error"]["message"] == "Customer 'nobody' not found"


def test_update_customer_changes_fields_and_is_audited(client: httpx.Client) -> None:
    client.post("/customers", json={"id": "pied-piper", "name": "Pied Piper"})
    updated = client.put("/customers/pied-piper", json={"status": "suspended", "name": "PP"})
    assert updated.json()["data"]["status"] == "suspended"
    assert client.get("/customers/pied-piper").json()["data"]["name"] == "PP"
    actions = [e["action"] for e in client.get("/audit/logs?resource_id=pied-piper").json()["data"]]
    assert actions == ["customer.updated", "customer.created"]
    assert error_code(client.put("/customers/ghost", json={"name": "G"})) == "INVALID_CUSTOMER"


def test_idp_client_secret_is_write_only(client: httpx.Client) -> None:
    client.post("/customers", json={"id": "vandelay", "name": "Vandelay"})
    configured = client.post(
        "/customers/vandelay/idp",
        json={
            "type": "google_workspace",
            "domain": "vandelay.com",
            "client_id": "cid",
            "client_secret": "top-secret-value",
        },
    )
    assert configured.status_code == 200
    assert configured.json()["data"]["idp"]["type"] == "google_workspace"
    for response in (configured, client.get("/customers/vandelay"), client.get("/customers")):
        assert "top-secret-value" not in response.text


def test_idp_of_unknown_type_is_validation_error(client: httpx.Client) -> None:
    response = client.post("/customers/acme-corp/idp", json={"type": "ldap"})
    assert (response.status_code, error_code(response)) == (422, "VALIDATION_ERROR")


def test_configured_idp_lets_logins_start(client: httpx.Client) -> None:
    client.post("/customers", json={"id": "soylent", "name": "Soylent"})
    client.post("/customers/soylent/idp", json={"type": "generic_oidc"})
    response = client.post(
        "/auth/authorize",
        json={
            "customer_id": "soylent",
            "return_url": "http://127.0.0.1:8000/cb",
            "code_challenge": "c" * 43,
        },
    )
    assert response.status_code == 200


def test_policy_crud_round_trip(client: httpx.Client) -> None:
    created = client.post(
        "/policies",
        json={
            "name": "admins-only",
            "description": "Admins from the office",
            "type": "authorization",
            "conditions": {"allowed_groups": ["admins"], "ip_allowlist": ["10.0.0.0/8"]},
        },
    )
    assert created.status_code == 201
    policy = created.json()["data"]
    assert policy["id"].startswith("pol_")
    assert client.get(f"/policies/{policy['id']}").json()["data"]["name"] == "admins-only"
    updated = client.put(
        f"/policies/{policy['id']}", json={"conditions": {"required_scopes": ["admin"]}}
    )
    assert updated.json()["data"]["conditions"] == {"required_scopes": ["admin"]}
    names = [p["name"] for p in client.get("/policies").json()["data"]]
    assert {"require-mfa", "admins-only"} <= set(names)


def test_seeded_require_mfa_policy_matches_the_overview(client: httpx.Client) -> None:
    found = client.get("/policies", params={"name": "require-mfa"}).json()["data"]
    assert found[0]["conditions"] == {"mfa_required": True, "max_session_duration": 28800}
    assert found[0]["type"] == "authentication"


@pytest.mark.parametrize(
    ("conditions", "status", "code"),
    [
        ({"favourite_colour": "blue"}, 422, "VALIDATION_ERROR"),
        ({"mfa_required": "yes"}, 422, "VALIDATION_ERROR"),
        ({"max_session_duration": -5}, 422, "VALIDATION_ERROR"),
        ({"ip_allowlist": ["not-a-cidr"]}, 422, "VALIDATION_ERROR"),
        ("mfa", 400, "INVALID_REQUEST"),
    ],
)
def test_policy_with_invalid_conditions_is_rejected(
    client: httpx.Client, conditions: object, status: int, code: str
) -> None:
    response = client.post("/policies", json={"name": "bad-policy", "conditions": conditions})
    assert (response.status_code, error_code(response)) == (status, code)


def test_policy_names_are_unique(client: httpx.Client) -> None:
    response = client.post(
        "/policies", json={"name": "require-mfa", "conditions": {"mfa_required": True}}
    )
    assert (response.status_code, error_code(response)) == (422, "VALIDATION_ERROR")
    other = client.post("/policies", json={"name": "other-one", "conditions": {}}).json()["data"]
    rename = client.put(f"/policies/{other['id']}", json={"name": "require-mfa"})
    assert error_code(rename) == "VALIDATION_ERROR"
    blank = client.put(f"/policies/{other['id']}", json={"name": ""})
    assert error_code(blank) == "VALIDATION_ERROR"


def test_unknown_policy_is_not_found(client: httpx.Client) -> None:
    assert client.get("/policies/pol_nope").status_code == 404
    assert error_code(client.put("/policies/pol_nope", json={"name": "x"})) == "NOT_FOUND"


def test_policies_are_assigned_to_customers(client: httpx.Client) -> None:
    policy = client.post(
        "/policies", json={"name": "globex-finance", "conditions": {"allowed_groups": ["finance"]}}
    ).json()["data"]
    assigned = client.post("/customers/globex/policies", json={"policy_ids": [policy["id"]]})
    assert [p["id"] for p in assigned.json()["data"]] == [policy["id"]]
    listed = client.get("/customers/globex/policies").json()["data"]
    assert [p["name"] for p in listed] == ["globex-finance"]
    unknown = client.post("/customers/globex/policies", json={"policy_ids": ["pol_nope"]})
    assert (unknown.status_code, error_code(unknown)) == (404, "NOT_FOUND")
    missing = client.post("/customers/globex/policies", json={})
    assert error_code(missing) == "INVALID_REQUEST"


def test_webhooks_are_created_listed_and_deleted(client: httpx.Client) -> None:
    created = client.post(
        "/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["user.authenticated"], "secret": "s"},
    )
    assert created.status_code == 201
    hook = created.json()["data"]
    assert hook["id"].startswith("wh_") and "secret" not in hook
    assert hook["id"] in [h["id"] for h in client.get("/webhooks").json()["data"]]
    deleted = client.delete(f"/webhooks/{hook['id']}")
    assert deleted.json()["data"] == {"id": hook["id"], "deleted": True}
    assert error_code(client.delete(f"/webhooks/{hook['id']}")) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "ftp://x", "events": ["user.authenticated"]}, "VALIDATION_ERROR"),
        ({"url": "http://127.0.0.1:9/h", "events": ["user.exploded"]}, "VALIDATION_ERROR"),
        ({"url": "http://127.0.0.1:9/h", "events": []}, "INVALID_REQUEST"),
        ({"events": ["user.authenticated"]}, "INVALID_REQUEST"),
    ],
)
def test_webhook_with_bad_url_or_events_is_rejected(
    client: httpx.Client, body: dict[str, object], code: str
) -> None:
    assert error_code(client.post("/webhooks", json=body)) == code


def test_webhook_without_secret_gets_one_shown_once(client: httpx.Client) -> None:
    created = client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["policy.created"]}
    ).json()["data"]
    assert created["secret"].startswith("whsec_")
    assert created["secret"] not in client.get("/webhooks").text


def test_read_only_key_reads_but_cannot_write(sb: Sandbox) -> None:
    with api(sb, sb.read_only_api_key) as reader:
        assert reader.get("/customers").status_code == 200
        assert reader.get("/analytics/dashboard").status_code == 200
        for response in (
            reader.post("/customers", json={"name": "Nope"}),
            reader.put("/policies/pol_require_mfa", json={"description": "x"}),
            reader.post("/webhooks", json={"url": "http://127.0.0.1:9/h", "events": []}),
        ):
            assert (response.status_code, error_code(response)) == (403, "INSUFFICIENT_PERMISSIONS")


def test_configuration_key_manages_but_cannot_sign_users_in(sb: Sandbox) -> None:
    with api(sb, CONFIGURATION_API_KEY) as admin:
        assert admin.get("/policies").status_code == 200
        assert admin.post("/customers", json={"name": "Config Co"}).status_code == 201
        assert error_code(admin.post("/auth/refresh", json={})) == "INSUFFICIENT_PERMISSIONS"


def test_management_rejects_missing_key(sb: Sandbox) -> None:
    response = httpx.get(f"{sb.api_base_url}/customers")
    assert (response.status_code, error_code(response)) == (401, "INVALID_API_KEY")


def test_unknown_endpoint_is_not_found_envelope(client: httpx.Client) -> None:
    response = client.get("/no/such/thing")
    assert (response.status_code, error_code(response)) == (404, "NOT_FOUND")
    assert "X-RateLimit-Limit" in response.headers


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        ("POST", "/customers", b"\xff\xfe"),
        ("PUT", "/customers/acme-corp", b"[]"),
        ("POST", "/customers/acme-corp/idp", b"null"),
        (
            "POST",
            "/policies",
            b'{"name": "deep", "conditions": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        ),
        ("POST", "/webhooks", b'{"url": 1, "events": "x"}'),
        ("DELETE", "/auth/logout", b"{}{}"),
    ],
)
def test_garbage_bodies_get_error_envelopes_never_500(
    client: httpx.Client, method: str, path: str, raw: bytes
) -> None:
    response = client.request(method, path, content=raw)
    assert 400 <= response.status_code < 500
    assert error_code(response) in {"INVALID_REQUEST", "VALIDATION_ERROR"}
