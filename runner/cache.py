"""Content-addressed on-disk cache for the expensive stages (embeddings, tokens, reductions).

An entry's key is the sha256 of everything that determines its content (inputs, stage config,
library versions), so a stale entry is never served and the whole directory is safe to delete.
Arrays are stored as ``.npy`` (memory-mapped on read), everything else as JSON: no pickle. Writes
go to a temporary file in the same directory followed by an atomic rename, so concurrent workers
on a shared directory never read a half-written entry. Workers that need the same missing array or
JSON entry at once compute it once: the first holds a lock file (``.locks/``) while it computes, the
others wait and then read its result. Where the filesystem has no locks, each computes it and the
last rename wins (both files are complete).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def cache_key(*parts: Any) -> str:
    """sha256 over the canonical JSON of ``parts`` (dict keys sorted)."""
    canonical = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def atomic_write(file: Path, write: Callable[[Any], Any]) -> None:
    """Write ``file`` through ``write(binary handle)`` to a temporary file beside it, then rename it into place.

    Readers (other workers, the report) never see a half-written file; when two processes write the
    same file at once, both write complete files and the last rename wins.
    """
    file.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes owner-only files; a shared cache must be readable
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass
class Cache:
    """A cache rooted at ``root``; one subdirectory per stage.

    Attributes:
        root: Cache directory (``outputs/cache`` by default).
        hits: Per stage, how many lookups were served from disk in this process.
        misses: Per stage, how many entries had to be computed.
    """

    root: Path
    hits: dict[str, int] = field(default_factory=dict)
    misses: dict[str, int] = field(default_factory=dict)

    def path(self, stage: str, key: str, suffix: str) -> Path:
        """Where the entry ``key`` of ``stage`` lives."""
        return self.root / stage / f"{key}{suffix}"

    def array(self, stage: str, key: str, compute: Callable[[], np.ndarray], meta: dict[str, Any] | None = None,
              mmap: bool = True) -> np.ndarray:
        """The cached array for ``key``, computing and storing it on a miss.

        Args:
            stage: Stage name (subdirectory), e.g. ``embeddings``.
            key: Entry key from :func:`cache_key`.
            compute: Produces the array on a miss.
            meta: Human-readable description stored beside the array (what the key was made of).
            mmap: Memory-map the array on a hit instead of reading it into memory.
        """
        file = self.path(stage, key, ".npy")
        with self._computing_once(stage, key, file) as found:
            if found:
                return np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
            value = np.ascontiguousarray(compute())
            atomic_write(file, lambda handle: np.save(handle, value, allow_pickle=False))
            if meta is not None:
                atomic_write(self.path(stage, key, ".json"), lambda h: h.write(_json_bytes(meta)))
            return value

    def json(self, stage: str, key: str, compute: Callable[[], Any]) -> Any:
        """The cached JSON value for ``key``, computing and storing it on a miss."""
        file = self.path(stage, key, ".json")
        with self._computing_once(stage, key, file) as found:
            if found:
                return json.loads(file.read_text(encoding="utf-8"))
            value = compute()
            atomic_write(file, lambda handle: handle.write(_json_bytes(value)))
            return value

    @contextlib.contextmanager
    def _computing_once(self, stage: str, key: str, file: Path) -> Iterator[bool]:
        """Yield whether ``file`` exists; when it does not, hold the entry's lock while the caller computes it.

        A worker that waited for another one's lock finds the file written and counts a hit.
        """
        if file.is_file():
            self._count(self.hits, stage)
            yield True
            return
        locks = self.root / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{stage}-{key}.lock", "a+b") as lock:
            with contextlib.suppress(OSError):  # no locks on this filesystem: compute anyway (writes are atomic)
                fcntl.lockf(lock, fcntl.LOCK_EX)
            found = file.is_file()
            self._count(self.hits if found else self.misses, stage)
            yield found

    def directory(self, stage: str, key: str, build: Callable[[Path], None]) -> Path:
        """A cached directory for ``key``, built by ``build(temporary_dir)`` and renamed into place.

        When two workers build the same entry at once, the first rename wins and the other
        discards its copy; a reader never sees a half-built directory.
        """
        target = self.root / stage / key
        if target.is_dir():
            self._count(self.hits, stage)
            return target
        self._count(self.misses, stage)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{key}.", suffix=".tmp"))
        try:
            build(temporary)
            os.rename(temporary, target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(temporary, ignore_errors=True)  # another worker finished the same entry first
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        return target

    @staticmethod
    def _count(counter: dict[str, int], stage: str) -> None:
        counter[stage] = counter.get(stage, 0) + 1


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str).encode("utf-8")
