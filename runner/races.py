"""Races between workers that start together: the loser of a unique-key insert tries again.

Several stores insert a row after looking it up (Optuna's schema-version rows when it opens a new
database, MLflow's dataset row for a corpus): two workers doing that at the same moment collide on
a unique key, and the loser finds the row in place when it tries again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
ATTEMPTS = 3


def lost_a_race(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is a unique-key violation: SQLAlchemy's, or a store's words for one."""
    from sqlalchemy.exc import IntegrityError

    for cause in (error, error.__cause__):
        if isinstance(cause, IntegrityError):
            return True
    text = str(error).lower()
    return "unique constraint" in text or "duplicate key" in text or "duplicate entry" in text


def retry_lost_race(action: Callable[[], T], attempts: int = ATTEMPTS, pause: float = 0.2) -> T:
    """``action()``, repeated (up to ``attempts`` times in all) while it fails by :func:`lost_a_race`."""
    for attempt in range(1, attempts):
        try:
            return action()
        except Exception as error:
            if not lost_a_race(error):
                raise
            time.sleep(pause * attempt)
    return action()
