"""The login transaction: PKCE, safe ``next`` paths, pending attempts, callback checks."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest

from authonomy_integrations._core.crypto import SecretBox
from authonomy_integrations._core.login import (
    LoginAttempt,
    LoginAttempts,
    check_callback,
    new_nonce,
    new_pkce,
    safe_next,
)
from authonomy_integrations._errors import LoginError

ISSUER = "http://127.0.0.1:8765"
NOW = 1_700_000_000.0
TTL = 600
BOX = SecretBox(["s" * 32], "login")

# RFC 7636 appendix B.
RFC_OCTETS = bytes(
    [116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
     22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121]
)  # fmt: skip


def fixed(data: bytes) -> Callable[[int], bytes]:
    def random_bytes(n: int) -> bytes:
        assert n == len(data)
        return data

    return random_bytes


def attempt(state: str = "st-1", created_at: float = NOW, **changes: object) -> LoginAttempt:
    base = LoginAttempt(
        state=state,
        code_verifier="v" * 43,
        nonce="n" * 43,
        next_path="/reports",
        customer_id="acme-corp",
        return_url="https://app.example/auth/callback",
        created_at=created_at,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def callback(**params: str) -> dict[str, str]:
    return {"code": "authcode", "state": "st-1", "iss": ISSUER, **params}


# PKCE and nonce


def test_pkce_matches_rfc7636_appendix_b() -> None:
    verifier, challenge = new_pkce(fixed(RFC_OCTETS))
    assert verifier == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_verifier_is_43_to_128_unreserved_characters() -> None:
    verifier, _ = new_pkce()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )


def test_pkce_and_nonce_are_fresh_each_time() -> None:
    assert new_pkce() != new_pkce()
    assert new_nonce() != new_nonce()
    assert len(new_nonce()) == 43


# safe_next


@pytest.mark.parametrize(
    "value",
    [
        "/",
        "/reports",
        "/reports?page=2&sort=name",
        "/a/b#frag",
        "/caf%C3%A9",
        "/path%20with%20space",
        "/search?q=https://example.com",
        "/javascript:alert(1)",
        # A backslash only redirects as "/" in the path; in the query it is data.
        "/x/?%5C=",
        "/search?q=a%5Cb",
        "/files?dir=%5C%5Cshare#top%5C",
    ],
)
def test_safe_next_keeps_same_origin_paths(value: str) -> None:
    assert safe_next(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "//evil.example",
        "///evil.example",
        "https://evil.example",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "\\/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "reports",
        "/\t/evil.example",
        "/\n/evil.example",
        "/reports\r\nSet-Cookie: x=1",
        "/\x00",
        "/\u202eevil",
        " //evil.example",
        "/%2F%2Fevil.example",
        "%2F%2Fevil.example",
        "/%2f/evil.example",
        "/%5Cevil.example",
        "/%5cevil.example",
        "/%5C%5Cevil.example?q=1",
        "/x%5C?q=%5C",
        "/%252F%252Fevil.example",
        "/%09/evil.example",
        "/%0d%0aSet-Cookie:x",
        "/%25252525252F",
        "/" + "a" * 2000,
    ],
)
def test_safe_next_rejects_other_origins_and_tricks(value: str | None) -> None:
    assert safe_next(value) == "/"


def test_safe_next_uses_the_given_default() -> None:
    assert safe_next("//evil", default="/home") == "/home"


# pending attempts in the cookie


def test_attempts_roundtrip_through_the_sealed_cookie() -> None:
    attempts = [attempt("a"), attempt("b", customer_id=None)]
    cookie = LoginAttempts.encode(attempts, BOX)
    assert LoginAttempts.decode(cookie, BOX, NOW + 1, TTL) == attempts


def test_logins_started_in_several_tabs_all_complete() -> None:
    attempts: list[LoginAttempt] = []
    for state in ("tab-1", "tab-2", "tab-3"):
        attempts = LoginAttempts.add(attempts, attempt(state))
        attempts = LoginAttempts.decode(LoginAttempts.encode(attempts, BOX), BOX, NOW, TTL)
    completed = []
    for state in ("tab-2", "tab-1", "tab-3"):
        result = check_callback(callback(state=state), attempts, issuer=ISSUER, now=NOW, ttl=TTL)
        completed.append(result.attempt.state)
        attempts = result.remaining
    assert completed == ["tab-2", "tab-1", "tab-3"]
    assert attempts == []


def test_at_most_max_pending_attempts_are_kept_dropping_the_oldest() -> None:
    attempts: list[LoginAttempt] = []
    for index in range(8):
        attempts = LoginAttempts.add(attempts, attempt(f"st-{index}"), max_pending=5)
    assert [a.state for a in attempts] == ["st-3", "st-4", "st-5", "st-6", "st-7"]


def test_cookie_with_five_pending_attempts_fits_one_cookie() -> None:
    attempts = [attempt("S" * 300 + str(i), next_path="/" + "p" * 1000) for i in range(5)]
    cookie = LoginAttempts.encode(attempts, BOX)
    assert len(cookie) <= 3800
    kept = LoginAttempts.decode(cookie, BOX, NOW, TTL)
    assert kept and kept == attempts[-len(kept) :]


def test_expired_attempts_are_dropped_on_decode() -> None:
    cookie = LoginAttempts.encode([attempt("old", created_at=NOW - 700), attempt("new")], BOX)
    assert [a.state for a in LoginAttempts.decode(cookie, BOX, NOW, TTL)] == ["new"]


def test_forged_or_garbled_attempts_cookie_decodes_to_nothing() -> None:
    assert LoginAttempts.decode("garbage", BOX, NOW, TTL) == []
    assert LoginAttempts.decode(None, BOX, NOW, TTL) == []
    other_box = SecretBox(["o" * 32], "login")
    assert LoginAttempts.decode(LoginAttempts.encode([attempt()], other_box), BOX, NOW, TTL) == []
    wrong_shape = BOX.seal(json.dumps([{"s": 1}]).encode())
    assert LoginAttempts.decode(wrong_shape, BOX, NOW, TTL) == []


def test_take_is_single_use() -> None:
    found, remaining = LoginAttempts.take([attempt("a"), attempt("b")], "a")
    assert found is not None and found.state == "a"
    again, _ = LoginAttempts.take(remaining, "a")
    assert again is None


def test_callback_cannot_be_replayed_with_the_same_state() -> None:
    first = check_callback(callback(), [attempt()], issuer=ISSUER, now=NOW, ttl=TTL)
    with pytest.raises(LoginError, match="state"):
        check_callback(callback(), first.remaining, issuer=ISSUER, now=NOW, ttl=TTL)


# callback checks


def test_valid_callback_returns_attempt_and_code() -> None:
    result = check_callback(
        callback(), [attempt(), attempt("other")], issuer=ISSUER, now=NOW, ttl=TTL
    )
    assert result.code == "authcode"
    assert result.attempt.state == "st-1"
    assert [a.state for a in result.remaining] == ["other"]


def test_callback_rejects_state_from_other_browser() -> None:
    this_browser = [attempt("mine")]
    with pytest.raises(LoginError, match="state") as caught:
        check_callback(
            callback(state="someone-elses"), this_browser, issuer=ISSUER, now=NOW, ttl=TTL
        )
    assert caught.value.code == "LOGIN_FAILED"


def test_callback_rejects_missing_state() -> None:
    params = callback()
    del params["state"]
    with pytest.raises(LoginError, match="state"):
        check_callback(params, [attempt()], issuer=ISSUER, now=NOW, ttl=TTL)


def test_callback_rejects_expired_attempt() -> None:
    with pytest.raises(LoginError, match="state"):
        check_callback(callback(), [attempt()], issuer=ISSUER, now=NOW + TTL + 1, ttl=TTL)


def test_callback_rejects_attempt_dated_in_the_future() -> None:
    with pytest.raises(LoginError, match="state"):
        check_callback(callback(), [attempt(created_at=NOW + 60)], issuer=ISSUER, now=NOW, ttl=TTL)


def test_callback_rejects_missing_iss() -> None:
    params = callback()
    del params["iss"]
    with pytest.raises(LoginError, match="iss"):
        check_callback(params, [attempt()], issuer=ISSUER, now=NOW, ttl=TTL)


@pytest.mark.parametrize(
    "iss", ["https://evil.example", ISSUER + "/", ISSUER.upper(), " " + ISSUER]
)
def test_callback_rejects_other_issuer(iss: str) -> None:
    with pytest.raises(LoginError, match="iss"):
        check_callback(callback(iss=iss), [attempt()], issuer=ISSUER, now=NOW, ttl=TTL)


def test_callback_error_access_denied_raises_with_code_and_description() -> None:
    params = {
        "error": "access_denied",
        "error_description": "User cancelled",
        "state": "st-1",
        "iss": ISSUER,
    }
    with pytest.raises(LoginError) as caught:
        check_callback(params, [attempt(), attempt("other")], issuer=ISSUER, now=NOW, ttl=TTL)
    assert caught.value.error == "access_denied"
    assert "User cancelled" in caught.value.reason
    _, remaining = LoginAttempts.take([attempt(), attempt("other")], params["state"])
    assert [a.state for a in remaining] == ["other"]


def test_callback_error_is_checked_for_issuer_first() -> None:
    params = {"error": "access_denied", "state": "st-1", "iss": "https://evil.example"}
    with pytest.raises(LoginError, match="iss") as caught:
        check_callback(params, [attempt()], issuer=ISSUER, now=NOW, ttl=TTL)
    assert caught.value.error == "wrong_issuer"  # not the unchecked "access_denied"


def test_callback_error_description_is_trimmed_to_printable_text() -> None:
    params = {
        "error": "access_denied",
        "error_description": "bad\r\nX: y" + "z" * 500,
        "state": "st-1",
        "iss": ISSUER,
    }
    with pytest.raises(LoginError) as caught:
        check_callback(params, [attempt()], issuer=ISSUER, now=NOW, ttl=TTL)
    assert "\n" not in caught.value.reason
    assert len(caught.value.reason) < 300


def test_callback_rejects_missing_code() -> None:
    params = callback()
    del params["code"]
    with pytest.raises(LoginError, match="code"):
        check_callback(params, [attempt()], issuer=ISSUER, now=NOW, ttl=TTL)
