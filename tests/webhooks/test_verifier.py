"""WebhookVerifier and sign(): Standard Webhooks signatures, timestamps and bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
import standardwebhooks
from starlette.datastructures import Headers as StarletteHeaders
from werkzeug.datastructures import Headers as WerkzeugHeaders

from authonomy_integrations._errors import ConfigurationError, WebhookVerificationError
from authonomy_integrations.webhooks import WebhookVerifier, sign

from .conftest import OTHER_SECRET, SECRET, event_body, make_delivery

NOW = 1_700_000_000


def signed(
    body: bytes, *, secret: str | list[str] = SECRET, timestamp: int = NOW, event_id: str = "evt_1"
) -> dict[str, str]:
    return sign(secret, event_id, timestamp, body)


def reason_of(verifier: WebhookVerifier, headers: object, body: object, now: float = NOW) -> str:
    with pytest.raises(WebhookVerificationError) as caught:
        verifier.verify(headers, body, now=now)  # type: ignore[arg-type]
    assert type(caught.value) is WebhookVerificationError
    return caught.value.reason


@pytest.fixture
def verifier() -> WebhookVerifier:
    return WebhookVerifier([SECRET], tolerance=300)


# -- interoperability with the reference implementation ----------------------------


def test_signature_made_by_standardwebhooks_verifies_here(verifier: WebhookVerifier) -> None:
    body = event_body()
    reference = standardwebhooks.Webhook(SECRET)
    when = datetime.fromtimestamp(NOW, tz=UTC)
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(NOW),
        "webhook-signature": reference.sign("evt_1", when, body.decode()),
    }
    event = verifier.verify(headers, body, now=NOW)
    assert (event.id, event.type) == ("evt_1", "user.authenticated")


def test_sign_output_verifies_with_standardwebhooks() -> None:
    body = event_body()
    headers = sign(SECRET, "evt_1", datetime.now(UTC), body)
    assert standardwebhooks.Webhook(SECRET).verify(body, headers)["id"] == "evt_1"


def test_sign_with_two_secrets_verifies_with_each_in_standardwebhooks() -> None:
    body = event_body()
    headers = sign([SECRET, OTHER_SECRET], "evt_1", datetime.now(UTC), body)
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (SECRET, OTHER_SECRET):
        assert standardwebhooks.Webhook(secret).verify(body, headers)["id"] == "evt_1"


def test_signature_is_hmac_sha256_of_id_timestamp_and_raw_body() -> None:
    body = b'{"id":"evt_1","type":"t"}'
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = hmac.new(key, b"evt_1.%d." % NOW + body, hashlib.sha256).digest()
    entry = signed(body)["webhook-signature"]
    assert entry == "v1," + base64.b64encode(expected).decode()


def test_long_secret_is_hashed_first_as_hmac_requires() -> None:
    key = bytes(range(100))
    body = b'{"id":"evt_1","type":"t"}'
    expected = hmac.new(key, b"evt_1.%d." % NOW + body, hashlib.sha256).digest()
    assert sign(key, "evt_1", NOW, body)["webhook-signature"] == (
        "v1," + base64.b64encode(expected).decode()
    )


# -- secrets -------------------------------------------------------------------------


def test_unpadded_whsec_secret_verifies_like_padded() -> None:
    raw_key = b"sixteen byte key"  # base64 of 16 bytes ends in "=="
    padded = "whsec_" + base64.b64encode(raw_key).decode()
    assert padded.endswith("==")
    body = event_body()
    headers = signed(body, secret=padded)
    event = WebhookVerifier(padded.rstrip("=")).verify(headers, body, now=NOW)
    assert event.id == "evt_1"


def test_plain_secret_is_used_as_its_utf8_bytes() -> None:
    body = event_body()
    key = "plain-secret-ünïcode".encode()
    expected = hmac.new(key, b"evt_1.%d." % NOW + body, hashlib.sha256).digest()
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(NOW),
        "webhook-signature": "v1," + base64.b64encode(expected).decode(),
    }
    assert WebhookVerifier("plain-secret-ünïcode").verify(headers, body, now=NOW).id == "evt_1"


def test_plain_secret_interoperates_with_standardwebhooks_given_the_same_bytes() -> None:
    body = event_body()
    headers = sign("my plain secret", "evt_1", datetime.now(UTC), body)
    assert standardwebhooks.Webhook(b"my plain secret").verify(body, headers)["id"] == "evt_1"


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", "", []])
def test_unusable_secret_fails_at_construction(secret: str | list[str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        WebhookVerifier(secret)
    assert caught.value.field == "webhook_secret"


def test_rotation_accepts_delivery_signed_with_second_secret() -> None:
    body = event_body()
    headers = signed(body, secret=OTHER_SECRET)
    verifier = WebhookVerifier([SECRET, OTHER_SECRET])
    assert verifier.verify(headers, body, now=NOW).id == "evt_1"


def test_wrong_secret_is_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    assert reason_of(verifier, signed(body, secret=OTHER_SECRET), body) == "no matching signature"


# -- signatures ----------------------------------------------------------------------


def test_bad_signature_is_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    headers = {**signed(body), "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()}
    assert reason_of(verifier, headers, body) == "no matching signature"


def test_tampered_body_is_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    headers = signed(body)
    tampered = body.replace(b"john@acme-corp.com", b"mallory@evil.test")
    assert reason_of(verifier, headers, tampered) == "no matching signature"


def test_reserialized_body_is_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    headers = signed(body)
    reserialized = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert reason_of(verifier, headers, reserialized) == "no matching signature"


def test_signature_for_other_id_is_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    headers = {**signed(body, event_id="evt_other"), "webhook-id": "evt_1"}
    assert reason_of(verifier, headers, body) == "no matching signature"


def test_one_valid_among_several_signatures_is_enough(verifier: WebhookVerifier) -> None:
    body = event_body()
    valid = signed(body)["webhook-signature"]
    bogus = "v1," + base64.b64encode(b"y" * 32).decode()
    headers = {**signed(body), "webhook-signature": f"{bogus} v1a,abc {valid}"}
    assert verifier.verify(headers, body, now=NOW).id == "evt_1"


def test_unknown_signature_versions_only_are_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    valid = signed(body)["webhook-signature"].removeprefix("v1,")
    headers = {**signed(body), "webhook-signature": f"v1a,{valid} v2,{valid}"}
    assert reason_of(verifier, headers, body) == "no v1 signature"


def test_malformed_base64_signature_is_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    headers = {**signed(body), "webhook-signature": "v1,@@not*base64@@"}
    assert reason_of(verifier, headers, body) == "malformed signature"


def test_malformed_entry_next_to_valid_signature_is_skipped(verifier: WebhookVerifier) -> None:
    body = event_body()
    headers = {**signed(body)}
    headers["webhook-signature"] = "v1,%%% " + headers["webhook-signature"]
    assert verifier.verify(headers, body, now=NOW).id == "evt_1"


@pytest.mark.parametrize("value", ["v1", "v1,", "garbage", "v1,é"])
def test_signature_header_shapes_end_in_verification_error(
    verifier: WebhookVerifier, value: str
) -> None:
    body = event_body()
    reason_of(verifier, {**signed(body), "webhook-signature": value}, body)


# -- timestamps ----------------------------------------------------------------------


def test_timestamp_older_than_tolerance_is_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    assert reason_of(verifier, signed(body, timestamp=NOW - 301), body) == "timestamp too old"


def test_timestamp_newer_than_tolerance_is_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    assert reason_of(verifier, signed(body, timestamp=NOW + 301), body) == "timestamp too new"


@pytest.mark.parametrize("offset", [-300, 300])
def test_timestamp_at_tolerance_edge_is_accepted(verifier: WebhookVerifier, offset: int) -> None:
    body = event_body()
    assert verifier.verify(signed(body, timestamp=NOW + offset), body, now=NOW).id == "evt_1"


def test_now_may_be_an_aware_datetime(verifier: WebhookVerifier) -> None:
    body = event_body()
    later = datetime.fromtimestamp(NOW + 3600, tz=UTC)
    with pytest.raises(WebhookVerificationError, match="timestamp too old"):
        verifier.verify(signed(body), body, now=later)


def test_default_now_is_the_system_clock(verifier: WebhookVerifier) -> None:
    fresh = make_delivery()
    assert verifier.verify(fresh.headers, fresh.body).id == "evt_1"
    stale = make_delivery(timestamp=NOW)
    with pytest.raises(WebhookVerificationError, match="timestamp too old"):
        verifier.verify(stale.headers, stale.body)


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "1700000000.5",
        "-1700000000",
        " 1700000000",
        "1_700_000_000",
        "\u0661\u0667\u0660\u0660",
    ],
)
def test_non_integer_timestamp_is_refused(verifier: WebhookVerifier, value: str) -> None:
    body = event_body()
    headers = {**signed(body), "webhook-timestamp": value}
    assert reason_of(verifier, headers, body) == "webhook-timestamp header is not an integer"


def test_custom_tolerance_is_honoured() -> None:
    body = event_body()
    verifier = WebhookVerifier(SECRET, tolerance=10)
    assert reason_of(verifier, signed(body, timestamp=NOW - 11), body) == "timestamp too old"


# -- headers -------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_refused(verifier: WebhookVerifier, missing: str) -> None:
    body = event_body()
    headers = {k: v for k, v in signed(body).items() if k != missing}
    assert reason_of(verifier, headers, body) == f"missing {missing} header"


@pytest.mark.parametrize("empty", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_empty_header_counts_as_missing(verifier: WebhookVerifier, empty: str) -> None:
    body = event_body()
    headers = {**signed(body), empty: ""}
    assert reason_of(verifier, headers, body) == f"missing {empty} header"


@pytest.mark.parametrize("case", [str.upper, str.title, str.lower])
def test_header_names_match_in_any_case(verifier: WebhookVerifier, case: object) -> None:
    body = event_body()
    headers = {case(k): v for k, v in signed(body).items()}  # type: ignore[operator]
    assert verifier.verify(headers, body, now=NOW).id == "evt_1"


def test_headers_as_list_of_pairs_and_bytes_pairs(verifier: WebhookVerifier) -> None:
    body = event_body()
    pairs = [(k.title(), v) for k, v in signed(body).items()]
    raw = [(k.encode(), v.encode()) for k, v in signed(body).items()]
    assert verifier.verify(pairs, body, now=NOW).id == "evt_1"
    assert verifier.verify(raw, body, now=NOW).id == "evt_1"


def test_framework_header_objects_are_accepted(verifier: WebhookVerifier) -> None:
    body = event_body()
    raw = [(k.title().encode(), v.encode()) for k, v in signed(body).items()]
    starlette_headers = StarletteHeaders(raw=raw)
    werkzeug_headers = WerkzeugHeaders([(k.upper(), v) for k, v in signed(body).items()])
    assert verifier.verify(starlette_headers, body, now=NOW).id == "evt_1"
    assert verifier.verify(werkzeug_headers, body, now=NOW).id == "evt_1"


def test_signature_header_repeated_is_joined(verifier: WebhookVerifier) -> None:
    body = event_body()
    headers = signed(body)
    bogus = "v1," + base64.b64encode(b"z" * 32).decode()
    pairs = [
        ("webhook-id", "evt_1"),
        ("webhook-timestamp", str(NOW)),
        ("webhook-signature", bogus),
        ("webhook-signature", headers["webhook-signature"]),
    ]
    assert verifier.verify(pairs, body, now=NOW).id == "evt_1"


def test_repeated_id_header_is_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    pairs = [*signed(body).items(), ("Webhook-Id", "evt_2")]
    assert reason_of(verifier, pairs, body) == "repeated webhook-id header"


@pytest.mark.parametrize("headers", [None, 42, [("only-one",)], [("a", "b", "c")]])
def test_malformed_headers_object_ends_in_verification_error(
    verifier: WebhookVerifier, headers: object
) -> None:
    assert reason_of(verifier, headers, event_body()) == "malformed headers"


def test_overlong_or_non_ascii_id_is_refused(verifier: WebhookVerifier) -> None:
    body = event_body()
    too_long = {**signed(body), "webhook-id": "e" * 257}
    non_ascii = {**signed(body), "webhook-id": "évt_1"}
    assert reason_of(verifier, too_long, body) == "webhook-id header is too long"
    assert reason_of(verifier, non_ascii, body) == "webhook-id header is malformed"


# -- bodies --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "body is not valid JSON"),
        (b"\xff\xfe", "body is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "body is not valid JSON"),
        (b'["evt_1"]', "body is not a JSON object"),
        (b'"evt_1"', "body is not a JSON object"),
        (b'{"type": "user.authenticated"}', "body has no id"),
        (b'{"id": 1, "type": "user.authenticated"}', "body has no id"),
        (b'{"id": "evt_1"}', "body has no type"),
        (b'{"id": "evt_2", "type": "user.authenticated"}', "body id does not match webhook-id"),
        (b'{"id": "evt_1", "type": "t", "data": []}', "body data is not an object"),
    ],
)
def test_signed_but_unusable_body_is_refused(
    verifier: WebhookVerifier, body: bytes, reason: str
) -> None:
    assert reason_of(verifier, signed(body), body) == reason


@pytest.mark.parametrize(
    "body", [b' \n{"id": "evt_1", "type": "t"}', b'{"id": "evt_1", "type": "t"}\r\n ']
)
def test_json_body_with_surrounding_whitespace_is_accepted(
    verifier: WebhookVerifier, body: bytes
) -> None:
    assert verifier.verify(signed(body), body, now=NOW).type == "t"


@pytest.mark.parametrize(
    "body", [b'{"id": "evt_1", "type": "t"} {}', b'{"id": "evt_1", "type": "t"}x']
)
def test_json_body_with_trailing_data_is_refused(verifier: WebhookVerifier, body: bytes) -> None:
    assert reason_of(verifier, signed(body), body) == "body is not valid JSON"


def test_body_must_be_raw_bytes(verifier: WebhookVerifier) -> None:
    body = event_body()
    assert reason_of(verifier, signed(body), body.decode()) == "body must be the raw request bytes"


def test_bytearray_and_memoryview_bodies_verify(verifier: WebhookVerifier) -> None:
    body = event_body()
    assert verifier.verify(signed(body), bytearray(body), now=NOW).id == "evt_1"
    assert verifier.verify(signed(body), memoryview(body), now=NOW).id == "evt_1"


def test_sign_returns_the_three_headers() -> None:
    headers = sign(SECRET, "evt_9", datetime.fromtimestamp(NOW, tz=UTC), "{}")
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == "evt_9"
    assert headers["webhook-timestamp"] == str(NOW)
    assert headers["webhook-signature"].startswith("v1,")
