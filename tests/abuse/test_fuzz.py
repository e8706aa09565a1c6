"""Property-based fuzzing of every parser that reads request data: any input gives a
defined answer or refusal, never an unhandled exception.

The budget is fixed (``max_examples`` per test, derandomized) so the module runs in the
normal test command in a few seconds and the same way every time.
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from authonomy_integrations._core.crypto import SecretBox
from authonomy_integrations._core.keys import VerificationKey
from authonomy_integrations._core.login import LoginAttempts, safe_next
from authonomy_integrations._core.sessions import SessionRecord
from authonomy_integrations._core.tokens import VerifyOptions, read_header, verify
from authonomy_integrations._core.web import bearer_token, cookie_value
from authonomy_integrations._errors import TokenError, WebhookVerificationError
from authonomy_integrations.sandbox import Sandbox
from authonomy_integrations.stores import CookieSessionStore, MemorySessionStore
from authonomy_integrations.stores._base import compress, decompress
from authonomy_integrations.webhooks import WebhookReceiver, WebhookVerifier, sign
from tests.adapters import ADAPTERS
from tests.browsing import PAGE

FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
#: Tests that send each example through an app: fewer examples, same rules.
FUZZ_APPS = settings(FUZZ, max_examples=25)

SECRET = "fuzz-session-secret-" + "s" * 32
WEBHOOK_SECRET = "whsec_ZnV6ei13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5"

#: Characters a header value can carry through an HTTP client: printable ASCII.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200)
#: Anything a framework may hand over after decoding: all of Unicode, controls included.
any_text = st.text(max_size=300)
cookie_name = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='()<>@,;:\\"/[]?={}'),
    min_size=1,
    max_size=20,
)
cookie_octets = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='",;\\'),
    min_size=1,
    max_size=40,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


# --- cookies ------------------------------------------------------------------------


@FUZZ
@given(header=any_text, name=cookie_name)
def test_cookie_value_answers_a_string_or_none_for_any_header(header: str, name: str) -> None:
    value = cookie_value(header, name)
    assert value is None or isinstance(value, str)


@FUZZ
@given(
    pairs=st.dictionaries(cookie_name, cookie_octets, min_size=1, max_size=6),
    spaces=st.booleans(),
)
def test_cookie_value_finds_each_cookie_of_a_well_formed_header(
    pairs: dict[str, str], spaces: bool
) -> None:
    header = ("; " if spaces else ";").join(f"{name}={value}" for name, value in pairs.items())
    for name, value in pairs.items():
        assert cookie_value(header, name) == value


# --- next -----------------------------------------------------------------------------


def _local(path: str) -> bool:
    return path.startswith("/") and not path.startswith("//") and "\\" not in path


@FUZZ
@given(value=any_text)
def test_safe_next_gives_an_ascii_local_path_for_any_input(value: str) -> None:
    result = safe_next(value)
    assert result.isascii()
    form = result
    for _ in range(4):  # a browser, or a server that decodes and redirects again
        assert _local(form)
        assert all(ord(c) >= 0x20 and ord(c) != 0x7F for c in form)
        form = unquote(form)


@FUZZ
@given(value=any_text)
def test_safe_next_keeps_what_it_accepts(value: str) -> None:
    once = safe_next(value)
    assert safe_next(once) == once


# --- bearer tokens ------------------------------------------------------------------

_OPTIONS = VerifyOptions(issuer="https://auth.example", audience="app_1")


def _no_key(kid: str) -> VerificationKey | None:
    return None


@FUZZ
@given(header=any_text)
def test_authorization_header_gives_a_token_none_or_a_token_error(header: str) -> None:
    try:
        token = bearer_token(header)
    except TokenError:
        return
    assert token is None or (token and " " not in token)


b64_segment = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=."),
    max_size=60,
)


@FUZZ
@given(
    token=any_text
    | b64_segment
    | st.builds(lambda *p: ".".join(p), b64_segment, b64_segment, b64_segment)
)
def test_any_token_is_refused_with_a_token_error(token: str) -> None:
    with pytest.raises(TokenError):
        read_header(token)
        verify(token, _no_key, _OPTIONS, time.time())


@FUZZ
@given(header=json_values, payload=json_values)
def test_tokens_with_any_json_inside_are_refused_with_a_token_error(
    header: Any, payload: Any
) -> None:
    from authonomy_integrations._core.crypto import b64url_encode

    def part(value: Any) -> str:
        return b64url_encode(json.dumps(value).encode())

    token = f"{part(header)}.{part(payload)}.{b64url_encode(b'sig')}"
    with pytest.raises(TokenError):
        read_header(token)
        verify(token, _no_key, _OPTIONS, time.time())


# --- webhooks -------------------------------------------------------------------------

_VERIFIER = WebhookVerifier(WEBHOOK_SECRET)
webhook_headers = st.fixed_dictionaries(
    {},
    optional={
        "webhook-id": any_text,
        "webhook-timestamp": any_text | st.integers().map(str),
        "webhook-signature": any_text | st.just("v1,") | st.just("v1,AAAA v2,BBBB"),
        "content-type": st.just("application/json") | any_text,
    },
)


@FUZZ
@given(headers=webhook_headers, body=st.binary(max_size=300))
def test_any_webhook_headers_and_body_are_refused_with_a_verification_error(
    headers: dict[str, str], body: bytes
) -> None:
    with pytest.raises(WebhookVerificationError):
        _VERIFIER.verify(headers, body)


@FUZZ
@given(
    event_id=st.text(min_size=1, max_size=40),
    body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()),
)
def test_signed_webhooks_of_any_content_are_handled_or_refused(event_id: str, body: bytes) -> None:
    receiver = WebhookReceiver(secret=WEBHOOK_SECRET)
    receiver.on_any(lambda event: None)
    headers = {
        **sign(WEBHOOK_SECRET, event_id, time.time(), body),
        "content-type": "application/json",
    }
    result = receiver.handle(headers, body)
    assert result.status in (200, 400)
    if result.status == 400:
        assert result.body["error"]["code"] == "WEBHOOK_VERIFICATION_FAILED"


@FUZZ
@given(payload=st.dictionaries(st.sampled_from(["id", "type", "timestamp", "data"]), json_values))
def test_signed_event_objects_of_any_shape_parse_or_are_refused(payload: dict[str, Any]) -> None:
    payload = {**payload, "id": "evt_fuzz"}
    body = json.dumps(payload).encode()
    headers = sign(WEBHOOK_SECRET, "evt_fuzz", time.time(), body)
    try:
        event = _VERIFIER.verify(headers, body)
    except WebhookVerificationError:
        return
    # Every typed view of a verified event answers without raising.
    _ = (event.user, event.session, event.policy, event.reason, event.request, event.customer)


# --- session and login cookies ------------------------------------------------------

_DEADLINE = struct.Struct("<d")
_COOKIE_STORE = CookieSessionStore(SECRET)
_MEMORY_STORE = MemorySessionStore()
_BOX = SecretBox([SECRET], purpose="login")


@FUZZ
@given(value=any_text)
def test_any_session_cookie_value_loads_as_nothing(value: str) -> None:
    assert _COOKIE_STORE.load(value) is None
    assert _MEMORY_STORE.load(value) is None
    assert LoginAttempts.decode(value, _BOX, time.time(), 600) == []


@FUZZ
@given(data=st.binary(max_size=400))
def test_any_bytes_decode_as_a_record_or_nothing(data: bytes) -> None:
    assert decompress(data) is None or isinstance(decompress(data), bytes)
    record = SessionRecord.from_bytes(data)
    assert record is None or isinstance(record, SessionRecord)


def _record_fields() -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sampled_from(["v", "i", "a", "r", "e", "s", "t", "l", "c"])
    return st.dictionaries(keys, json_values | st.just(1), max_size=9)


@FUZZ
@given(fields=_record_fields())
def test_sealed_session_cookies_with_any_json_load_as_a_record_or_nothing(
    fields: dict[str, Any],
) -> None:
    plain = _DEADLINE.pack(time.time() + 600) + json.dumps(fields).encode()
    cookie = SecretBox([SECRET], purpose="session").seal(compress(plain))
    record = _COOKIE_STORE.load(cookie)
    assert record is None or isinstance(record, SessionRecord)


@FUZZ
@given(items=json_values)
def test_sealed_login_cookies_with_any_json_decode_to_attempts_or_nothing(items: Any) -> None:
    cookie = _BOX.seal(json.dumps(items).encode())
    attempts = LoginAttempts.decode(cookie, _BOX, time.time(), 600)
    assert isinstance(attempts, list)


# --- through the adapters -------------------------------------------------------------


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, Any]]:
    """A client of the small test app of every adapter of the registry, by name."""
    with Sandbox() as sb, ExitStack() as stack:
        config = sb.config(max_retries=0, login_rate_limit=0, session_secret=SECRET)
        yield {
            adapter.name: stack.enter_context(adapter.calling(config))[0] for adapter in ADAPTERS
        }


def _get(client: Any, path: str, query: dict[str, str], headers: dict[str, str]) -> Any:
    """GET with a query string, from an httpx-based client or Werkzeug's."""
    if hasattr(client, "get_cookie"):  # Werkzeug's
        return client.get(path, query_string=query, headers=headers)
    return client.get(path, params=query, headers=headers)


def _sendable(client: Any, headers: dict[str, str]) -> dict[str, str]:
    """``headers`` as they reach the app: over a real connection, without the spaces
    around a value that HTTP strips (and an HTTP client refuses to send)."""
    if isinstance(client, httpx.Client) and not isinstance(client, TestClient):
        return {name: value.strip(" ") for name, value in headers.items()}
    return headers


def _status(answer: Any) -> int:
    return int(answer.status_code)


def printable_text(max_size: int) -> st.SearchStrategy[str]:
    """Text without control or format characters (``next`` refuses those on purpose)."""
    return st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs")), max_size=max_size)


#: Path characters a browser sends as they are (no controls, no ``?#%\``: those end the
#: path, start an escape, or are refused as ``next`` on purpose).
path_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs"), blacklist_characters="?#%\\"),
    max_size=40,
)


@FUZZ_APPS
@given(
    path=path_text.map(lambda p: "/x/" + p),
    query=st.dictionaries(printable_text(10), printable_text(20), max_size=3),
)
def test_any_guarded_url_sends_the_browser_to_login_and_back_to_the_same_url(
    clients: dict[str, Any], path: str, query: dict[str, str]
) -> None:
    for name, client in clients.items():
        answer = _get(client, path, query, PAGE)
        assert _status(answer) == 302, name
        location = answer.headers["location"]
        assert location.isascii()
        parts = urlsplit(location)
        assert parts.path == "/auth/login"
        next_path = dict(parse_qsl(parts.query))["next"]
        assert safe_next(next_path) == next_path


@FUZZ_APPS
@given(
    query=st.dictionaries(
        st.sampled_from(["code", "state", "iss", "error", "error_description", "x"]),
        any_text.filter(lambda v: "\x00" not in v),
        max_size=5,
    ),
    login_cookie=cookie_octets,
)
def test_any_callback_query_is_answered_with_a_page_not_an_error(
    clients: dict[str, Any], query: dict[str, str], login_cookie: str
) -> None:
    for name, client in clients.items():
        headers = {**PAGE, "cookie": f"authonomy_login={login_cookie}"}
        answer = _get(client, "/auth/callback", query, headers)
        assert _status(answer) in (400, 403), name


@FUZZ_APPS
@given(authorization=header_text, cookie=header_text)
def test_any_credentials_are_answered_401_302_or_200_never_500(
    clients: dict[str, Any], authorization: str, cookie: str
) -> None:
    for name, client in clients.items():
        headers = {"accept": "application/json", "cookie": cookie}
        if authorization:
            headers["authorization"] = authorization
        answer = client.get("/x/page", headers=_sendable(client, headers))
        assert _status(answer) in (200, 302, 401), name
