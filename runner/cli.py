"""Command line: thin commands that parse arguments, compose the config and call the work.

Heavy libraries (torch, BERTopic, MLflow, Optuna) are imported inside the commands, so
``topicsweep --help`` answers at once.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from runner.errors import UserError


def console() -> int:
    """``topicsweep`` and ``python -m runner``: :func:`main`, then a quick exit of the interpreter.

    Once BERTopic (with transformers and torch) is loaded, the interpreter's last garbage collections
    at exit walk millions of objects: 2 s per process, after the work is done. The objects alive then
    are frozen out of those collections (``gc.freeze``): the process is ending and the operating
    system reclaims its memory. Exit handlers (logging, MLflow, temporary directories) still run.
    """
    code = main()
    gc.freeze()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI on ``argv`` (default: the command line); returns the exit code. :func:`console` wraps it."""
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
    sweep.add_argument("--extend", action="store_true",
                       help="continue an existing study although its search space, base config, constraints or "
                            "seeds changed (recorded in the study; a different corpus always needs a new study=NAME)")
    sweep.set_defaults(command=_sweep)

    best = commands.add_parser("best", help="export the chosen trial (or several side by side): config, tables, "
                                            "methods text")
    best.add_argument("--study", default="default", help="study name (default: default)")
    best.add_argument("--storage", help="Optuna storage URL (default: SQLite under the output directory)")
    picked = best.add_mutually_exclusive_group()
    picked.add_argument("--trial", type=int, help="export this trial number instead of the chosen one")
    picked.add_argument("--trials", metavar="N,M,...", help="export these trials side by side (e.g. a baseline and "
                                                           "the tuned trial) to sweeps/<study>/compare/")
    picked.add_argument("--pareto", action="store_true", help="export the feasible Pareto front side by side")
    picked.add_argument("--protocol", action="store_true",
                        help="for a protocol preset's study (sweeps/bertopic_paper_bbc.yaml): mean ± sd over all runs "
                             "beside the published figures, and every difference in protocol, to "
                             "sweeps/<study>/protocol/")
    best.add_argument("--seeds", type=int, metavar="K", help="re-run the chosen trial (or --trial N) over K UMAP "
                      "seeds: mean ± sd of every metric and topic stability, to sweeps/<study>/seeds/")
    best.add_argument("--match", choices=("jaccard", "rbo"), default="jaccard",
                      help="with --seeds: match topics across seeds by Jaccard (default) or RBO of their top words")
    best.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. paths.output_dir=elsewhere")
    best.set_defaults(command=_best)

    compare = commands.add_parser("compare", help="one row per study (model): NPMI, C_V, TD, outliers, NMI as mean "
                                                  "± sd over seeds at each study's chosen trial, with a methods text")
    compare.add_argument("--studies", required=True, metavar="A,B,...", help="study names, one per model, in order")
    compare.add_argument("--storage", help="Optuna storage URL (default: SQLite under the output directory)")
    compare.add_argument("--seeds", type=int, metavar="K", help="every study over K seeds: a study swept with "
                         "seeds: K is read, any other has its chosen trial re-run over K seeds (default: each "
                         "study's own seeds, a single run for seeds: 1)")
    compare.add_argument("--format", choices=("md", "tex", "csv"), default="md",
                         help="what is printed: md (default), tex (booktabs LaTeX) or csv; all three are written")
    compare.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. paths.output_dir=elsewhere")
    compare.set_defaults(command=_compare)

    trials = commands.add_parser("trials", help="one row per trial of a study: state, parameters, metrics, flags")
    trials.add_argument("--study", default="default", help="study name (default: default)")
    trials.add_argument("--storage", help="Optuna storage URL (default: SQLite under the output directory)")
    trials.add_argument("--sort", metavar="METRIC[:asc|:desc]", help="sort by this metric: an objective best "
                        "first (by its direction), any other metric largest first; :asc or :desc sets the order; "
                        "trials without the metric come last (default: by trial number)")
    trials.add_argument("--feasible", action="store_true", help="only COMPLETE trials that meet the constraints")
    trials.add_argument("--format", choices=("table", "csv", "md", "tex"), default="table",
                        help="table (default), csv (full precision), md (Markdown) or tex (booktabs LaTeX)")
    trials.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. paths.output_dir=elsewhere")
    trials.set_defaults(command=_trials)

    report = commands.add_parser("report", help="(re)write a sweep's HTML report, sweeps/<study>/report.html, and "
                                                "attach it to the study's MLflow parent run")
    report.add_argument("--study", default="default", help="study name (default: default)")
    report.add_argument("--storage", help="Optuna storage URL (default: SQLite under the output directory)")
    report.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. paths.output_dir=elsewhere")
    report.set_defaults(command=_report)

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
    for subparser in (run, config, sweep, best, compare, trials, report, dashboard, ui):
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
    from runner.data import dataset_name
    from runner.display import err_console, metrics_table, out_console, stage_progress
    from runner.pipeline import CACHED_STAGES, Session
    from runner.run import execute_run

    cfg = _compose(args)
    err_console.print(f"[bold]topicsweep run[/bold] dataset={dataset_name(cfg.dataset)}")
    record = execute_run(cfg, Session(Path(cfg.paths.cache_dir), report=stage_progress))
    hits = record.result.cache_hits
    cached = ", ".join(f"{stage} {'hit' if hits[stage] else 'miss'}" for stage in CACHED_STAGES if stage in hits)
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
    spec_items = [a for a in arguments if a.split("=", 1)[0].split(".", 1)[0].split("[", 1)[0] in SPEC_KEYS]
    overrides = [a for a in arguments if a not in spec_items]
    changes = OmegaConf.to_container(OmegaConf.from_dotlist(spec_items)) if spec_items else {}
    return name, changes, overrides


def _sweep(args: argparse.Namespace) -> int:
    from runner.sweep_spec import load_spec
    from runner.workers import START_SIGNAL

    if os.environ.get(START_SIGNAL):
        return _launched_worker(args)
    name, changes, overrides = split_sweep_arguments(args.arguments)
    spec = load_spec(name, changes)
    from rich.markup import escape

    from runner.display import err_console, out_console, rows_table, trial_line
    from runner.sweep import Sweep
    from runner.sweep_report import add_trial_figures, table_columns, table_rows
    from runner.trial_constraints import infeasible_warning

    others = None
    if spec.workers > 1 and not args.prepare:
        from runner.workers import OtherWorkers, check_shared_storage

        check_shared_storage(spec, overrides)
        err_console.print(f"starting {spec.workers - 1} more worker{'s' if spec.workers > 2 else ''}; they begin once "
                          f"the study, the MLflow parent run and the shared inputs are ready")
        others = OtherWorkers(args.arguments, spec.workers, extend=args.extend)
        os.environ["TOPICSWEEP_WORKER"] = "1"
    try:
        sweep = Sweep(spec, overrides, report=lambda trial: err_console.print(trial_line(trial, spec.n_trials)),
                      extend=args.extend)
        if others is not None:
            others.study_ready()
            sweep.prepare(tokens=False)
    except BaseException:
        if others is not None:
            others.cancel()
        raise
    spec = sweep.spec  # with ${frac:...} resolved for the corpus
    if args.prepare:
        sweep.prepare()
        err_console.print(f"prepared study '{spec.study}' in {_masked(sweep.storage_url)}: start the workers now")
        return 0
    if others is not None:
        others.start()
    err_console.print(f"[bold]topicsweep sweep[/bold] {spec.name}: study '{spec.study}' in "
                      f"{_masked(sweep.storage_url)}, target {spec.n_trials} complete trials")
    workers_code = 0
    try:
        outcome = sweep.run()  # every trial is COMPLETE now: the summary is written while the others draw figures
        if others is not None:
            workers_code = others.wait()
            if workers_code and sweep.tracker is not None:
                add_trial_figures(sweep)  # of trials whose worker died before drawing them
    except KeyboardInterrupt:
        if others is not None:
            others.interrupt()
        err_console.print("interrupted: finished trials are kept; run the same command again to resume")
        return 130
    except BaseException:
        if others is not None:
            others.wait()  # they carry on with the sweep; this worker's error is reported once they are done
        raise
    columns = table_columns(outcome.pareto, list(spec.objectives))
    out_console.print(rows_table(table_rows(outcome.pareto), columns, title="Pareto front (feasible trials)"))
    if outcome.chosen is not None:
        out_console.print(f"chosen trial: {outcome.chosen.number} ({spec.select.rule}); export it with "
                          f"`topicsweep best --study {spec.study}`")
    if outcome.parent_run_id:
        out_console.print(f"mlflow parent run: {outcome.parent_run_id}")
    if outcome.report is not None:
        out_console.print(f"sweep report: {outcome.report}")
    warning = infeasible_warning(outcome.rows, spec.constraints)
    if warning:
        err_console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    return workers_code


def _launched_worker(args: argparse.Namespace) -> int:
    """A worker started by a ``workers=N`` launcher: it opens the study once the launcher created it, runs
    trials once the shared inputs are ready, and leaves the summary to the launcher."""
    from runner.display import err_console, trial_line
    from runner.sweep import Sweep
    from runner.sweep_spec import load_spec
    from runner.workers import INPUTS_READY, STUDY_READY, await_launcher

    if not await_launcher(STUDY_READY):
        return 0  # the launcher's preparation failed; it reports why
    name, changes, overrides = split_sweep_arguments(args.arguments)
    spec = load_spec(name, changes)
    sweep = Sweep(spec, overrides, report=lambda trial: err_console.print(trial_line(trial, spec.n_trials)),
                  extend=args.extend)
    if not await_launcher(INPUTS_READY):
        return 0
    sweep.run(summarise=False)
    return 0


def _best(args: argparse.Namespace) -> int:
    from runner.display import err_console, out_console
    from runner.export import export_best, export_trials, load_study
    from runner.storage import default_storage_url

    if args.protocol or args.seeds is not None:
        return _best_evaluation(args)
    numbers = None if args.trials is None else _trial_numbers(args.trials)
    cfg = _compose(args)
    output_dir = Path(cfg.paths.output_dir)
    study = load_study(args.study, args.storage or default_storage_url(output_dir))
    if numbers is None and not args.pareto:
        export = export_best(study, output_dir, args.trial)
        out_console.print(f"exported trial {export.trial} of study '{args.study}' to {export.directory}")
        exports, caveats = [export], export.caveats
    else:
        comparison = export_trials(study, output_dir, numbers)
        shown = ", ".join(str(e.trial) for e in comparison.trials)
        out_console.print(f"exported {'trials' if len(comparison.trials) > 1 else 'trial'} {shown} of study "
                          f"'{args.study}' side by side to {comparison.directory} (chosen trial: {comparison.chosen})")
        exports, caveats = list(comparison.trials), comparison.caveats
    for export in exports:
        which = "the trial" if len(exports) == 1 else f"trial {export.trial}"
        if export.reproduced:
            out_console.print(f"re-running {which} from config.yaml reproduced its stored metrics exactly")
        else:
            out_console.print(f"[yellow]warning:[/yellow] re-running {which} gave different metrics than stored "
                              "(changed code, packages or cache?)")
    for caveat in caveats:
        err_console.print(f"[yellow]warning:[/yellow] {caveat.console}")
    _print_report_link(output_dir, args.study)
    return 0


def _print_report_link(output_dir: Path, study: str) -> None:
    from runner.display import out_console
    from runner.report import report_path

    path = report_path(output_dir, study)
    if path.is_file():
        out_console.print(f"sweep report: {path} (`topicsweep report --study {study}` adds this export's figures)")
    else:
        out_console.print(f"no sweep report yet: `topicsweep report --study {study}` writes {path}")


def _best_evaluation(args: argparse.Namespace) -> int:
    """``best --protocol`` (published figures beside the study's) and ``best --seeds K`` (seed robustness)."""
    from runner.display import out_console
    from runner.export import load_study
    from runner.storage import default_storage_url

    if args.seeds is not None and (args.protocol or args.trials or args.pareto):
        raise UserError("--seeds re-runs one trial: combine it with --trial N or nothing, not --protocol, --trials "
                        "or --pareto")
    cfg = _compose(args)
    output_dir = Path(cfg.paths.output_dir)
    study = load_study(args.study, args.storage or default_storage_url(output_dir))
    if args.protocol:
        from runner.protocol import protocol_report

        report = protocol_report(study, output_dir)
        sys.stdout.write(report.markdown)
        out_console.print(f"written to {report.directory} (protocol.md, protocol.tex, protocol.csv)")
        return 0
    from runner.display import rows_table
    from runner.export_tables import metric_rows
    from runner.seed_robustness import seed_robustness

    seeds = seed_robustness(study, output_dir, args.seeds, args.trial, args.match)
    out_console.print(rows_table(metric_rows(seeds.metrics), ["metric", "value"], title=f"trial {seeds.trial} over "
                                 f"{seeds.seed_name} seeds {', '.join(map(str, seeds.seeds))} (mean ± sd)"))
    out_console.print(f"topic stability ({args.match}, Hungarian matching): overall {seeds.stability.overall:.3f}; "
                      f"per topic in stability.md; written to {seeds.directory}")
    return 0


def _trial_numbers(text: str) -> list[int]:
    """``3,7,12`` → [3, 7, 12]; anything else is a UserError."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise UserError(f"--trials {text}: give trial numbers separated by commas, e.g. --trials 3,7,12")
    return [int(part) for part in parts]


def _compare(args: argparse.Namespace) -> int:
    from runner.compare import compare_studies
    from runner.display import err_console
    from runner.storage import default_storage_url

    cfg = _compose(args)
    output_dir = Path(cfg.paths.output_dir)
    names = [name.strip() for name in args.studies.split(",") if name.strip()]
    report = compare_studies(names, args.storage or default_storage_url(output_dir), output_dir, args.seeds)
    sys.stdout.write({"md": report.markdown, "tex": report.latex, "csv": report.csv}[args.format])
    err_console.print(f"written to {report.directory} (comparison.md, comparison.tex, comparison.csv, methods.md)")
    return 0


def _trials(args: argparse.Namespace) -> int:
    from runner.display import fit_columns, out_console, rows_table
    from runner.export import load_study
    from runner.storage import default_storage_url
    from runner.trials import display_rows, optional_columns, render, summary, trials_view

    cfg = _compose(args)
    study = load_study(args.study, args.storage or default_storage_url(Path(cfg.paths.output_dir)))
    view = trials_view(study, args.sort, args.feasible)
    if args.format != "table":
        sys.stdout.write(render(view, args.format))
        return 0
    rows = display_rows(view)
    columns, hidden = fit_columns(rows, view.columns, optional_columns(view), out_console.width)
    out_console.print(rows_table(rows, columns, title=summary(view)))
    if hidden:
        out_console.print(f"not shown (too narrow a terminal): {', '.join(hidden)}; --format csv or md shows them")
    return 0


def _report(args: argparse.Namespace) -> int:
    from runner.display import err_console, out_console
    from runner.export import load_study
    from runner.report import log_to_parent, write_report
    from runner.storage import default_storage_url

    cfg = _compose(args)
    output_dir = Path(cfg.paths.output_dir)
    storage = args.storage or default_storage_url(output_dir)
    study = load_study(args.study, storage)
    path = write_report(study, output_dir, storage)
    out_console.print(f"sweep report: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    try:
        parent = log_to_parent(study, path, cfg.tracking.uri, output_dir) if cfg.tracking.enabled else None
    except UserError as error:
        err_console.print(f"[yellow]warning:[/yellow] {error}")
        return 0
    if parent:
        out_console.print(f"attached to mlflow parent run {parent} (`topicsweep ui`)")
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


class _Stopped(Exception):
    """SIGTERM or SIGHUP arrived while a server ran."""


def _raise_stopped(signum: int, frame: object) -> None:
    raise _Stopped(signal.Signals(signum).name)


def _run_process_group(command: list[str]) -> int:
    """Run a server in its own process group; on Ctrl-C, SIGTERM, SIGHUP or exit stop the whole group
    (MLflow's and the dashboard's worker processes too)."""
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    signal.signal(signal.SIGTERM, _raise_stopped)
    signal.signal(signal.SIGHUP, _raise_stopped)
    try:
        process = subprocess.Popen(command, start_new_session=True)
        try:
            return process.wait()
        except (KeyboardInterrupt, _Stopped):
            return 0
        finally:
            for signum in previous:  # a second Ctrl-C or signal must not cut the clean-up short
                signal.signal(signum, signal.SIG_IGN)
            _stop_group(process)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL to what is left of it after 10 s (also a worker forked meanwhile)."""
    for stop, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, stop)
        deadline = time.monotonic() + grace
        while _group_alive(process) and time.monotonic() < deadline:
            time.sleep(0.1)
    process.wait()


def _group_alive(process: subprocess.Popen) -> bool:
    process.poll()  # reap the leader once it exits, so that only live members count
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def _masked(text: str | None) -> str:
    from runner.config import mask_secrets

    return mask_secrets(text or "")
