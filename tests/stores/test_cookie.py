"""CookieSessionStore: the session sealed into the cookie."""

from __future__ import annotations

import os
import zlib

import pytest

from authonomy_integrations._core.crypto import SecretBox, b64url_decode, b64url_encode
from authonomy_integrations._errors import SessionError
from authonomy_integrations.stores import CookieSessionStore
from authonomy_integrations.stores._base import compress, decompress

from .conftest import RecordFactory

OLD = "o" * 32
NEW = "n" * 32


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_typical_session_fits_one_cookie(make_record: RecordFactory) -> None:
    groups = [f"group-{index:02d}" for index in range(30)]
    cookie_value = CookieSessionStore([NEW]).save(make_record(groups=groups), ttl=300)
    assert len(cookie_value) <= 3800


def test_oversize_session_raises_and_points_to_a_server_side_store(
    make_record: RecordFactory,
) -> None:
    groups = [b64url_encode(os.urandom(24)) for _ in range(120)]
    with pytest.raises(SessionError, match="server-side session store") as caught:
        CookieSessionStore([NEW]).save(make_record(groups=groups), ttl=300)
    assert "3800" in caught.value.message


def test_max_bytes_is_configurable(make_record: RecordFactory) -> None:
    with pytest.raises(SessionError):
        CookieSessionStore([NEW], max_bytes=500).save(make_record(), ttl=300)


def test_cookie_sealed_with_an_old_secret_still_loads(make_record: RecordFactory) -> None:
    record = make_record()
    old_cookie = CookieSessionStore([OLD]).save(record, ttl=300)
    rotated = CookieSessionStore([NEW, OLD])
    assert rotated.load(old_cookie) == record
    new_cookie = rotated.save(record, ttl=300)
    assert CookieSessionStore([NEW]).load(new_cookie) == record
    assert CookieSessionStore([OLD]).load(new_cookie) is None


def test_cookie_of_a_retired_secret_no_longer_loads(make_record: RecordFactory) -> None:
    old_cookie = CookieSessionStore([OLD]).save(make_record(), ttl=300)
    assert CookieSessionStore([NEW]).load(old_cookie) is None


def test_tampered_cookie_does_not_load(make_record: RecordFactory) -> None:
    store = CookieSessionStore([NEW])
    raw = bytearray(b64url_decode(store.save(make_record(), ttl=300)))
    raw[40] ^= 0x20
    assert store.load(b64url_encode(bytes(raw))) is None


def test_cookie_sealed_for_another_purpose_does_not_load(make_record: RecordFactory) -> None:
    login_cookie = SecretBox([NEW], "login").seal(make_record().to_bytes())
    assert CookieSessionStore([NEW]).load(login_cookie) is None


def test_cookie_is_useless_after_its_ttl_even_if_kept(make_record: RecordFactory) -> None:
    clock = FakeClock()
    store = CookieSessionStore([NEW], clock=clock)
    cookie_value = store.save(make_record(), ttl=600)
    clock.now += 599
    assert store.load(cookie_value) is not None
    clock.now += 1
    assert store.load(cookie_value) is None


def test_delete_cannot_revoke_a_cookie_session(make_record: RecordFactory) -> None:
    store = CookieSessionStore([NEW])
    record = make_record()
    cookie_value = store.save(record, ttl=300)
    store.delete(cookie_value)
    assert store.load(cookie_value) == record


def test_cookie_does_not_reveal_the_tokens(make_record: RecordFactory) -> None:
    record = make_record()
    cookie_value = CookieSessionStore([NEW]).save(record, ttl=300)
    assert record.tokens.refresh_token not in cookie_value
    assert record.tokens.refresh_token.encode() not in b64url_decode(cookie_value)


def test_compressed_payload_roundtrips_and_bombs_are_refused() -> None:
    assert decompress(compress(b"abc" * 1000)) == b"abc" * 1000
    assert decompress(b"\x01" + zlib.compress(b"\0" * 5_000_000)) is None
    assert decompress(b"\x07junk") is None
