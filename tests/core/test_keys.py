"""JWK set parsing and the key-set cache's decisions about when to fetch."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from authonomy_integrations._core.keys import KeySet, KeySetCache, b64url_decode, parse_max_age

from .tokenfactory import ec_key, rsa_key

RSA = rsa_key()
EC = ec_key()
T0 = 1_000.0


def jwks(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"keys": list(keys)}


# --- KeySet ------------------------------------------------------------------------


def test_rsa_and_ec_keys_are_parsed_with_their_algorithms() -> None:
    keys = KeySet.from_jwks(jwks(RSA.jwk(), EC.jwk()))
    rsa_entry, ec_entry = keys.get("rsa-1"), keys.get("ec-1")
    assert rsa_entry is not None and isinstance(rsa_entry.key, RSAPublicKey)
    assert ec_entry is not None and isinstance(ec_entry.key, EllipticCurvePublicKey)
    assert (rsa_entry.alg, ec_entry.alg) == ("RS256", "ES256")


def test_parsed_key_is_the_signers_public_key() -> None:
    entry = KeySet.from_jwks(jwks(RSA.jwk())).get("rsa-1")
    assert entry is not None
    assert entry.key.public_numbers() == RSA.private_key.public_key().public_numbers()


def test_key_without_alg_allows_every_algorithm_of_its_type_only() -> None:
    entry = KeySet.from_jwks(jwks(RSA.jwk(alg=None))).get("rsa-1")
    assert entry is not None and entry.alg is None
    assert entry.allows("PS256") and entry.allows("RS512")
    assert not entry.allows("ES256") and not entry.allows("HS256")


SKIPPED = {
    "missing kid": RSA.jwk(kid=None),
    "empty kid": RSA.jwk(kid=""),
    "encryption key": RSA.jwk(use="enc"),
    "symmetric key": {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
    "unknown key type": {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AAAA"},
    "bad modulus": RSA.jwk(n="!!not-base64!!"),
    "padded modulus": RSA.jwk(n=RSA.jwk()["n"] + "="),
    "missing exponent": RSA.jwk(e=None),
    "weak RSA key": rsa_key("weak", bits=1024).jwk(),
    "P-384 curve": EC.jwk(crv="P-384"),
    "point not on curve": EC.jwk(y=EC.jwk()["x"]),
    "alg for another key type": RSA.jwk(alg="ES256"),
    "HMAC alg on RSA key": RSA.jwk(alg="HS256"),
    "not an object": "rsa-1",
}


@pytest.mark.parametrize("jwk", SKIPPED.values(), ids=SKIPPED.keys())
def test_unusable_key_is_skipped_and_the_rest_kept(jwk: dict[str, Any]) -> None:
    keys = KeySet.from_jwks(jwks(jwk, EC.jwk()))
    assert list(keys.keys) == ["ec-1"]


@pytest.mark.parametrize("doc", [{}, {"keys": "nope"}, {"keys": None}, {"keys": [{}]}])
def test_document_without_usable_keys_gives_an_empty_set(doc: dict[str, Any]) -> None:
    assert len(KeySet.from_jwks(doc)) == 0


def test_private_members_in_a_published_key_are_ignored() -> None:
    leaked = RSA.jwk(d="c2VjcmV0", p="AQ", q="AQ")
    entry = KeySet.from_jwks(jwks(leaked)).get("rsa-1")
    assert entry is not None and isinstance(entry.key, RSAPublicKey)


def test_first_key_wins_when_a_kid_repeats() -> None:
    other = rsa_key("other")
    keys = KeySet.from_jwks(jwks(RSA.jwk(), other.jwk(kid="rsa-1")))
    entry = keys.get("rsa-1")
    assert entry is not None
    assert entry.key.public_numbers() == RSA.private_key.public_key().public_numbers()


@pytest.mark.parametrize("value", ["a", "ab=", "a+b/", "é"])
def test_b64url_decode_rejects_non_base64url(value: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(value)


# --- parse_max_age -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("max-age=300", 300),
        ("public, max-age=60, must-revalidate", 60),
        ("Max-Age = 120", 120),
        ('max-age="90"', 90),
        ("max-age=300, no-cache", 0),
        ("no-store", 0),
        ("max-age=-5", None),
        ("max-age=soon", None),
        ("public", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_max_age(header: str | None, expected: int | None) -> None:
    assert parse_max_age(header) == expected


# --- KeySetCache -------------------------------------------------------------------


def loaded_cache(**kw: Any) -> KeySetCache:
    cache = KeySetCache(**kw)
    cache.fetched(jwks(RSA.jwk()), "max-age=300", T0)
    return cache


def test_empty_cache_fetches_first() -> None:
    cache = KeySetCache()
    assert cache.should_fetch("rsa-1", T0)
    assert cache.lookup("rsa-1", T0) is None


def test_known_kid_is_served_without_fetching() -> None:
    cache = loaded_cache()
    assert not cache.should_fetch("rsa-1", T0 + 1)
    entry = cache.lookup("rsa-1", T0 + 1)
    assert entry is not None and entry.kid == "rsa-1"


def test_unknown_kid_waits_for_the_cooldown_since_the_last_unknown_kid_fetch() -> None:
    cache = loaded_cache(cooldown=30)
    assert cache.begin_fetch("forged-1", T0 + 1)
    cache.fetched(jwks(RSA.jwk()), "max-age=300", T0 + 1)
    assert not cache.should_fetch("forged-2", T0 + 30)
    assert cache.should_fetch("forged-2", T0 + 31)


def test_unknown_kid_is_negatively_cached_even_without_cooldown() -> None:
    cache = loaded_cache(cooldown=0, negative_ttl=5)
    assert cache.begin_fetch("forged-1", T0)
    assert not cache.should_fetch("forged-2", T0 + 4.9)
    assert cache.should_fetch("forged-2", T0 + 5)


def test_start_up_fetch_leaves_the_unknown_kid_allowance_whole() -> None:
    cache = loaded_cache(cooldown=30)  # the start-up fetch, at T0
    assert cache.begin_fetch("rotated-late", T0 + 1)
    cache.fetched(jwks(RSA.jwk(), EC.jwk()), "max-age=300", T0 + 1)
    assert cache.lookup("ec-1", T0 + 1) is not None


def test_expiry_fetch_leaves_the_unknown_kid_allowance_whole() -> None:
    cache = loaded_cache(cooldown=30)
    assert cache.begin_fetch("rsa-1", T0 + 300)  # expired: a routine refetch
    cache.fetched(jwks(RSA.jwk()), "max-age=300", T0 + 300)
    assert cache.should_fetch("rotated-late", T0 + 301)


def test_flood_of_unknown_kids_fetches_once_per_cooldown() -> None:
    cache = loaded_cache(cooldown=30)
    fetches = 0
    for second in range(0, 90):
        if cache.begin_fetch(f"forged-{second}", T0 + 1 + second):
            fetches += 1
            cache.fetched(jwks(RSA.jwk()), "max-age=3600", T0 + 1 + second)
    assert fetches == 3


def test_rotation_new_kid_is_found_after_a_refetch() -> None:
    cache = loaded_cache(cooldown=30)
    assert cache.should_fetch("ec-1", T0 + 31)
    cache.fetched(jwks(RSA.jwk(), EC.jwk()), "max-age=300", T0 + 31)
    assert cache.lookup("ec-1", T0 + 31) is not None
    assert cache.lookup("rsa-1", T0 + 31) is not None


def test_key_withdrawn_from_the_set_is_no_longer_served() -> None:
    cache = loaded_cache()
    cache.fetched(jwks(EC.jwk()), None, T0 + 400)
    assert cache.lookup("rsa-1", T0 + 400) is None


def test_keys_are_refetched_when_past_their_max_age() -> None:
    cache = KeySetCache(cooldown=30)
    cache.fetched(jwks(RSA.jwk()), "public, max-age=60", T0)
    assert not cache.should_fetch("rsa-1", T0 + 59)
    assert cache.should_fetch("rsa-1", T0 + 60)
    assert cache.lookup("rsa-1", T0 + 60) is not None  # stale keys still verify meanwhile


def test_missing_cache_control_uses_the_default_max_age() -> None:
    cache = KeySetCache(default_max_age=300)
    cache.fetched(jwks(RSA.jwk()), None, T0)
    assert not cache.should_fetch("rsa-1", T0 + 299)
    assert cache.should_fetch("rsa-1", T0 + 300)


def test_zero_max_age_is_raised_to_the_cooldown() -> None:
    cache = KeySetCache(cooldown=30)
    cache.fetched(jwks(RSA.jwk()), "no-store", T0)
    assert not cache.should_fetch("rsa-1", T0 + 29)
    assert cache.should_fetch("rsa-1", T0 + 30)


def test_failed_fetch_keeps_the_last_good_keys_and_starts_the_cooldown() -> None:
    cache = loaded_cache(cooldown=30)
    cache.fetch_failed(T0 + 400)  # keys were stale; the refetch failed
    assert cache.lookup("rsa-1", T0 + 400) is not None
    assert not cache.should_fetch("rsa-1", T0 + 429)
    assert cache.should_fetch("rsa-1", T0 + 430)


def test_failed_first_fetch_backs_off_for_the_cooldown() -> None:
    cache = KeySetCache(cooldown=30)
    cache.fetch_failed(T0)
    assert not cache.should_fetch("rsa-1", T0 + 29)
    assert cache.should_fetch("rsa-1", T0 + 30)


def test_document_without_usable_keys_counts_as_a_failed_fetch() -> None:
    cache = loaded_cache(cooldown=30)
    cache.fetched({"keys": []}, "max-age=300", T0 + 400)
    assert cache.lookup("rsa-1", T0 + 400) is not None
    assert not cache.should_fetch("rsa-1", T0 + 401)


def test_successful_fetch_after_a_failure_ends_the_backoff() -> None:
    cache = KeySetCache(cooldown=30)
    cache.fetch_failed(T0)
    cache.fetched(jwks(RSA.jwk()), "max-age=300", T0 + 30)
    assert not cache.should_fetch("rsa-1", T0 + 31)
    assert cache.keys is not None and "rsa-1" in cache.keys
