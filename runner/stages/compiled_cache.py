"""UMAP's and pynndescent's compiled (numba) code kept on disk, so a new process does not compile it again.

umap-learn and pynndescent compile most of their numba functions without ``cache=True``: every
process that fits UMAP first spends seconds in the JIT compiler (7 of the 7.6 s of a first fit on
300 documents here, 0.4 s when compiled code is on disk). Each ``topicsweep run``, each sweep and each
worker is such a process. :func:`cache_compiled_umap` switches on numba's own on-disk cache for
those functions (``Dispatcher.enable_caching``, what ``cache=True`` does), so only the first process
compiles and later ones load the machine code. Numba keys the cache by the function's source file
and signature, keeps it beside the library (``__pycache__``) or in its user-wide cache directory
(``NUMBA_CACHE_DIR`` chooses another), and recompiles when the library changes. The machine code is
the same as a fresh compilation's, so results do not change (tests compare them).
"""

from __future__ import annotations

import functools
import sys

PACKAGES = ("umap", "pynndescent")


@functools.cache
def cache_compiled_umap() -> None:
    """Turn on numba's disk cache for every jitted function of umap-learn and pynndescent (once per process)."""
    import pynndescent  # noqa: F401  (imports its jitted modules)
    import umap  # noqa: F401
    from numba.core.registry import CPUDispatcher

    dispatchers = {id(value): value for name, module in list(sys.modules.items())
                   if module is not None and name.split(".")[0] in PACKAGES
                   for value in list(vars(module).values()) if isinstance(value, CPUDispatcher)}
    for dispatcher in dispatchers.values():
        try:
            dispatcher.enable_caching()
        except RuntimeError:  # no writable cache location for its file: it compiles as before
            continue
