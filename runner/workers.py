"""``workers=N``: this process and N-1 more on this machine, each running the same sweep on one shared storage.

The other workers are ordinary ``topicsweep sweep ... workers=1`` processes, started first thing so
that their start-up (importing BERTopic and MLflow) overlaps with this process preparing what they
share. They wait on their standard input twice: until this process has created the study and the
MLflow parent run (then they open them: no two processes create the same tables at once), and until
the embeddings are cached (N workers do not embed the corpus N times; tokens, neighbour graphs and
reductions are computed by the first worker that needs them, see :class:`runner.cache.Cache`). This
process runs trials as worker 1 and writes the sweep's summary (parent run, report) once; the
others draw the trials' deferred figures meanwhile (any worker's: see
:func:`runner.sweep_report.add_trial_figures`). Coordination is the storage's job (Optuna RDB on
PostgreSQL/MySQL with heartbeats, or a journal file on one machine); SQLite is refused.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from runner.config import mask_secrets
from runner.errors import UserError
from runner.storage import shares_across_processes
from runner.sweep_spec import SweepSpec

START_SIGNAL = "TOPICSWEEP_START_ON_STDIN"  # set for the workers this module starts
STUDY_READY, INPUTS_READY = "study", "inputs"


def check_shared_storage(spec: SweepSpec, base_overrides: Sequence[str]) -> None:
    """Refuse ``workers`` > 1 on a storage that several processes cannot write at once (SQLite)."""
    if spec.storage and shares_across_processes(spec.storage):
        return
    from runner.config import compose, resolve
    from runner.storage import default_storage_url

    output_dir = Path(resolve(compose([*spec.overrides, *base_overrides])).paths.output_dir)
    url = spec.storage or default_storage_url(output_dir)
    raise UserError(
        f"workers={spec.workers} needs a storage that several processes can write at once, not SQLite "
        f"({mask_secrets(url)}); use storage=postgresql://USER:PASSWORD@HOST/DB (heartbeats, many machines) or "
        f"storage=journal:///{output_dir.resolve() / 'optuna.log'} (one machine, no server)")


class OtherWorkers:
    """The N-1 worker processes started beside this one; they wait for :meth:`study_ready` and :meth:`start`."""

    def __init__(self, arguments: Sequence[str], count: int, extend: bool = False) -> None:
        command = [sys.executable, "-m", "runner", "sweep", *(["--extend"] if extend else []),
                   *[a for a in arguments if not a.startswith("workers=")], "workers=1"]
        self.processes = [subprocess.Popen(command, stdin=subprocess.PIPE, text=True,
                                           env={**os.environ, "TOPICSWEEP_WORKER": str(number), START_SIGNAL: "1"})
                          for number in range(2, count + 1)]

    def study_ready(self) -> None:
        """Let the waiting workers open the study and the MLflow parent run (both exist now)."""
        self._tell(STUDY_READY, close=False)

    def start(self) -> None:
        """Let the workers run trials (the shared inputs are ready)."""
        self._tell(INPUTS_READY, close=True)

    def cancel(self) -> None:
        """Send the waiting workers home without running anything (preparing failed)."""
        self._tell(None, close=True)
        self.wait()

    def interrupt(self) -> None:
        """Forward Ctrl-C to the workers still running and wait for them to stop."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        self.wait()

    def wait(self) -> int:
        """Wait for every worker; the worst exit code (a signal counts as its number)."""
        return max((abs(process.wait()) for process in self.processes), default=0)

    def _tell(self, stage: str | None, close: bool) -> None:
        for process in self.processes:
            try:
                if stage is not None:
                    process.stdin.write(f"{stage}\n")
                    process.stdin.flush()
                if close:
                    process.stdin.close()
            except (BrokenPipeError, OSError):  # that worker already stopped; wait() reports its exit code
                continue


def await_launcher(stage: str) -> bool:
    """In a worker started by :class:`OtherWorkers`: wait until the launcher reaches ``stage``.

    Before the first stage the heavy libraries are loaded (most of a worker's start-up). Returns
    False when the launcher gave up (its preparation failed) and the worker should leave.
    """
    if stage == STUDY_READY:
        import bertopic  # noqa: F401
        import mlflow.tracking  # noqa: F401
        import optuna  # noqa: F401
    return sys.stdin.readline() == f"{stage}\n"
