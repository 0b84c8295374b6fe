"""Shared fixtures: paths, a session-wide embedding cache, and a runner for the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
BBC = SHARED_DATA / "bbc_news_octis.tsv"
THUCNEWS = SHARED_DATA / "thucnews_headlines.tsv"

CliRunner = Callable[..., subprocess.CompletedProcess]


def shared_corpus(path: Path) -> Path:
    """The path of a shared test corpus, or skip the test with the reason."""
    if not path.is_file():
        pytest.skip(f"shared test corpus {path} is absent (expected ../shared/data beside the project)")
    return path


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory for the whole test session: each corpus is embedded once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    return tmp_path / "outputs"


@pytest.fixture
def cli(output_dir: Path, session_cache: Path) -> CliRunner:
    """Run ``python -m runner`` in the project root with a fresh output dir and the shared cache."""

    def run(*args: str, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "runner", *args]
        if args and args[0] in ("run", "sweep", "config"):
            command += [f"paths.output_dir={output_dir}", f"paths.cache_dir={session_cache}"]
        full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "200",
                    **(env or {})}
        return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout,
                              env=full_env)

    return run


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread: fast on a busy 2-core machine and the same numbers whatever the core count."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def wait_for_http(url: str, log: Path, timeout: float = 120) -> None:
    """Poll ``url`` until it answers 200, or fail the test with the end of the server's ``log``."""
    import time
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer: {log.read_text()[-2000:]}")
