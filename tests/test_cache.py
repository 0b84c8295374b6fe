"""The on-disk cache: keys, hits and misses, atomic files, no pickle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from runner.cache import Cache, atomic_write, cache_key


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


def _compute_slowly(root: str, barrier: object, results: object) -> None:
    import time

    barrier.wait()

    def compute() -> np.ndarray:
        with open(Path(root) / "computed.log", "a", encoding="utf-8") as log:
            log.write("computed\n")
        time.sleep(0.5)
        return np.arange(1000, dtype=np.float32)

    results.put(float(Cache(Path(root)).array("race", "same", compute).sum()))


def test_two_workers_needing_the_same_entry_compute_it_once_and_both_read_it(tmp_path: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_compute_slowly, args=(str(tmp_path), barrier, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert [results.get(timeout=5), results.get(timeout=5)] == [499500.0, 499500.0]
    assert [p.name for p in (tmp_path / "race").iterdir()] == ["same.npy"]
    np.testing.assert_array_equal(np.load(tmp_path / "race" / "same.npy"), np.arange(1000, dtype=np.float32))
    assert (tmp_path / "computed.log").read_text(encoding="utf-8") == "computed\n"  # the other one waited


def test_two_workers_building_the_same_directory_entry(tmp_path: Path) -> None:
    cache = Cache(tmp_path)

    def build(directory: Path) -> None:
        (directory / "part.txt").write_text("ok", encoding="utf-8")
        if not (tmp_path / "entries" / "k").exists():  # the other worker finishes first, inside our build
            other = Cache(tmp_path)
            other.directory("entries", "k", lambda d: (d / "part.txt").write_text("ok", encoding="utf-8"))

    folder = cache.directory("entries", "k", build)
    assert (folder / "part.txt").read_text() == "ok"
    assert [p.name for p in (tmp_path / "entries").iterdir()] == ["k"]


def test_atomic_write_leaves_the_old_file_or_the_new_one_never_a_part(tmp_path: Path) -> None:
    target = tmp_path / "figure.png"
    atomic_write(target, lambda handle: handle.write(b"old"))

    def fails_half_way(handle: Any) -> None:
        handle.write(b"ne")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fails_half_way)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["figure.png"]
    atomic_write(target, lambda handle: handle.write(b"new"))
    assert target.read_bytes() == b"new" and oct(target.stat().st_mode & 0o777) == "0o644"
