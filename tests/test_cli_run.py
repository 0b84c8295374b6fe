"""End to end through the real CLI: `topicsweep run` with the packaged MiniLM, MLflow, caches, errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import BBC, PROJECT_ROOT, CliRunner, shared_corpus


def mlflow_runs(output_dir: Path) -> tuple[MlflowClient, list]:
    """Every run in the store (runs land in one experiment per corpus), oldest first."""
    client = MlflowClient(tracking_uri=f"sqlite:///{output_dir / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    return client, client.search_runs(experiments, order_by=["attributes.start_time ASC"])


def run_dir_of(stdout: str) -> Path:
    line = next(line for line in stdout.splitlines() if line.startswith("run directory:"))
    return Path(line.split(":", 1)[1].strip())


def test_help_answers_quickly() -> None:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "runner", "--help"], capture_output=True, text=True, check=True)
    assert "run" in done.stdout and "config" in done.stdout
    assert time.perf_counter() - start < 5


def test_help_and_config_import_no_heavy_library() -> None:
    probe = ("import sys, contextlib, io\nfrom runner.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n"
             "    main(['config'])\nprint(sorted(m for m in ('torch', 'bertopic', 'mlflow', 'optuna', 'umap', 'sklearn', "
             "'gensim', 'transformers') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_the_console_entry_freezes_what_is_alive_before_exit_and_exit_handlers_still_run(tmp_path: Path) -> None:
    marker = tmp_path / "atexit-ran"
    probe = ("import atexit, gc, pathlib\nimport runner.cli as cli\n"
             f"atexit.register(pathlib.Path({str(marker)!r}).touch)\n"
             "cli.main = lambda: 3\ncode = cli.console()\nprint(code, gc.get_freeze_count() > 0)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert done.stdout.split() == ["3", "True"]  # the exit code passes through; the heap is out of the last collections
    assert marker.is_file()
    assert 'topicsweep = "runner.cli:console"' in (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "console()" in (PROJECT_ROOT / "runner" / "__main__.py").read_text(encoding="utf-8")


def test_config_prints_the_composed_config(cli: CliRunner) -> None:
    done = cli("config", "embedding=hf_transformer", "embedding.pooling=cls")
    assert done.returncode == 0, done.stderr
    assert "_target_: runner.stages.embed.TransformerEmbedder" in done.stdout
    assert "pooling: cls" in done.stdout


def test_run_on_the_demo_corpus_logs_everything_and_reuses_caches(cli: CliRunner, output_dir: Path) -> None:
    first = cli("run")
    assert first.returncode == 0, first.stderr
    for name in ("n_topics", "outlier_ratio", "coherence_npmi", "coherence_cv", "diversity"):
        assert name in first.stdout
    assert "mlflow run:" in first.stdout
    run_dir = run_dir_of(first.stdout)
    assert {p.name for p in run_dir.iterdir()} == {"config.yaml", "topics.csv", "doc_topics.csv", "metrics.json",
                                                   "topic_words.json", "topics.png", "figures.html", "figures"}
    assert {p.name for p in (run_dir / "figures").iterdir()} == {  # outputs.figures' default, PNG and PDF
        f"{name}.{suffix}" for name in ("barchart", "heatmap", "distribution") for suffix in ("png", "pdf")}
    assert (run_dir / "topics.png").read_bytes().startswith(b"\x89PNG")
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["metrics"]["n_topics"] >= 2

    second = cli("run")
    assert second.returncode == 0, second.stderr
    assert "cache: embed hit, tokens hit, knn hit, reduce hit" in second.stdout
    assert json.loads((run_dir_of(second.stdout) / "metrics.json").read_text())["metrics"] == saved["metrics"]

    client, runs = mlflow_runs(output_dir)
    assert len(runs) == 2
    run = runs[1]
    assert run.data.params["reducer.n_neighbors"] == "15"
    assert run.data.params["embedding.model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert run.data.metrics["coherence_npmi"] == pytest.approx(saved["metrics"]["coherence_npmi"])
    assert run.data.metrics["z_diag/cache_hit_embed"] == 1.0  # diagnostics sort after the headline metrics
    assert runs[0].data.metrics["z_diag/cache_hit_embed"] in (0.0, 1.0)
    assert "z_diag/time_reduce_s" in run.data.metrics and "time_reduce_s" not in run.data.metrics
    assert client.get_experiment(run.info.experiment_id).name == "lee"  # one experiment per corpus
    assert run.data.tags["dataset"] == "lee" and len(run.data.tags["dataset_hash"]) == 64
    assert "version.bertopic" in run.data.tags
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "topics.csv", "topic_words.json", "metrics.json", "topics.png"} <= artifacts
    assert str(output_dir) in client.get_experiment(run.info.experiment_id).artifact_location


def test_run_on_bbc_with_labels(cli: CliRunner, output_dir: Path) -> None:
    bbc = shared_corpus(BBC)
    done = cli("run", "dataset=tsv", f"dataset.path={bbc}", "dataset.text_column=0", "dataset.label_column=2",
               "clusterer.min_cluster_size=15", "run_name=bbc")
    assert done.returncode == 0, done.stderr
    metrics = json.loads((output_dir / "runs" / "bbc" / "metrics.json").read_text())["metrics"]
    assert metrics["n_topics"] >= 5
    assert metrics["nmi"] > 0.3
    assert metrics["coherence_missing_words"] == 0
    _, runs = mlflow_runs(output_dir)
    assert runs[0].info.run_name == "bbc" and runs[0].data.tags["n_documents"] == "2225"


@pytest.mark.parametrize("make_args, message", [
    (lambda d: ["dataset=csv", f"dataset.path={d / 'missing.csv'}"], "dataset file not found"),
    (lambda d: ["dataset=csv", f"dataset.path={d / 'ok.csv'}", "dataset.text_column=body"],
     "column 'body' (dataset.text_column) not found"),
    (lambda d: ["dataset=csv", f"dataset.path={d / 'gbk.csv'}"], "dataset.encoding=gb18030"),
    (lambda d: ["dataset=txt", f"dataset.path={d / 'empty.txt'}"], "no documents in"),
    (lambda d: ["clusterer=optics"], "available options for clusterer: agglomerative, dbscan, hdbscan, hdbscan_leaf, kmeans"),
    (lambda d: ["clusterer.min_cluster_size=1"], "clusterer.min_cluster_size must be at least 2"),
    (lambda d: ["reducer.min_dist=-1"], "reducer.min_dist must be >= 0"),
    (lambda d: ["reducer.n_components=0"], "reducer.n_components must be at least 1"),
    (lambda d: ["dataset=csv", f"dataset.path={d / 'ok.csv'}", "embedding=hashing"],
     "corpus too small: 3 documents for reducer.n_neighbors=15"),
    (lambda d: ["clusterer.min_cluster_size=abc"], "clusterer.min_cluster_size=abc: expected an integer (the default is 10)"),
    (lambda d: ["reducer.min_dist=[0.1]"], "reducer.min_dist=[0.1]: expected a number (the default is 0.0)"),
    (lambda d: ["embedding=hashing", "clusterer.min_samples=abc"], "clusterer.min_samples=abc: expected an integer or null"),
    (lambda d: ["embedding=hashing", "reducer=pca", "+reducer.bar=2"],
     "reducer.bar is not a parameter of sklearn.decomposition.PCA"),
])
def test_bad_input_is_one_line_with_exit_code_2(cli: CliRunner, tmp_path: Path, make_args, message: str) -> None:
    (tmp_path / "ok.csv").write_text("text\none\ntwo\nthree\n", encoding="utf-8")
    (tmp_path / "gbk.csv").write_bytes("text\n新闻\n".encode("gb18030"))
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    done = cli("run", "tracking=none", *make_args(tmp_path))
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_a_group_override_on_a_standalone_config_file_names_the_value_override(cli: CliRunner, tmp_path: Path) -> None:
    composed = cli("config", "embedding=hashing")
    assert composed.returncode == 0, composed.stderr
    (tmp_path / "config.yaml").write_text(composed.stdout, encoding="utf-8")
    done = cli("run", "--config-file", str(tmp_path / "config.yaml"), "tracking=none")
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "'tracking=none' picks an option of config group 'tracking'" in lines[0]
    assert lines[0].endswith("tracking.enabled=false"), lines[0]
    fixed = cli("config", "--config-file", str(tmp_path / "config.yaml"), "tracking.enabled=false")
    assert fixed.returncode == 0 and "enabled: false" in fixed.stdout, fixed.stderr


def test_debug_flag_shows_the_traceback(cli: CliRunner, tmp_path: Path) -> None:
    done = cli("--debug", "run", "tracking=none", "dataset=csv", f"dataset.path={tmp_path / 'missing.csv'}",
               f"paths.output_dir={tmp_path}")
    assert done.returncode != 0 and "Traceback" in done.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ui_serves_the_store_on_loopback_and_stops_its_whole_process_group(output_dir: Path,
                                                                           stop: signal.Signals) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "runner", "ui", "--port", str(port),
                                f"paths.output_dir={output_dir}"], cwd=PROJECT_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server_group = None
    try:
        deadline, status = time.time() + 90, None
        while time.time() < deadline and status is None:
            try:
                status = urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).status
            except OSError:
                time.sleep(0.5)
        assert status == 200
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        server = int(children[0])
        server_group = os.getpgid(server)
        assert server_group != os.getpgid(process.pid)  # the server runs in its own process group
        assert len(group_members(server_group, wait=0)) > 1  # MLflow's workers
        process.send_signal(stop)  # to topicsweep only, as a terminal (Ctrl-C) or a service manager (SIGTERM) would
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        left = group_members(server_group) if server_group is not None else []
        if left:
            os.killpg(server_group, signal.SIGKILL)
            pytest.fail("the server's process group outlived topicsweep ui:\n" + "\n".join(left))
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a connection in TIME_WAIT is not a server
        probe.bind(("127.0.0.1", port))  # nothing listens on the port any more


def group_members(group: int, wait: float = 5) -> list[str]:
    """Live (not zombie) processes of a process group as ``pid stat command`` lines, after waiting up to
    ``wait`` seconds for there to be none."""
    deadline = time.time() + wait
    while True:
        table = subprocess.run(["ps", "-e", "-o", "pgid=,pid=,stat=,args="], capture_output=True, text=True).stdout
        rows = [line.split(None, 1)[1] for line in table.splitlines() if line.split()[0] == str(group)]
        live = [row for row in rows if not row.split()[1].startswith("Z")]
        if not live or time.time() > deadline:
            return live
        time.sleep(0.2)


def test_an_unreachable_tracking_server_fails_first_without_showing_its_password(cli: CliRunner) -> None:
    done = cli("run", "embedding=hashing", f"tracking.uri=http://bob:pw123@127.0.0.1:{free_port()}",
               env={"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"})
    assert done.returncode == 2
    assert "cannot use MLflow tracking store http://bob:***@127.0.0.1" in done.stderr
    assert "pw123" not in done.stderr + done.stdout and "embed" not in done.stderr  # failed before the pipeline
