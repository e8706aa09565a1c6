"""Analytics and audit endpoints report what really happened in the sandbox."""

from __future__ import annotations

import httpx
import pytest

from authonomy_integrations.sandbox import Sandbox

from .helpers import error_code, exchange, sign_in, start_login


def test_dashboard_counts_logins_refreshes_logouts_and_failures(client: httpx.Client) -> None:
    before = client.get("/analytics/dashboard").json()["data"]["last_24h"]
    _, tokens = sign_in(client, "bob")
    client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    client.request("DELETE", "/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    exchange(client, start_login(client), "bogus-code")
    after = client.get("/analytics/dashboard").json()["data"]["last_24h"]
    assert after["logins"] == before["logins"] + 1
    assert after["refreshes"] == before["refreshes"] + 1
    assert after["logouts"] == before["logouts"] + 1
    assert after["failed_logins"] == before["failed_logins"] + 1


def test_events_filter_by_type_and_customer(client: httpx.Client) -> None:
    sign_in(client, "carol", "globex")
    events = client.get(
        "/analytics/events", params={"type": "authentication", "customer_id": "globex"}
    ).json()
    assert events["data"]
    assert {(e["type"], e["customer_id"]) for e in events["data"]} == {("authentication", "globex")}
    assert events["data"][0]["user_id"] == "user_carol"


def test_events_since_until_and_limit(sb: Sandbox, client: httpx.Client) -> None:
    sign_in(client, "bob")
    now = int(sb.state.clock.now())
    recent = client.get("/analytics/events", params={"since": now - 60, "limit": 1}).json()
    assert len(recent["data"]) == 1 and recent["pagination"]["page_size"] == 1
    future = client.get("/analytics/events", params={"since": "2999-01-01T00:00:00Z"}).json()
    assert future["data"] == []
    past = client.get("/analytics/events", params={"until": "2000-01-01T00:00:00Z"}).json()
    assert past["data"] == []


@pytest.mark.parametrize("query", ["since=yesterday", "until=13/13/2020", "limit=500"])
def test_events_bad_query_is_invalid_request(client: httpx.Client, query: str) -> None:
    response = client.get(f"/analytics/events?{query}")
    assert (response.status_code, error_code(response)) == (400, "INVALID_REQUEST")


def test_user_analytics_count_logins_per_user(client: httpx.Client) -> None:
    def alice_logins() -> int:
        users = client.get("/analytics/users", params={"customer_id": "acme-corp"}).json()["data"]
        return next(u["login_count"] for u in users if u["id"] == "user_alice")

    before = alice_logins()
    sign_in(client, "alice")
    assert alice_logins() == before + 1


def test_audit_log_records_every_management_write_newest_first(client: httpx.Client) -> None:
    client.post("/customers", json={"id": "audited", "name": "Audited"})
    client.put("/customers/audited", json={"name": "Audited 2"})
    client.post("/customers/audited/idp", json={"type": "saml"})
    policy = client.post("/policies", json={"name": "audited-p", "conditions": {}}).json()["data"]
    client.put(f"/policies/{policy['id']}", json={"description": "d"})
    client.post("/customers/audited/policies", json={"policy_ids": [policy["id"]]})
    hook = client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["policy.updated"]}
    ).json()["data"]
    client.delete(f"/webhooks/{hook['id']}")
    actions = [e["action"] for e in client.get("/audit/logs?limit=8").json()["data"]]
    assert actions == [
        "webhook.deleted",
        "webhook.created",
        "policies.assigned",
        "policy.updated",
        "policy.created",
        "idp.configured",
        "customer.updated",
        "customer.created",
    ]
    entry = client.get("/audit/logs?limit=1").json()["data"][0]
    assert entry["actor"] == "sandbox-full"
