"""Token verification: what is accepted, and every way a token is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from authonomy_integrations._core.keys import KeySet, VerificationKey
from authonomy_integrations._core.tokens import VerifyOptions, read_header, verify
from authonomy_integrations._errors import (
    ConfigurationError,
    KeyNotFoundError,
    TokenError,
    TokenExpiredError,
)

from .tokenfactory import AUDIENCE, ISSUER, NOW, TokenFactory, b64url, ec_key, forge, rsa_key

factory = TokenFactory()
KEYS = factory.key_set()
OPTIONS = factory.access_options()
PRIVATE_KEY = rsa_key().private_key


def sign_raw_payload(body: str) -> str:
    """A correctly signed token whose payload is exactly ``body`` (not necessarily JSON)."""
    header = b64url(json.dumps({"alg": "RS256", "kid": "rsa-1", "typ": "at+jwt"}))
    signing_input = f"{header}.{b64url(body)}"
    signature = jwt.get_algorithm_by_name("RS256").sign(signing_input.encode(), PRIVATE_KEY)
    return f"{signing_input}.{b64url(signature)}"


def check(token: str, *, options: VerifyOptions = OPTIONS, now: float = NOW, **kw: Any) -> Any:
    return verify(token, KEYS.get, options, now, **kw)


def refused(token: str, **kw: Any) -> TokenError:
    with pytest.raises(TokenError) as caught:
        check(token, **kw)
    return caught.value


# --- accepted tokens ---------------------------------------------------------------


def test_valid_rs256_access_token_returns_its_claims() -> None:
    claims = check(factory.access_token(groups=["admins"]))
    assert claims["sub"] == "user_alice"
    assert claims["groups"] == ["admins"]


def test_valid_es256_access_token_returns_its_claims() -> None:
    claims = check(factory.access_token(key=ec_key(), sub="user_bob"))
    assert claims["sub"] == "user_bob"


def test_factory_tokens_also_verify_with_pyjwt_itself() -> None:
    token = factory.access_token()
    public = rsa_key().private_key.public_key()
    claims = jwt.decode(
        token,
        public,
        algorithms=["RS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert claims == check(token)


def test_id_token_with_matching_nonce_is_accepted() -> None:
    claims = check(factory.id_token("n-123"), options=factory.id_options(), nonce="n-123")
    assert claims["nonce"] == "n-123"


def test_audience_list_containing_the_application_is_accepted() -> None:
    assert check(factory.access_token(aud=["other_app", AUDIENCE]))["sub"] == "user_alice"


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
def test_typ_matches_case_insensitively_with_optional_application_prefix(typ: str) -> None:
    token = factory.sign(factory.claims(), typ=typ)
    assert check(token)["sub"] == "user_alice"


def test_token_within_leeway_after_exp_is_accepted() -> None:
    token = factory.access_token(exp=NOW - 10)
    assert check(token, options=factory.access_options(leeway=30))["sub"] == "user_alice"


def test_nbf_within_leeway_is_accepted() -> None:
    token = factory.access_token(nbf=NOW + 10)
    assert check(token, options=factory.access_options(leeway=30))["sub"] == "user_alice"


def test_declared_rs384_key_verifies_rs384_when_options_allow_it() -> None:
    key = rsa_key("rsa-384", alg="RS384")
    keys = KeySet.from_jwks({"keys": [key.jwk()]})
    options = factory.access_options(algorithms=("RS384",))
    token = factory.sign(factory.claims(), key=key)
    assert verify(token, keys.get, options, NOW)["sub"] == "user_alice"


# --- algorithm and key selection -------------------------------------------------


def test_alg_none_is_refused() -> None:
    header = {"alg": "none", "kid": "rsa-1", "typ": "at+jwt"}
    token = forge(header, factory.claims())
    assert refused(token).reason == "malformed token"  # empty signature part
    assert refused(token + "AAAA").reason == "algorithm not allowed"


@pytest.mark.parametrize("alg", ["none", "HS256", "RS255", ""])
def test_options_cannot_allow_symmetric_or_unknown_algorithms(alg: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        factory.access_options(algorithms=("RS256", alg))
    assert caught.value.field == "algorithms"


def test_hs256_signed_with_the_public_key_is_refused() -> None:
    pem = (
        rsa_key()
        .private_key.public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    header = {"alg": "HS256", "kid": "rsa-1", "typ": "at+jwt"}
    unsigned = forge(header, factory.claims()).rsplit(".", 1)[0]
    mac = hmac.new(pem, unsigned.encode(), hashlib.sha256).digest()
    assert refused(f"{unsigned}.{b64url(mac)}").reason == "algorithm not allowed"


def test_header_alg_outside_the_options_is_refused_even_with_a_valid_signature() -> None:
    # The JWK declares no alg, so the key itself would accept RS384.
    key = rsa_key("rsa-any")
    keys = KeySet.from_jwks({"keys": [key.jwk(alg=None)]})
    token = factory.sign(factory.claims(), key=key, alg="RS384")
    with pytest.raises(TokenError, match="algorithm not allowed"):
        verify(token, keys.get, OPTIONS, NOW)


def test_header_alg_other_than_the_keys_declared_alg_is_refused() -> None:
    key = rsa_key("rsa-256-only", alg="RS256")
    keys = KeySet.from_jwks({"keys": [key.jwk()]})
    token = factory.sign(factory.claims(), key=key, alg="RS384")
    options = factory.access_options(algorithms=("RS256", "RS384"))
    with pytest.raises(TokenError, match="algorithm does not match the key"):
        verify(token, keys.get, options, NOW)


def test_es256_header_naming_an_rsa_key_is_refused() -> None:
    token = factory.sign(factory.claims(), key=ec_key(), kid="rsa-1")
    error = refused(token)
    assert error.reason == "algorithm does not match the key"
    assert error.kid == "rsa-1"


@pytest.mark.parametrize("kid", [None, "", 7])
def test_token_without_a_string_kid_is_refused(kid: Any) -> None:
    token = factory.sign(factory.claims(), kid=kid)
    assert refused(token).reason == "missing kid"


def test_unknown_kid_raises_key_not_found_with_the_kid() -> None:
    token = factory.sign(factory.claims(), kid="rotated-away")
    with pytest.raises(KeyNotFoundError) as caught:
        check(token)
    assert caught.value.kid == "rotated-away"


def test_embedded_jwk_with_attacker_key_is_never_used() -> None:
    attacker = rsa_key("attacker")
    token = factory.sign(factory.claims(), key=attacker, jwk=attacker.jwk())
    with pytest.raises(KeyNotFoundError):
        check(token)


@pytest.mark.parametrize("member", ["jku", "x5u"])
def test_key_urls_in_the_header_are_ignored(member: str) -> None:
    attacker = rsa_key("attacker")
    looked_up: list[str] = []

    def lookup(kid: str) -> VerificationKey | None:
        looked_up.append(kid)
        return KEYS.get(kid)

    header = {"kid": "rsa-1", member: "https://attacker.example/jwks.json"}
    token = factory.sign(factory.claims(), key=attacker, **header)
    with pytest.raises(TokenError, match="invalid signature"):
        verify(token, lookup, OPTIONS, NOW)
    assert looked_up == ["rsa-1"]


def test_embedded_x5c_does_not_replace_the_issuers_key() -> None:
    attacker = rsa_key("attacker")
    token = factory.sign(factory.claims(), key=attacker, kid="rsa-1", x5c=["MIIBattacker"])
    assert refused(token).reason == "invalid signature"


def test_unknown_critical_header_is_refused() -> None:
    extension: dict[str, Any] = {"urn:example:policy": 1}
    token = factory.sign(factory.claims(), crit=["urn:example:policy"], **extension)
    assert refused(token).reason == "unsupported critical header"


# --- typ ---------------------------------------------------------------------------


def test_id_token_is_refused_where_an_access_token_is_expected() -> None:
    assert refused(factory.id_token("n-1")).reason == "wrong token type"


def test_access_token_is_refused_where_an_id_token_is_expected() -> None:
    token = factory.access_token(nonce="n-1")
    error = refused(token, options=factory.id_options(), nonce="n-1")
    assert error.reason == "wrong token type"


def test_token_without_typ_is_refused() -> None:
    assert refused(factory.sign(factory.claims(), typ=None)).reason == "wrong token type"


# --- claims ------------------------------------------------------------------------


@pytest.mark.parametrize("iss", [ISSUER + "/", "https://auth.test.example.evil", "", 1])
def test_other_issuer_is_refused(iss: Any) -> None:
    error = refused(factory.access_token(iss=iss))
    assert (error.reason, error.claim) == ("wrong issuer", "iss")


def test_missing_issuer_is_refused() -> None:
    assert refused(factory.access_token(iss=None)).claim == "iss"


@pytest.mark.parametrize("aud", [None, []])
def test_missing_audience_is_refused(aud: Any) -> None:
    error = refused(factory.access_token(aud=aud))
    assert (error.reason, error.claim) == ("missing aud", "aud")


@pytest.mark.parametrize("aud", ["other_app", ["other_app"], AUDIENCE + "x", {"app": AUDIENCE}])
def test_other_audience_is_refused(aud: Any) -> None:
    assert refused(factory.access_token(aud=aud)).reason == "wrong audience"


def test_expired_token_raises_token_expired() -> None:
    token = factory.access_token(exp=NOW - 31)
    with pytest.raises(TokenExpiredError) as caught:
        check(token, options=factory.access_options(leeway=30))
    assert caught.value.claim == "exp"


def test_token_is_expired_exactly_at_exp_without_leeway() -> None:
    token = factory.access_token(exp=NOW)
    with pytest.raises(TokenExpiredError):
        check(token, options=factory.access_options(leeway=0))


@pytest.mark.parametrize("exp", [None, "9999999999", True, [NOW + 60]])
def test_missing_or_non_numeric_exp_is_refused(exp: Any) -> None:
    error = refused(factory.access_token(exp=exp))
    assert error.claim == "exp"
    assert error.reason == ("missing exp" if exp is None else "invalid exp")


def test_nbf_in_the_future_beyond_leeway_is_refused() -> None:
    token = factory.access_token(nbf=NOW + 31)
    error = refused(token, options=factory.access_options(leeway=30))
    assert (error.reason, error.claim) == ("token not yet valid", "nbf")


def test_iat_in_the_future_beyond_leeway_is_refused() -> None:
    token = factory.access_token(iat=NOW + 31)
    error = refused(token, options=factory.access_options(leeway=30))
    assert (error.reason, error.claim) == ("token issued in the future", "iat")


@pytest.mark.parametrize("sub", [None, "", 42])
def test_missing_subject_is_refused(sub: Any) -> None:
    assert refused(factory.access_token(sub=sub)).claim == "sub"


@pytest.mark.parametrize("nonce_claim", ["n-other", None, 123])
def test_wrong_or_missing_nonce_is_refused(nonce_claim: Any) -> None:
    token = factory.sign(factory.claims(nonce=nonce_claim), typ="JWT")
    error = refused(token, options=factory.id_options(), nonce="n-expected")
    assert (error.reason, error.claim) == ("wrong nonce", "nonce")


# --- integrity and malformed input -----------------------------------------------


def test_tampered_payload_is_refused() -> None:
    header, _, signature = factory.access_token().split(".")
    forged = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user_admin", "exp": NOW + 60}
    payload = b64url(json.dumps(forged))
    assert refused(f"{header}.{payload}.{signature}").reason == "invalid signature"


@pytest.mark.parametrize("key", [rsa_key(), ec_key()], ids=["RS256", "ES256"])
def test_tampered_signature_is_refused(key: Any) -> None:
    token = factory.access_token(key=key)
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    assert refused(flipped).reason == "invalid signature"


def test_oversize_token_is_refused_before_it_is_parsed() -> None:
    def lookup(kid: str) -> VerificationKey | None:
        raise AssertionError("an oversize token must not reach key lookup")

    token = factory.access_token(padding="x" * 9000)
    with pytest.raises(TokenError, match="token too large"):
        verify(token, lookup, OPTIONS, NOW)
    with pytest.raises(TokenError, match="token too large"):
        read_header("!" * 8193)


def test_max_token_bytes_is_configurable() -> None:
    token = factory.access_token()
    with pytest.raises(TokenError, match="token too large"):
        check(token, options=factory.access_options(max_token_bytes=len(token) - 1))


GARBAGE = [
    "",
    "abc",
    "a.b",
    "a.b.c.d",
    "..",
    "!!!.e30.AA",
    f"{b64url('not json')}.e30.AA",
    f"{b64url('[1, 2]')}.e30.AA",
    f"{b64url('[' * 3000)}.e30.AA",
    b64url(bytes([0xFF, 0xFE])) + ".e30.AA",
    b64url('{"alg": "none", "alg": "RS256", "kid": "rsa-1", "typ": "at+jwt"}') + ".e30.AA",
    "eyJhbGciOiJSUzI1NiJ9=.e30.AA",
    "ey\u00e9.e30.AA",
]


@pytest.mark.parametrize("token", GARBAGE)
def test_garbage_tokens_raise_token_error(token: str) -> None:
    refused(token)


@pytest.mark.parametrize("token", GARBAGE)
def test_read_header_rejects_garbage(token: str) -> None:
    with pytest.raises(TokenError):
        read_header(token)


def test_read_header_returns_the_unverified_header() -> None:
    assert read_header(factory.access_token()) == {"alg": "RS256", "kid": "rsa-1", "typ": "at+jwt"}


def test_non_string_token_raises_token_error() -> None:
    refused(factory.access_token().encode())  # type: ignore[arg-type]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_signed_payload_with_non_json_numbers_is_refused(constant: str) -> None:
    body = f'{{"iss": "{ISSUER}", "aud": "{AUDIENCE}", "sub": "u", "exp": {constant}}}'
    assert refused(sign_raw_payload(body)).reason == "malformed payload"


def test_signed_payload_with_duplicate_claims_is_refused() -> None:
    body = json.dumps(factory.claims())[:-1] + ', "sub": "user_admin"}'
    assert refused(sign_raw_payload(body)).reason == "malformed payload"


def test_random_mutations_of_a_valid_token_only_ever_raise_token_error() -> None:
    token = factory.access_token()
    rng = random.Random(7)
    alphabet = "ABCabc019-_.=!"
    for _ in range(300):
        chars = list(token)
        for _ in range(rng.randint(1, 4)):
            # The last character may carry only unused padding bits, so changing it
            # can leave the decoded signature unchanged; every other one matters.
            chars[rng.randrange(len(chars) - 1)] = rng.choice(alphabet)
        mutated = "".join(chars)
        if mutated == token:
            continue
        with pytest.raises(TokenError):
            check(mutated)
