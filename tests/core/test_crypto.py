"""SecretBox: sealing cookies under rotating secrets."""

from __future__ import annotations

import pytest

from authonomy_integrations._core.crypto import SecretBox, b64url_decode, b64url_encode

OLD = "o" * 32
NEW = "n" * 32


def test_sealed_data_opens_to_the_same_bytes() -> None:
    box = SecretBox([NEW], "session")
    assert box.open(box.seal(b"hello \x00 world")) == b"hello \x00 world"


def test_sealed_token_is_url_safe_without_padding() -> None:
    token = SecretBox([NEW], "session").seal(b"x" * 41)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_sealing_twice_gives_different_tokens() -> None:
    box = SecretBox([NEW], "session")
    assert box.seal(b"same") != box.seal(b"same")


@pytest.mark.parametrize("position", [0, 1, 2, 5, 20, -1])
def test_any_flipped_byte_makes_open_return_none(position: int) -> None:
    box = SecretBox([NEW], "session")
    raw = bytearray(b64url_decode(box.seal(b"user=alice")))
    raw[position] ^= 0x01
    assert box.open(b64url_encode(bytes(raw))) is None


def test_truncated_token_does_not_open() -> None:
    box = SecretBox([NEW], "session")
    assert box.open(box.seal(b"user=alice")[:-3]) is None


def test_token_for_another_purpose_does_not_open() -> None:
    token = SecretBox([NEW], "login").seal(b"attempts")
    assert SecretBox([NEW], "session").open(token) is None


def test_token_sealed_with_another_secret_does_not_open() -> None:
    token = SecretBox(["x" * 32], "session").seal(b"data")
    assert SecretBox([NEW], "session").open(token) is None


def test_rotation_old_secret_still_opens_and_new_secret_seals() -> None:
    before = SecretBox([OLD], "session")
    after = SecretBox([NEW, OLD], "session")
    old_token = before.seal(b"from before")
    assert after.open(old_token) == b"from before"
    new_token = after.seal(b"from after")
    assert SecretBox([NEW], "session").open(new_token) == b"from after"
    assert before.open(new_token) is None


def test_associated_data_must_match_to_open() -> None:
    box = SecretBox([NEW], "session")
    token = box.seal(b"data", associated_data=b"cookie-a")
    assert box.open(token, associated_data=b"cookie-a") == b"data"
    assert box.open(token, associated_data=b"cookie-b") is None
    assert box.open(token) is None


@pytest.mark.parametrize(
    "garbage",
    ["", "a", "!!!!", "====", "a b c", "\x00\x01", "é" * 40, "A" * 5, "A" * 100, "x" * 100_000],
)
def test_garbage_returns_none_without_raising(garbage: str) -> None:
    assert SecretBox([NEW], "session").open(garbage) is None


def test_a_box_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        SecretBox([], "session")
    with pytest.raises(ValueError, match="secret"):
        SecretBox([""], "session")
