"""The verified-token cache: hits, expiry, its bound, and concurrent use."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from authonomy_integrations._core.token_cache import TokenCache

T0 = 1_000.0


def claims(exp: float = T0 + 60, sub: str = "user_alice") -> dict[str, object]:
    return {"sub": sub, "exp": exp}


def test_cached_token_returns_its_claims() -> None:
    cache = TokenCache(10)
    cache.put("tok", claims())
    hit = cache.get("tok", T0)
    assert hit is not None and hit["sub"] == "user_alice"


def test_unknown_token_misses() -> None:
    cache = TokenCache(10)
    cache.put("tok", claims())
    assert cache.get("other", T0) is None


def test_entry_does_not_outlive_the_token_exp_and_is_evicted() -> None:
    cache = TokenCache(10)
    cache.put("tok", claims(exp=T0 + 60))
    assert cache.get("tok", T0 + 59.9) is not None
    assert cache.get("tok", T0 + 60) is None
    assert len(cache) == 0


@pytest.mark.parametrize("exp", [None, "soon", True])
def test_claims_without_numeric_exp_are_not_cached(exp: object) -> None:
    cache = TokenCache(10)
    cache.put("tok", {"sub": "user_alice", "exp": exp})
    assert cache.get("tok", T0) is None


def test_cache_never_holds_more_than_maxsize_and_drops_the_oldest() -> None:
    cache = TokenCache(3)
    for n in range(5):
        cache.put(f"tok{n}", claims(sub=f"user_{n}"))
    assert len(cache) == 3
    assert cache.get("tok0", T0) is None and cache.get("tok1", T0) is None
    assert [cache.get(f"tok{n}", T0) is not None for n in (2, 3, 4)] == [True] * 3


def test_putting_a_cached_token_again_evicts_nothing() -> None:
    cache = TokenCache(2)
    cache.put("a", claims())
    cache.put("b", claims())
    cache.put("a", claims(sub="user_again"))
    assert cache.get("b", T0) is not None
    hit = cache.get("a", T0)
    assert hit is not None and hit["sub"] == "user_again"


def test_cached_claims_are_read_only_copies() -> None:
    cache = TokenCache(10)
    original = claims()
    cache.put("tok", original)
    original["sub"] = "user_mallory"
    hit = cache.get("tok", T0)
    assert hit is not None and hit["sub"] == "user_alice"
    with pytest.raises(TypeError):
        hit["sub"] = "user_mallory"  # type: ignore[index]


def test_discard_and_clear_forget_tokens() -> None:
    cache = TokenCache(10)
    cache.put("a", claims())
    cache.put("b", claims())
    cache.discard("a")
    assert cache.get("a", T0) is None and cache.get("b", T0) is not None
    cache.clear()
    assert len(cache) == 0


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenCache(0)


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave threads as often as possible
    yield
    sys.setswitchinterval(previous)


@pytest.mark.usefixtures("fast_thread_switching")
def test_concurrent_gets_puts_and_expiry_raise_nothing_and_stay_bounded() -> None:
    cache = TokenCache(16)
    start = threading.Barrier(8)
    errors: list[BaseException] = []
    oversize: list[int] = []

    def hammer(worker: int) -> None:
        start.wait(timeout=10)
        try:
            for n in range(4000):
                token = f"tok{(worker * 7 + n) % 64}"
                # Half the entries are already expired, so gets evict while puts evict.
                cache.put(token, claims(exp=T0 + (n % 2) * 100))
                cache.get(token, T0 + 50)
                cache.get(f"tok{n % 64}", T0 + 50)
                if len(cache) > 16:
                    oversize.append(len(cache))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert oversize == []
