"""The on-disk cache: keys, hits and misses, atomic files, no pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from runner.cache import Cache, cache_key


def test_key_is_stable_and_order_insensitive_for_dicts() -> None:
    assert cache_key("x", {"a": 1, "b": 2}) == cache_key("x", {"b": 2, "a": 1})
    assert cache_key("x", {"a": 1}) != cache_key("x", {"a": 2})


def test_array_is_computed_once_then_memory_mapped(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(6, dtype=np.float32).reshape(2, 3)

    first = cache.array("embeddings", "k", compute, meta={"what": "test"})
    second = cache.array("embeddings", "k", compute)
    assert len(calls) == 1
    assert isinstance(second, np.memmap)
    np.testing.assert_array_equal(first, second)
    assert cache.hits == {"embeddings": 1} and cache.misses == {"embeddings": 1}
    assert sorted(p.name for p in (tmp_path / "embeddings").iterdir()) == ["k.json", "k.npy"]


def test_json_entries_round_trip_unicode(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    value = [["中文", "词"], ["word"]]
    assert cache.json("tokens", "k", lambda: value) == value
    assert Cache(tmp_path).json("tokens", "k", lambda: None) == value


def test_a_failed_computation_leaves_no_entry(tmp_path: Path) -> None:
    cache = Cache(tmp_path)

    def broken() -> np.ndarray:
        raise RuntimeError("boom")

    try:
        cache.array("reduced", "k", broken)
    except RuntimeError:
        pass
    assert not list(tmp_path.rglob("*.npy"))
    assert not list(tmp_path.rglob("*.tmp"))
