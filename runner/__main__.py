"""``python -m runner`` is the same CLI as ``topicsweep``."""

from runner.cli import console

raise SystemExit(console())
