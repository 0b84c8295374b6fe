"""UMAP's compiled code on disk: a second process loads it instead of compiling, and reduces identically."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.conftest import PROJECT_ROOT

FIT = """
import json, sys
from pathlib import Path
import numpy as np
from omegaconf import OmegaConf
from runner.cache import Cache
from runner.stages.reduce import reduce_embeddings

data = np.random.default_rng(0).normal(size=(150, 16)).astype(np.float32)
reducer = OmegaConf.create({"_target_": "umap.UMAP", "n_neighbors": 10, "n_components": 3, "random_state": 1})
knn = OmegaConf.create({"backend": "umap", "device": "cpu"})
reduced = reduce_embeddings(reducer, knn, data, "test-embeddings", Cache(Path(sys.argv[1])))
np.save(sys.argv[2], reduced)
from umap import layouts
compiled = [d for d in vars(layouts).values() if hasattr(d, "stats") and d.signatures]
print(json.dumps({"hits": sum(d.stats.cache_hits.get(s, 0) for d in compiled for s in d.stats.cache_hits),
                  "compiled": len(compiled)}))
"""


def fit_in_a_new_process(tmp_path: Path, run: str, numba_cache: Path) -> tuple[np.ndarray, dict]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    out = tmp_path / f"{run}.npy"
    done = subprocess.run([sys.executable, "-c", FIT, str(tmp_path / f"cache-{run}"), str(out)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "NumbaWarning" not in done.stderr, done.stderr   # every enabled function could be cached
    return np.load(out), json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_process_loads_umaps_compiled_code_and_reduces_bit_identically(tmp_path: Path) -> None:
    numba_cache = tmp_path / "numba"
    first, compiled = fit_in_a_new_process(tmp_path, "first", numba_cache)
    assert compiled["compiled"] > 0 and compiled["hits"] == 0        # compiled here, and written to disk
    assert list(numba_cache.rglob("*.nbi")) and list(numba_cache.rglob("*.nbc"))
    second, loaded = fit_in_a_new_process(tmp_path, "second", numba_cache)
    assert loaded["hits"] > 0                                         # machine code read from the disk cache
    assert np.array_equal(first, second)
