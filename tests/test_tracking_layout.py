"""How runs are laid out in MLflow, through the real CLI: one experiment per study and per corpus, run
states and real times, the corpus as dataset input, diagnostics under their prefix, trial figures, one
plots page; and what the MLflow UI shows of it in headless Chromium."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient

from runner.names import DIAGNOSTIC_PREFIX, HEADLINE_METRICS
from tests.browser import Browser, chromium
from tests.conftest import PROJECT_ROOT, wait_for_http
from tests.test_cli_run import free_port, group_members

SWEEP = """
study: layout
overrides: [dataset=lee, embedding=hashing]
params:
  clusterer.min_cluster_size: choice(5, 8, 10)
objectives: {coherence_npmi: maximize, diversity: maximize}
sampler: {_target_: optuna.samplers.RandomSampler, seed: 0}
n_trials: 3
"""
SHOWN_METRICS = ("coherence_npmi", "coherence_cv", "diversity", "n_topics", "outlier_ratio")


@dataclass(frozen=True)
class Tracked:
    output_dir: Path
    sweep_file: Path
    sweep_stderr: str
    cache_dir: Path

    @property
    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=f"sqlite:///{self.output_dir / 'mlflow.db'}")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "runner", *args, f"paths.output_dir={self.output_dir}",
                               f"paths.cache_dir={self.cache_dir}"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    def runs(self, experiment: str, role: str | None = None) -> list:
        found = self.client.get_experiment_by_name(experiment)
        assert found is not None, f"no MLflow experiment '{experiment}'"
        query = f"tags.`topicsweep.role` = '{role}'" if role else ""
        return self.client.search_runs([found.experiment_id], query, order_by=["attributes.start_time ASC"])


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Tracked:
    """A 3-trial sweep (study 'layout') and one `topicsweep run` on the demo corpus, in one store."""
    folder = tmp_path_factory.mktemp("layout")
    sweep_file = folder / "layout.yaml"
    sweep_file.write_text(SWEEP, encoding="utf-8")
    partial = Tracked(folder / "outputs", sweep_file, "", session_cache)
    sweep = partial.cli("sweep", str(sweep_file))
    partial.cli("run", "dataset=lee", "embedding=hashing", "run_name=single")
    return Tracked(partial.output_dir, sweep_file, sweep.stderr, session_cache)


def test_sweep_and_run_are_laid_out_for_comparison(tracked: Tracked) -> None:
    client = tracked.client
    names = {e.name for e in client.search_experiments()}
    assert {"layout", "lee"} <= names and "topicsweep" not in names  # per study, per corpus
    (parent,) = tracked.runs("layout", "parent")
    children = tracked.runs("layout", "trial")
    (single,) = tracked.runs("lee")
    assert len(children) == 3 and single.info.run_name == "single"

    # states and real times: the parent spans its trials; a run lasts as long as its pipeline
    assert parent.info.status == "FINISHED" and {c.info.status for c in children} == {"FINISHED"}
    assert parent.info.start_time <= min(c.info.start_time for c in children)
    assert parent.info.end_time >= max(c.info.end_time for c in children)
    stages_ms = 1000 * sum(v for k, v in single.data.metrics.items() if k.startswith(f"{DIAGNOSTIC_PREFIX}time_"))
    assert single.info.end_time - single.info.start_time >= stages_ms > 100

    # the corpus is every run's dataset input: name, source path, content hash, rows
    for run in (parent, *children, single):
        (dataset,) = [d.dataset for d in client.get_run(run.info.run_id).inputs.dataset_inputs]
        assert dataset.name == "lee" and dataset.digest == single.data.tags["dataset_hash"][:16]
        assert json.loads(dataset.profile)["num_rows"] == 300
        assert json.loads(dataset.source)["uri"].endswith("lee_background.cor")

    # headline metrics under plain names, diagnostics under the prefix; files and Optuna keep plain names
    for run in (*children, single):
        metrics = run.data.metrics
        assert {"coherence_npmi", "diversity", "n_topics"} <= set(metrics)
        assert {f"{DIAGNOSTIC_PREFIX}{name}" for name in ("time_embed_s", "cache_hit_embed",
                                                          "coherence_missing_words")} <= set(metrics)
        assert not [name for name in metrics if name.startswith(("time_", "cache_hit_", "coherence_missing"))]
    saved = json.loads((tracked.output_dir / "runs" / "single" / "metrics.json").read_text())["metrics"]
    assert "coherence_missing_words" in saved
    study = optuna.load_study(study_name="layout", storage=f"sqlite:///{tracked.output_dir / 'optuna.db'}")
    assert all("coherence_missing_words" in t.user_attrs["metrics"] for t in study.trials)

    # every trial carries its topic figure; the parent one page of plots with plotly.js inlined once
    for child in children:
        assert "topics.png" in {a.path for a in client.list_artifacts(child.info.run_id)}
    from plotly.offline import get_plotlyjs

    plotly_js = get_plotlyjs()
    pages = {a.path: Path(client.download_artifacts(parent.info.run_id, a.path)).read_text(encoding="utf-8")
             for a in client.list_artifacts(parent.info.run_id) if a.path.endswith(".html")}
    assert all(page.count(plotly_js[:200]) == 1 for page in pages.values())  # no page inlines plotly.js twice
    assert set(pages) == {"report.html"}  # one page with every plot of the sweep (runner.report)
    assert len(pages["report.html"]) - len(plotly_js) < 1_500_000  # plots, tables and small PNGs beside plotly.js
    assert "Warning" not in tracked.sweep_stderr  # Optuna's experimental/importance warnings stay in the plots code


def test_a_resumed_sweep_reopens_and_ends_its_parent_run(tracked: Tracked) -> None:
    (before,) = tracked.runs("layout", "parent")
    tracked.cli("sweep", str(tracked.sweep_file), "n_trials=4")
    (after,) = tracked.runs("layout", "parent")
    assert after.info.run_id == before.info.run_id and after.info.status == "FINISHED"
    assert after.info.start_time == before.info.start_time and after.info.end_time > before.info.end_time
    assert len(tracked.runs("layout", "trial")) == 4



def test_a_duplicate_parent_left_by_a_dead_worker_is_merged_into_the_survivor(tracked: Tracked) -> None:
    """A worker SIGKILLed between creating its parent run and deleting it (it lost the creation race)
    leaves a second active parent: the next worker moves its children to the oldest one and deletes it."""
    client = tracked.client
    (parent,) = tracked.runs("layout", "parent")
    identity = {k: v for k, v in parent.data.tags.items() if k in ("topicsweep.role", "topicsweep.study_key")}
    duplicate = client.create_run(parent.info.experiment_id, run_name="sweep-layout", tags=identity,
                                  start_time=parent.info.start_time + 1)
    orphan = client.create_run(parent.info.experiment_id, run_name="child of the duplicate",
                               tags={"mlflow.parentRunId": duplicate.info.run_id})
    assert len(tracked.runs("layout", "parent")) == 2
    tracked.cli("sweep", str(tracked.sweep_file), "n_trials=5")
    (survivor,) = tracked.runs("layout", "parent")
    assert survivor.info.run_id == parent.info.run_id and survivor.info.status == "FINISHED"
    assert client.get_run(duplicate.info.run_id).info.lifecycle_stage == "deleted"
    assert client.get_run(orphan.info.run_id).data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert len(tracked.runs("layout", "trial")) == 5

@pytest.fixture
def mlflow_ui(tracked: Tracked, tmp_path: Path) -> Iterator[str]:
    """`mlflow server` on the store, on a free loopback port, in its own process group (stopped as a whole)."""
    port = free_port()
    log = (tmp_path / "mlflow-server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri",
                               f"sqlite:///{tracked.output_dir / 'mlflow.db'}", "--host", "127.0.0.1", "--port",
                               str(port), "--workers", "1"], stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/health", tmp_path / "mlflow-server.log")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        if group_members(server.pid, wait=20):  # its job consumers included
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        log.close()


def test_the_mlflow_ui_shows_trials_and_headline_metrics(tracked: Tracked, mlflow_ui: str, tmp_path: Path) -> None:
    executable = chromium()
    if executable is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; scripts/test.sh does it as root)")
    (parent,) = tracked.runs("layout", "parent")
    children = tracked.runs("layout", "trial")
    experiment = parent.info.experiment_id
    with Browser(executable, width=2000, height=1000) as browser:
        browser.open(f"{mlflow_ui}/#/experiments/{experiment}/runs")
        assert browser.wait_for_text(parent.info.run_name), browser.text()[:2000]
        # What a user picks once in "Columns" (kept in the browser's local storage): the headline metrics.
        state_key = f'MLflowLocalStorage-1.1-ExperimentPage-["{experiment}"]-ReactComponentState'
        columns = ["attributes.`Dataset`", *(f"metrics.`{m}`" for m in SHOWN_METRICS)]
        key = json.dumps(state_key)
        browser.js(f"localStorage.setItem({key}, JSON.stringify({{...JSON.parse(localStorage.getItem({key}) || '{{}}'), "
                   f"selectedColumns: {json.dumps(columns)}}})); "
                   "localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false')")
        browser.call("Page.reload")
        assert browser.wait_for_text(parent.info.run_name)
        browser.js("document.querySelector('[row-id=\"%s\"] button').click()" % parent.info.run_id)  # expand (+)
        shown = browser.wait_for_text(*(c.info.run_name for c in children), *SHOWN_METRICS, "lee (")
        screenshot = browser.screenshot(tmp_path / "mlflow_runs.png")
        page = browser.text()
    assert shown, page[:3000]
    assert screenshot.stat().st_size > 20_000
    assert set(SHOWN_METRICS) <= set(HEADLINE_METRICS)
