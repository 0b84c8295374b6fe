"""``workers=N``: N worker processes on this machine, each running the same sweep on one shared storage.

Each worker is an ordinary ``topicsweep sweep ... workers=1`` process; the launcher only computes
the shared inputs once (embeddings and tokens, so N workers do not embed the corpus N times),
starts the workers, forwards Ctrl-C, and waits. Coordination is the storage's job (Optuna RDB on
PostgreSQL/MySQL with heartbeats, or a journal file on one machine); SQLite is refused.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from runner.config import compose, mask_secrets, resolve
from runner.errors import UserError
from runner.storage import default_storage_url, shares_across_processes
from runner.sweep_spec import SweepSpec


def run_workers(arguments: Sequence[str], spec: SweepSpec, base_overrides: Sequence[str], extend: bool = False) -> int:
    """Start ``spec.workers`` local workers for the sweep given by ``arguments``; return the worst exit code.

    ``extend`` (``--extend``) lets the study continue with a changed definition; the workers get it too.
    """
    from runner.sweep import Sweep

    base = resolve(compose([*spec.overrides, *base_overrides]))
    url = spec.storage or default_storage_url(Path(base.paths.output_dir))
    if not shares_across_processes(url):
        raise UserError(
            f"workers={spec.workers} needs a storage that several processes can write at once, not SQLite "
            f"({mask_secrets(url)}); use storage=postgresql://USER:PASSWORD@HOST/DB (heartbeats, many machines) or "
            f"storage=journal:///{Path(base.paths.output_dir).resolve() / 'optuna.log'} (one machine, no server)")
    print(f"preparing the study, the MLflow parent run and the shared inputs once for {spec.workers} workers",
          file=sys.stderr)
    Sweep(spec, list(base_overrides), extend=extend).prepare()
    command = [sys.executable, "-m", "runner", "sweep", *(["--extend"] if extend else []),
               *[a for a in arguments if not a.startswith("workers=")], "workers=1"]
    processes = [subprocess.Popen(command, env={**os.environ, "TOPICSWEEP_WORKER": str(i + 1)})
                 for i in range(spec.workers)]
    try:
        while any(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait()
        return 130
    return max(abs(p.returncode) for p in processes)
