"""Issuer documents, key rotation and the ES256 mode."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jwt
import pytest

from authonomy_integrations.sandbox import Sandbox

from .helpers import api, sign_in


def _jwks(sb: Sandbox) -> httpx.Response:
    return httpx.get(f"{sb.issuer}/.well-known/jwks.json")


def test_jwks_is_cacheable_for_five_minutes_and_every_key_has_kid(sb: Sandbox) -> None:
    response = _jwks(sb)
    assert "max-age=300" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert keys and all(key["kid"] and key["kty"] == "RSA" for key in keys)
    assert all("d" not in key for key in keys)


def test_discovery_document_names_issuer_endpoints_and_iss_support(sb: Sandbox) -> None:
    document = httpx.get(f"{sb.issuer}/.well-known/openid-configuration").json()
    assert document["issuer"] == sb.issuer
    assert document["authorization_endpoint"] == f"{sb.issuer}/authorize"
    assert document["jwks_uri"] == f"{sb.issuer}/.well-known/jwks.json"
    assert document["authorization_response_iss_parameter_supported"] is True


def test_rotation_publishes_new_kid_keeps_old_and_signs_with_new(
    sb: Sandbox, client: httpx.Client
) -> None:
    _, before = sign_in(client)
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
    new_kid = sb.rotate_keys()
    kids = {key["kid"] for key in _jwks(sb).json()["keys"]}
    assert {old_kid, new_kid} <= kids
    _, after = sign_in(client)
    assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid
    assert jwt.get_unverified_header(after["id_token"])["kid"] == new_kid
    jwks = jwt.PyJWKSet.from_dict(_jwks(sb).json())
    old_key = next(k for k in jwks.keys if k.key_id == old_kid)
    jwt.decode(before["access_token"], old_key, algorithms=["RS256"], audience=sb.audience)


def test_a_key_published_ahead_signs_only_after_the_rotation(
    sb: Sandbox, client: httpx.Client
) -> None:
    signing_kid = jwt.get_unverified_header(sign_in(client)[1]["access_token"])["kid"]
    next_kid = sb.publish_next_key()
    assert next_kid in {key["kid"] for key in _jwks(sb).json()["keys"]}
    still = jwt.get_unverified_header(sign_in(client)[1]["access_token"])["kid"]
    assert still == signing_kid
    assert sb.rotate_keys() == next_kid
    assert jwt.get_unverified_header(sign_in(client)[1]["access_token"])["kid"] == next_kid


@pytest.fixture(scope="module")
def es_sandbox() -> Iterator[Sandbox]:
    """A sandbox signing with ES256."""
    with Sandbox(algorithm="ES256") as sandbox:
        yield sandbox


def test_es256_mode_signs_tokens_verifiable_with_its_ec_jwk(es_sandbox: Sandbox) -> None:
    with api(es_sandbox) as client:
        _, tokens = sign_in(client)
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "ES256"
    jwk = next(k for k in _jwks(es_sandbox).json()["keys"] if k["kid"] == header["kid"])
    assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
    claims = jwt.decode(
        tokens["access_token"],
        jwt.PyJWK.from_dict(jwk),
        algorithms=["ES256"],
        audience=es_sandbox.audience,
        issuer=es_sandbox.issuer,
    )
    assert claims["sub"] == "user_bob"


def test_token_signed_by_another_key_does_not_verify(sb: Sandbox) -> None:
    with Sandbox() as other, api(other) as other_client:
        _, foreign = sign_in(other_client)
    jwks = jwt.PyJWKSet.from_dict(_jwks(sb).json())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            foreign["access_token"], jwks.keys[0], algorithms=["RS256"], audience=sb.audience
        )


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="algorithm"):
        Sandbox(algorithm="HS256")
