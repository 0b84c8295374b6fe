"""Ctrl-C during a sweep: at once while a trial computes, otherwise as soon as the bookkeeping step ends.

Python raises KeyboardInterrupt wherever the main thread happens to be. Most of a trial's time is
the pipeline (UMAP, clustering, c-TF-IDF, metrics), where that is harmless: the trial is recorded
FAIL and the parent run KILLED. The rest is Optuna's and MLflow's storage code (asking for a trial,
starting and joining Optuna's heartbeat thread, which is not a daemon thread, committing a
transaction), where an exception between two statements can leave a thread running or a trial
half-written, and the process hangs at exit instead of leaving. :class:`SweepInterrupts` lets
Ctrl-C through only inside :meth:`SweepInterrupts.computing`; elsewhere it notes the request and
the sweep raises KeyboardInterrupt at its next check, a moment later, with the trial in hand kept.
A second Ctrl-C while one is pending interrupts at once, unless it comes within a second of the first:
a terminal's Ctrl-C reaches every worker of ``workers=N`` and the launcher forwards it too.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType, TracebackType
from typing import Any


class SweepInterrupts:
    """A SIGINT handler for the duration of a ``with`` block (only where Python's default one is installed).

    When SIGINT is ignored (a background job of a non-interactive shell) or another handler is in
    place, or outside the main thread, nothing is changed.
    """

    REPEAT_AFTER_S = 1.0  # a second SIGINT sooner than this is the same Ctrl-C (forwarded by the launcher)

    def __init__(self) -> None:
        self.requested = False
        self._requested_at = 0.0
        self._computing = False
        self._previous: Any = None

    def __enter__(self) -> SweepInterrupts:
        self.requested = False
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._computing or (self.requested and time.monotonic() - self._requested_at >= self.REPEAT_AFTER_S):
            raise KeyboardInterrupt
        if not self.requested:
            self.requested, self._requested_at = True, time.monotonic()

    def check(self) -> None:
        """Raise KeyboardInterrupt when Ctrl-C was pressed since the last check."""
        if self.requested:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def computing(self) -> Iterator[None]:
        """A stretch of pipeline work that Ctrl-C may interrupt at any point."""
        self.check()
        self._computing = True
        try:
            yield
        finally:
            self._computing = False
