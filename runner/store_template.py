"""New SQLite MLflow stores start as a copy of an empty one, instead of running MLflow's migrations.

MLflow builds a new SQLite tracking store by creating its first tables and then running every
schema migration since (alembic): about 1.4 s here, paid by the first command in every new output
directory, before any trial starts. The resulting empty store depends only on the MLflow version, so
TopicSweep keeps one per MLflow version in the user's cache directory (``$XDG_CACHE_HOME/topicsweep``,
by default ``~/.cache/topicsweep``), made by MLflow itself the first time, and copies it (a few
milliseconds). The template has no experiments: MLflow creates its "Default" experiment, with its
artifact location where it would put it, when it first opens the copy, and checks the copy's schema
revision as it checks any store. If anything goes wrong (no writable cache directory, say), MLflow
creates the store itself, as it always did.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import tempfile
from importlib.metadata import version
from pathlib import Path

_log = logging.getLogger(__name__)


def templates_dir() -> Path:
    """Where the empty stores are kept (``$XDG_CACHE_HOME/topicsweep/mlflow-stores``)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "topicsweep" / "mlflow-stores"


def seed_sqlite_store(uri: str) -> bool:
    """Before MLflow opens ``sqlite:///PATH`` for the first time, put an empty store at PATH.

    Returns:
        True when PATH was created from the template; False when it already existed, the URI is not
        a SQLite file, or seeding failed (MLflow then creates the store itself).
    """
    if not uri.startswith("sqlite:///"):
        return False
    path = Path(uri.removeprefix("sqlite:///"))
    if path.exists() or str(path) == ":memory:":
        return False
    try:
        template = _template()
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
            copy = Path(scratch) / path.name
            shutil.copyfile(template, copy)
            os.link(copy, path)  # fails if another process created the store meanwhile: theirs is kept
        return True
    except (OSError, sqlite3.Error) as error:
        _log.debug("MLflow store %s not seeded from a template: %s", path, error)
        return False


def _template() -> Path:
    """The empty store of the installed MLflow version (made the first time, by MLflow)."""
    folder = templates_dir()
    template = folder / f"mlflow-{version('mlflow')}.db"
    if template.is_file():
        return template
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        fresh = Path(scratch) / "store.db"
        _create_with_mlflow(fresh)
        with contextlib.closing(sqlite3.connect(fresh)) as connection, connection:
            connection.execute("DELETE FROM experiment_tags")
            connection.execute("DELETE FROM experiments")  # MLflow adds "Default" on first open, located there
        os.replace(fresh, template)
    return template


def _create_with_mlflow(path: Path) -> None:
    """An MLflow store at ``path``, created as MLflow creates any new SQLite store."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(f"sqlite:///{path}", path.parent.as_uri())
    store.engine.dispose()  # close its connections before the file is moved
