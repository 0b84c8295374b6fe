"""Command line: thin commands that parse arguments, compose the config and call the work.

Heavy libraries (torch, BERTopic, MLflow, Optuna) are imported inside the commands, so
``topicsweep --help`` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from runner.errors import UserError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``topicsweep`` and ``python -m runner``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return args.command(args)
    except UserError as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="topicsweep", description="TopicSweep: config-driven hyperparameter sweeps for BERTopic-style topic models.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    commands = parser.add_subparsers(dest="name", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="one pipeline run, e.g. topicsweep run clusterer.min_cluster_size=15")
    run.add_argument("--config-file", type=Path, help="a standalone config.yaml (e.g. from topicsweep best)")
    run.add_argument("overrides", nargs="*", help="Hydra overrides: group=option, a.b=value, +new=1, ~key")
    run.set_defaults(command=_run)

    config = commands.add_parser("config", help="print the composed config")
    config.add_argument("--config-file", type=Path, help="a standalone config.yaml")
    config.add_argument("overrides", nargs="*", help="Hydra overrides")
    config.set_defaults(command=_config)

    sweep = commands.add_parser("sweep", help="Optuna study from sweeps/NAME.yaml, e.g. topicsweep sweep bbc n_trials=60")
    sweep.add_argument("arguments", nargs="*", metavar="[NAME] [OVERRIDES]",
                       help="sweep name (default: default), then sweep-file keys (n_trials=60, storage=URL, "
                            "seeds=3, workers=4) and Hydra overrides for every trial")
    sweep.add_argument("--prepare", action="store_true",
                       help="only create the study and MLflow parent run and compute the shared embeddings and "
                            "tokens (run once before starting workers on many machines)")
    sweep.set_defaults(command=_sweep)

    best = commands.add_parser("best", help="export the chosen trial: config, tables, methods text")
    best.add_argument("--study", default="default", help="study name (default: default)")
    best.add_argument("--storage", help="Optuna storage URL (default: SQLite under the output directory)")
    best.add_argument("--trial", type=int, help="export this trial number instead of the chosen one")
    best.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. paths.output_dir=elsewhere")
    best.set_defaults(command=_best)

    dashboard = commands.add_parser("dashboard", help="optuna-dashboard on the study storage")
    dashboard.add_argument("--storage", help="Optuna storage URL (default: SQLite under the output directory)")
    dashboard.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    dashboard.add_argument("--port", type=int, default=8080)
    dashboard.add_argument("--study", help="accepted for symmetry; the dashboard lists every study in the storage")
    dashboard.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. paths.output_dir=elsewhere")
    dashboard.set_defaults(command=_dashboard)

    ui = commands.add_parser("ui", help="MLflow UI on the project's tracking store")
    ui.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    ui.add_argument("--port", type=int, default=5000)
    ui.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. paths.output_dir=elsewhere")
    ui.set_defaults(command=_ui)
    for subparser in (run, config, sweep, best, dashboard, ui):
        subparser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def _compose(args: argparse.Namespace, require_values: bool = True):  # noqa: ANN202 (DictConfig imported lazily)
    from runner.config import compose, resolve

    return resolve(compose(args.overrides, getattr(args, "config_file", None)), require_values)


def _config(args: argparse.Namespace) -> int:
    from runner.config import to_yaml

    print(to_yaml(_compose(args, require_values=False)), end="")
    return 0


def _run(args: argparse.Namespace) -> int:
    from runner.display import err_console, metrics_table, out_console, stage_progress
    from runner.pipeline import Session
    from runner.run import execute_run

    cfg = _compose(args)
    err_console.print(f"[bold]topicsweep run[/bold] dataset={cfg.dataset.name}")
    record = execute_run(cfg, Session(Path(cfg.paths.cache_dir), report=stage_progress))
    cached = ", ".join(f"{stage} {'hit' if hit else 'miss'}" for stage, hit in record.result.cache_hits.items())
    out_console.print(metrics_table(record.result.metrics, title=f"{len(record.result.corpus)} documents"))
    out_console.print(f"cache: {cached}")
    out_console.print(f"run directory: {record.run_dir}")
    if record.mlflow_run_id:
        out_console.print(f"mlflow run: {record.mlflow_run_id} ({_masked(record.tracking_uri)}; `topicsweep ui`)")
    return 0


def split_sweep_arguments(arguments: Sequence[str]) -> tuple[str, dict[str, object], list[str]]:
    """``[NAME] [key=value...]`` → sweep name, sweep-file changes, pipeline overrides."""
    from omegaconf import OmegaConf

    from runner.sweep_spec import SPEC_KEYS

    name = "default"
    if arguments and "=" not in arguments[0] and not arguments[0].startswith(("+", "~")):
        name, arguments = arguments[0], arguments[1:]
    spec_items = [a for a in arguments if a.split("=", 1)[0].split(".", 1)[0] in SPEC_KEYS]
    overrides = [a for a in arguments if a not in spec_items]
    changes = OmegaConf.to_container(OmegaConf.from_dotlist(spec_items)) if spec_items else {}
    return name, changes, overrides


def _sweep(args: argparse.Namespace) -> int:
    from runner.sweep_spec import load_spec

    name, changes, overrides = split_sweep_arguments(args.arguments)
    spec = load_spec(name, changes)
    if spec.workers > 1:
        from runner.workers import run_workers

        return run_workers(args.arguments, spec, overrides)
    from runner.display import err_console, out_console, rows_table, trial_line
    from runner.sweep import Sweep
    from runner.sweep_report import table_columns, table_rows

    sweep = Sweep(spec, overrides, report=lambda trial: err_console.print(trial_line(trial, spec.n_trials)))
    if args.prepare:
        sweep.prepare()
        err_console.print(f"prepared study '{spec.study}' in {_masked(sweep.storage_url)}: start the workers now")
        return 0
    err_console.print(f"[bold]topicsweep sweep[/bold] {spec.name}: study '{spec.study}' in "
                      f"{_masked(sweep.storage_url)}, target {spec.n_trials} complete trials")
    try:
        outcome = sweep.run()
    except KeyboardInterrupt:
        err_console.print("interrupted: finished trials are kept; run the same command again to resume")
        return 130
    columns = table_columns(outcome.pareto, list(spec.objectives))
    out_console.print(rows_table(table_rows(outcome.pareto), columns, title="Pareto front (feasible trials)"))
    if outcome.chosen is not None:
        out_console.print(f"chosen trial: {outcome.chosen.number} ({spec.select.rule}); export it with "
                          f"`topicsweep best --study {spec.study}`")
    if outcome.parent_run_id:
        out_console.print(f"mlflow parent run: {outcome.parent_run_id}")
    return 0


def _best(args: argparse.Namespace) -> int:
    from runner.display import out_console
    from runner.export import export_best, load_study
    from runner.storage import default_storage_url

    cfg = _compose(args)
    output_dir = Path(cfg.paths.output_dir)
    study = load_study(args.study, args.storage or default_storage_url(output_dir))
    export = export_best(study, output_dir, args.trial)
    out_console.print(f"exported trial {export.trial} of study '{args.study}' to {export.directory}")
    if export.reproduced:
        out_console.print("re-running the trial from config.yaml reproduced its stored metrics exactly")
    else:
        out_console.print("[yellow]warning:[/yellow] re-running the trial gave different metrics than stored "
                          "(changed code, packages or cache?)")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    from runner.storage import default_storage_url

    cfg = _compose(args)
    storage = args.storage or default_storage_url(Path(cfg.paths.output_dir))
    executable = Path(sys.executable).with_name("optuna-dashboard")  # the console script beside this Python
    if not executable.exists():
        raise UserError("optuna-dashboard is not installed in this environment (pip install optuna-dashboard)")
    command = [str(executable), storage, "--host", args.host, "--port", str(args.port)]
    print(f"optuna-dashboard on http://{args.host}:{args.port} ({_masked(storage)}); Ctrl-C stops it", file=sys.stderr)
    return _run_process_group(command)


def _ui(args: argparse.Namespace) -> int:
    from runner.tracking import default_tracking_uri

    cfg = _compose(args)
    uri = cfg.tracking.uri or default_tracking_uri(Path(cfg.paths.output_dir))
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", args.host,
               "--port", str(args.port)]
    print(f"MLflow UI on http://{args.host}:{args.port} ({_masked(uri)}); Ctrl-C stops it", file=sys.stderr)
    return _run_process_group(command)


def _run_process_group(command: list[str]) -> int:
    """Run a server in its own process group and stop the whole group (its workers too) on exit."""
    process = subprocess.Popen(command, start_new_session=True)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _masked(text: str | None) -> str:
    from runner.config import mask_secrets

    return mask_secrets(text or "")
