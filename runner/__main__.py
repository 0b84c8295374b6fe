"""``python -m runner`` is the same CLI as ``topicsweep``."""

from runner.cli import main

raise SystemExit(main())
