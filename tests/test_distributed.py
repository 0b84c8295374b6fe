"""Many workers on one study: PostgreSQL-backed Optuna, a real MLflow server, crash safety, masked secrets.

Needs PostgreSQL: set TOPICSWEEP_TEST_DATABASE_URL (``.ci/run`` does); skipped with the reason otherwise.
The journal-file and SQLite-refusal tests run everywhere.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
import sqlalchemy
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from tests.conftest import PROJECT_ROOT, CliRunner, wait_for_http
from tests.test_cli_run import free_port

SWEEP = """
study: {study}
overrides: [dataset=lee, embedding=hashing]
params:
  reducer.random_state: range(0, 2)
  clusterer.min_cluster_size: int(interval(5, 30))
  topics.nr_topics: choice(null, auto, 5)
objectives: {{coherence_npmi: maximize}}
sampler: {{_target_: optuna.samplers.RandomSampler, seed: 0}}
n_trials: {n_trials}
heartbeat_interval: 1
grace_period: 4
"""


def database_url() -> str:
    url = os.environ.get("TOPICSWEEP_TEST_DATABASE_URL")
    if not url:
        pytest.skip("TOPICSWEEP_TEST_DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    try:
        with sqlalchemy.create_engine(url, connect_args={"connect_timeout": 3}).connect():
            pass
    except sqlalchemy.exc.OperationalError as error:
        pytest.skip(f"PostgreSQL at TOPICSWEEP_TEST_DATABASE_URL is unreachable: {str(error).splitlines()[0]}")
    return url


@pytest.fixture(scope="module")
def pg_url() -> str:
    return database_url()


@pytest.fixture(scope="module")
def mlflow_server(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` on a loopback port with its own PostgreSQL database as backend store."""
    name = f"topicsweep_mlflow_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    backend = pg_url.rsplit("/", 1)[0] + f"/{name}"
    port = free_port()
    artifacts = tmp_path_factory.mktemp("mlflow-artifacts")
    log = (artifacts.parent / f"{name}.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend,
                               "--default-artifact-root", artifacts.as_uri(), "--host", "127.0.0.1", "--port",
                               str(port)], start_new_session=True, stdout=log, stderr=log)
    uri = f"http://127.0.0.1:{port}"
    wait_for_http(f"{uri}/health", artifacts.parent / f"{name}.log")
    yield uri
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
    admin.dispose()
    with sqlalchemy.create_engine(pg_url, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def sweep_file(tmp_path: Path, study: str, n_trials: int) -> str:
    path = tmp_path / f"{study}.yaml"
    path.write_text(SWEEP.format(study=study, n_trials=n_trials), encoding="utf-8")
    return str(path)


def children_of_parent(uri: str, study: str) -> tuple[list, list]:
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(study).experiment_id  # one experiment per study
    parents = client.search_runs([experiment], f"tags.`topicsweep.study` = '{study}' and tags.`topicsweep.role` = 'parent'")
    children = client.search_runs([experiment], f"tags.`topicsweep.study` = '{study}' and tags.`topicsweep.role` = 'trial'",
                                  max_results=1000)
    return parents, children


def test_three_workers_finish_exactly_n_trials_under_one_parent(cli: CliRunner, pg_url: str, mlflow_server: str,
                                                                tmp_path: Path) -> None:
    study = f"three_{uuid.uuid4().hex[:6]}"
    done = cli("sweep", sweep_file(tmp_path, study, 24), f"storage={pg_url}", "workers=3",
               f"tracking.uri={mlflow_server}")
    assert done.returncode == 0, done.stderr[-3000:]
    trials = optuna.load_study(study_name=study, storage=pg_url).trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 24
    assert len({t.number for t in trials}) == len(trials)
    assert len({t.user_attrs["worker"] for t in complete}) == 3  # every worker did some of the work
    parents, children = children_of_parent(mlflow_server, study)
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"  # the last worker to leave ended it
    finished = [c for c in children if c.data.tags.get("state") == "COMPLETE"]
    assert len(finished) == 24 and {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}
    assert len({c.data.tags["topicsweep.trial"] for c in finished}) == 24


def test_a_killed_worker_loses_nothing(pg_url: str, mlflow_server: str, tmp_path: Path, session_cache: Path) -> None:
    study = f"killed_{uuid.uuid4().hex[:6]}"
    command = [sys.executable, "-m", "runner", "sweep", sweep_file(tmp_path, study, 24), f"storage={pg_url}",
               f"tracking.uri={mlflow_server}", f"paths.output_dir={tmp_path / 'out'}",
               f"paths.cache_dir={session_cache}"]
    # One storage (one connection pool) for all the polling: a new one per poll would hold a connection
    # each until garbage-collected and could exhaust PostgreSQL's max_connections under the workers' feet.
    # Opened before the workers start: Optuna writes its schema version rows on opening, which must not
    # race the workers creating the same rows.
    storage = optuna.storages.RDBStorage(pg_url)
    logs = [tmp_path / f"worker-{i}.log" for i in range(3)]
    workers = [subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w"))
               for log in logs]
    try:
        victim = f"{socket.gethostname()}:{workers[0].pid}"
        deadline, killed = time.time() + 300, False
        while time.time() < deadline and not killed and workers[0].poll() is None:
            time.sleep(0.2)
            try:
                running = optuna.load_study(study_name=study, storage=storage).get_trials(
                    states=(TrialState.RUNNING,))
            except (KeyError, sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError):
                continue  # the study (or its tables) are being created
            if any(t.user_attrs.get("worker") == victim for t in running):
                workers[0].send_signal(signal.SIGKILL)
                killed = True
        assert killed, f"the first worker never ran a trial:\n{logs[0].read_text()[-3000:]}"
        for worker, log in zip(workers[1:], logs[1:]):
            assert worker.wait(timeout=600) == 0, log.read_text()[-3000:]
    finally:  # a failed assertion must not leave workers running (on a server the fixture is about to stop)
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    trials = optuna.load_study(study_name=study, storage=storage).trials
    storage.engine.dispose()
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 24
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert [t for t in trials if t.state == TrialState.FAIL and t.user_attrs.get("worker") == victim]
    parents, children = children_of_parent(mlflow_server, study)
    finished = [c.data.tags["topicsweep.trial"] for c in children if c.data.tags.get("state") == "COMPLETE"]
    assert len(finished) == len(set(finished)) == 24
    assert len(parents) == 1   # exactly one parent run for the study, whichever worker died
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}


def test_passwords_in_the_storage_url_never_appear(cli: CliRunner, pg_url: str, mlflow_server: str,
                                                   tmp_path: Path) -> None:
    study = f"secret_{uuid.uuid4().hex[:6]}"
    user_and_host = pg_url.split("://", 1)[1]
    user, _, rest = user_and_host.partition("@")
    with_password = f"postgresql://{user.split(':')[0]}:s3cr3t-pw@{rest}"  # trust auth ignores the password
    done = cli("sweep", sweep_file(tmp_path, study, 2), f"storage={with_password}", f"tracking.uri={mlflow_server}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "s3cr3t-pw" not in done.stdout + done.stderr
    assert "***" in done.stderr
    parents, children = children_of_parent(mlflow_server, study)
    for run in [*parents, *children]:
        assert "s3cr3t-pw" not in repr(run.data.params) + repr(run.data.tags)
    assert parents[0].data.tags["optuna.storage"].startswith(f"postgresql://{user.split(':')[0]}:***@")


def test_sqlite_is_refused_for_several_workers(cli: CliRunner, tmp_path: Path) -> None:
    done = cli("sweep", sweep_file(tmp_path, "s", 2), "workers=2")
    assert done.returncode == 2
    assert "not SQLite" in done.stderr and "postgresql://" in done.stderr and "journal:///" in done.stderr


def test_journal_file_storage_runs_several_local_workers(output_dir: Path, tmp_path: Path) -> None:
    # a cache of its own (hashing embeddings take no time): the first trials fit the reductions instead of finding
    # them in the session's cache, so the second worker, which starts after its imports, joins in time
    cache = tmp_path / "cache"
    journal = tmp_path / "optuna.log"
    command = [sys.executable, "-m", "runner", "sweep", sweep_file(tmp_path, "j", 8), f"storage=journal:///{journal}",
               "workers=2", f"paths.output_dir={output_dir}", f"paths.cache_dir={cache}"]
    launcher = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "HF_HUB_OFFLINE": "1"})
    stdout, stderr = launcher.communicate(timeout=600)
    assert launcher.returncode == 0, stderr[-3000:]
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    trials = optuna.load_study(study_name="j", storage=storage).trials
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 8
    # the launcher is worker 1 (it prepared the study, then ran trials); one more process joined it
    workers = {t.user_attrs["worker"] for t in trials}
    assert f"{socket.gethostname()}:{launcher.pid}" in workers and len(workers) == 2
    assert "[worker 1] trial" in stderr and "[worker 2] trial" in stderr
    client = MlflowClient(tracking_uri=f"sqlite:///{output_dir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("j").experiment_id
    parents = client.search_runs([experiment], "tags.`topicsweep.role` = 'parent'")
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    children = client.search_runs([experiment], "tags.`state` = 'COMPLETE'")
    assert len(children) == 8
    # every trial's deferred figure drawn once (a trial without topics has none), whichever worker ran it, and no
    # claim left behind
    with_topics = [run for run in children if run.data.metrics["n_topics"] > 0]
    assert with_topics and all("topics.png" in {a.path for a in client.list_artifacts(run.info.run_id)}
                               for run in with_topics)
    trial_files = [p.name for p in (output_dir / "sweeps" / "j" / "trials").rglob("*")]
    assert trial_files.count("topics.png") == len(with_topics) and not [n for n in trial_files if ".claim" in n]


def test_workers_waiting_for_a_launcher_whose_preparation_fails_leave_quietly(cli: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "missing.tsv"
    done = cli("sweep", sweep_file(tmp_path, "f", 4), f"storage=journal:///{tmp_path / 'optuna.log'}", "workers=3",
               "dataset=tsv", f"dataset.path={missing}")
    assert done.returncode == 2
    assert done.stderr.count("error:") == 1 and str(missing) in done.stderr  # said once, by the launcher
    assert "Traceback" not in done.stderr
