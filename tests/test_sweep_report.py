"""The sweep report (`outputs/sweeps/<study>/report.html`) through the real CLI, opened in headless Chromium.

One small sweep (lee, hashing embedder, 5 trials, two objectives, one infeasible setting) writes the
report when it finishes; `topicsweep report` rewrites it; `topicsweep best` links to it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.browser import Browser, chromium
from tests.conftest import PROJECT_ROOT

SWEEP = """
study: sr
overrides: [dataset=lee, embedding=hashing]
params:
  clusterer.min_cluster_size: choice(4, 6, 10, 40)
  topics.nr_topics: choice(null, 5)
objectives: {coherence_npmi: maximize, diversity: maximize}
constraints: {n_topics: [2, 40]}
sampler: {_target_: optuna.samplers.RandomSampler, seed: 1}
n_trials: 5
"""
MAX_BYTES = 6_000_000


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """The output directory of a finished 5-trial sweep whose report `topicsweep report` rewrote."""
    folder = tmp_path_factory.mktemp("sweep_report")
    (folder / "sr.yaml").write_text(SWEEP, encoding="utf-8")
    output_dir = folder / "out"
    done = _cli("sweep", str(folder / "sr.yaml"), f"paths.output_dir={output_dir}", f"paths.cache_dir={session_cache}")
    assert done.returncode == 0, done.stderr
    report = output_dir / "sweeps" / "sr" / "report.html"
    assert f"sweep report: {report}" in " ".join(done.stdout.split()), done.stdout
    written = report.stat().st_mtime_ns
    again = _cli("report", "--study", "sr", f"paths.output_dir={output_dir}")
    assert again.returncode == 0 and not again.stderr, again.stderr
    assert report.stat().st_mtime_ns > written and "attached to mlflow parent run" in again.stdout
    return output_dir


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "runner", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=600, env=env)


def test_the_report_is_one_small_self_contained_file(swept: Path) -> None:
    page = (swept / "sweeps" / "sr" / "report.html").read_text(encoding="utf-8")
    assert len(page.encode()) < MAX_BYTES
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=[\"']https?:|src=[\"']https?:", page)
    assert page.count("* plotly.js v") == 1  # plotly.js inlined once, not once per figure
    assert "data:image/png;base64," in page  # the chosen trial's figure, inlined


def test_the_browser_shows_the_trials_table_and_the_pareto_plot(swept: Path, tmp_path: Path) -> None:
    executable = chromium()
    if executable is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    report = swept / "sweeps" / "sr" / "report.html"
    with Browser(executable, width=1400, height=2200) as browser:
        browser.open(report.resolve().as_uri())
        assert browser.wait_for_text("Trials", "Pareto front", "coherence_npmi", "diversity"), browser.text()[:2000]
        deadline = time.time() + 30
        while time.time() < deadline and not browser.js("document.querySelector('#pareto svg.main-svg') !== null"):
            time.sleep(0.25)
        assert browser.js("document.querySelectorAll('#pareto svg.main-svg').length") >= 1
        assert browser.js("document.querySelectorAll('#pareto .scatterlayer .point').length") >= 2
        headers = browser.js("[...document.querySelectorAll('#trials th')].map(th => th.textContent)")
        assert {"trial", "coherence_npmi", "diversity", "chosen"} <= set(headers), headers
        numbers = browser.js("[...document.querySelectorAll('#trials tbody tr')].map(tr => tr.cells[0].textContent)")
        assert numbers == [str(n) for n in range(5)], numbers
        assert browser.js("document.querySelectorAll('#trials tr.chosen').length") == 1
        assert browser.js("document.querySelectorAll('#topics img').length") >= 1
        browser.screenshot(tmp_path / "report.png")
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_the_parent_run_has_the_report_and_best_links_to_it_and_adds_its_figures(swept: Path) -> None:
    client = MlflowClient(tracking_uri=f"sqlite:///{swept / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sr").experiment_id
    (parent,) = client.search_runs([experiment], "tags.`topicsweep.role` = 'parent'")
    assert "report.html" in [a.path for a in client.list_artifacts(parent.info.run_id)]
    best = _cli("best", "--study", "sr", f"paths.output_dir={swept}")
    assert best.returncode == 0, best.stderr
    report = swept / "sweeps" / "sr" / "report.html"
    assert f"sweep report: {report}" in " ".join(best.stdout.split())
    assert _cli("report", "--study", "sr", f"paths.output_dir={swept}").returncode == 0
    assert "(from topicsweep best)" in report.read_text(encoding="utf-8")  # the export's figures, inlined
