"""The user object built from access-token claims."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from authonomy_integrations._core.user import AuthonomyUser, UnauthenticatedUser
from authonomy_integrations._errors import TokenError

from .tokenfactory import ISSUER, TokenFactory

factory = TokenFactory()


def user(**claims: Any) -> AuthonomyUser:
    return AuthonomyUser.from_claims(factory.claims(**claims))


def test_user_fields_come_from_the_claims() -> None:
    alice = user(groups=["admins", "engineering"], scope="openid email", amr=["pwd", "mfa"])
    assert alice.id == "user_alice"
    assert alice.issuer == ISSUER
    assert alice.email == "alice@acme-corp.example"
    assert alice.name == "Alice Example"
    assert alice.customer_id == "acme-corp"
    assert alice.groups == frozenset({"admins", "engineering"})
    assert alice.scopes == frozenset({"openid", "email"})
    assert alice.mfa is True
    assert alice.auth_time == factory.now - 60
    assert alice.session_id == "sess_1"
    assert alice.claims["jti"] == "at_1"
    assert alice.is_authenticated is True


def test_user_without_mfa_in_amr_has_mfa_false() -> None:
    assert user(amr=["pwd"]).mfa is False
    assert user(amr=None).mfa is False


def test_claims_of_the_wrong_type_read_as_absent() -> None:
    odd = user(email=5, groups="admins", scope=["admin"], amr="mfa", auth_time="yesterday", sid=1)
    assert (odd.email, odd.session_id, odd.auth_time) == (None, None, None)
    assert odd.groups == frozenset() and odd.scopes == frozenset()
    assert odd.mfa is False


def test_non_string_group_entries_are_dropped() -> None:
    assert user(groups=["admins", 7, None]).groups == frozenset({"admins"})


@pytest.mark.parametrize("missing", ["sub", "iss"])
def test_claims_without_identity_are_refused(missing: str) -> None:
    with pytest.raises(TokenError) as caught:
        user(**{missing: None})
    assert caught.value.claim == missing


def test_same_issuer_and_subject_are_the_same_user() -> None:
    first, second = user(email="old@example.com"), user(email="new@example.com", sid="sess_2")
    assert first == second
    assert len({first, second}) == 1


def test_same_subject_from_another_issuer_is_another_user() -> None:
    assert user() != user(iss="https://other-issuer.example")


def test_claims_cannot_be_modified_through_the_user() -> None:
    source = factory.claims()
    alice = AuthonomyUser.from_claims(source)
    source["sub"] = "user_mallory"
    assert alice.claims["sub"] == "user_alice"
    with pytest.raises(TypeError):
        alice.claims["sub"] = "user_mallory"  # type: ignore[index]


def test_user_is_immutable() -> None:
    alice = user()
    with pytest.raises(AttributeError):
        alice.groups = frozenset({"admins"})  # type: ignore[misc]


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({}, "Alice Example"),
        ({"name": None}, "alice@acme-corp.example"),
        ({"name": None, "email": None}, "user_alice"),
    ],
)
def test_display_name_falls_back_to_email_then_id(claims: dict[str, Any], expected: str) -> None:
    assert user(**claims).display_name == expected


def test_identity_is_the_user_id() -> None:
    assert user().identity == "user_alice"


def test_repr_does_not_dump_every_claim() -> None:
    assert "jti" not in repr(user())


def test_unauthenticated_user_is_one_empty_anonymous_user() -> None:
    nobody = UnauthenticatedUser()
    assert nobody is UnauthenticatedUser()
    assert nobody.is_authenticated is False
    assert nobody.display_name == "" and nobody.identity == ""
    assert nobody.groups == frozenset() and nobody.scopes == frozenset()
    assert nobody.mfa is False and nobody.id is None and dict(nobody.claims) == {}


def test_unauthenticated_user_stays_a_singleton_through_copy_and_pickle() -> None:
    nobody = UnauthenticatedUser()
    assert copy.copy(nobody) is nobody
    assert pickle.loads(pickle.dumps(nobody)) is nobody


def test_a_user_deep_copies_with_claims_of_its_own() -> None:
    # ASGI middleware (hypercorn's ProxyFixMiddleware) deep-copies the scope a user is in.
    original = user(groups=["admins"], extra={"nested": [1]})
    copied = copy.deepcopy(original)
    assert copied == original and copied.groups == original.groups
    assert copied.claims == original.claims
    assert copied.claims["extra"] is not original.claims["extra"]
    with pytest.raises(TypeError):
        copied.claims["sub"] = "someone else"  # type: ignore[index]


def test_both_users_answer_is_anonymous_as_django_code_expects() -> None:
    # Django's templates, admin and third-party apps ask `request.user.is_anonymous`.
    assert UnauthenticatedUser().is_anonymous is True
    assert user().is_anonymous is False
