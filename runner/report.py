"""``topicsweep report``: one self-contained HTML page per sweep, ``outputs/sweeps/<study>/report.html``.

The page holds the study's definition and search space, every trial (the rows of ``topicsweep
trials``), the Pareto front with feasible/infeasible trials and the chosen one marked, Optuna's
optimisation history, parameter importances and parallel coordinates, and the topics of the chosen
and Pareto trials with their figures. Everything is inlined (plotly.js once, figures as PNG data
URIs), so the file works offline and in MLflow's artifact preview, where the sweep also logs it on
the study's parent run. Everything comes from the study and the trials' run directories: no trial is
re-run.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from runner.config import mask_secrets
from runner.errors import UserError
from runner.names import metric_label
from runner.outputs import read_topic_rows
from runner.report_figures import optuna_figures, pareto_figure, pareto_points
from runner.search_space import HEADERS as SEARCH_SPACE_HEADERS
from runner.search_space import search_space
from runner.sweep import seed_values
from runner.sweep_spec import spec_constraints, stored_spec
from runner.tables import cell
from runner.trials import TrialsView, display_rows, summary, trials_view

REPORT = "report.html"
TOPIC_TRIALS = 8  # chosen and Pareto trials with a topic table
FIGURE_TRIALS = 4  # of those, how many with an embedded figure (each PNG is ~50-150 kB)
TOPICS_SHOWN = 15
PNG_WIDTH = 900
BEST_FIGURES = ("barchart", "intertopic")  # static figures of a `topicsweep best` export, when present

_STYLE = """
body{font-family:system-ui,-apple-system,sans-serif;margin:1rem 2rem 4rem;color:#222;max-width:1500px}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin:2rem 0 .5rem;border-bottom:1px solid #ddd}
h3{font-size:1rem;margin:1rem 0 .3rem}nav a{margin-right:1rem}.muted{color:#666}.small{font-size:.85rem}
table{border-collapse:collapse;font-size:.82rem;margin:.3rem 0}th,td{padding:.2rem .5rem;border-bottom:1px solid #eee;
text-align:left;vertical-align:top}th{background:#f4f4f4;position:sticky;top:0}td.num{text-align:right;
font-variant-numeric:tabular-nums}tr.chosen td{background:#fde0dd;font-weight:600}tr.pareto td{background:#e8f1fa}
tr.infeasible td{color:#888}tr.failed td{color:#b22}.scroll{overflow-x:auto}.kv th{width:14rem;background:none}
code{font-size:.85em}details{margin:.6rem 0}summary{cursor:pointer;font-weight:600}img{max-width:100%}
.figures{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}.figures img{max-width:48%}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:0 1.5rem}.grid>div{min-width:0}td.note{min-width:22rem}
"""


def report_path(output_dir: Path, study_name: str) -> Path:
    """``<output_dir>/sweeps/<study>/report.html``."""
    return output_dir / "sweeps" / study_name / REPORT


def write_report(study: Any, output_dir: Path, storage_url: str | None = None) -> Path:
    """Build the report of ``study`` and write it (atomically: workers may finish at the same time)."""
    path = report_path(output_dir, study.study_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    page = build_report(study, output_dir, storage_url)
    partial_file = path.with_name(f".{REPORT}.{os.getpid()}.tmp")
    partial_file.write_text(page, encoding="utf-8")
    os.replace(partial_file, path)
    return path


def log_to_parent(study: Any, path: Path, tracking_uri: str | None, output_dir: Path) -> str | None:
    """Attach the report to the study's MLflow parent run; its id, or None for a sweep run without tracking."""
    parent = study.user_attrs.get("mlflow_parent_run_id")
    if parent is None:
        return None
    from mlflow.exceptions import MlflowException

    from runner.tracking import MlflowTracker

    tracker = MlflowTracker(tracking_uri or _stored_tracking_uri(study), output_dir)
    try:
        tracker.log_artifact(parent, path)
    except MlflowException as error:
        raise UserError(f"the report was not attached to MLflow parent run {parent} in {mask_secrets(tracker.uri)} "
                        f"({str(error).splitlines()[0]}); give the sweep's store with tracking.uri=URI") from error
    return parent


def build_report(study: Any, output_dir: Path, storage_url: str | None = None) -> str:
    """The report page of ``study`` as HTML text."""
    from optuna.trial import TrialState

    from runner.plot_page import figure_div, plotly_script

    spec = stored_spec(study)
    objectives: dict[str, str] = dict(spec["objectives"])
    view = trials_view(study)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    cfg = _trial_config(complete)
    chosen = next((r for r in view.rows if r.get("chosen")), None)
    points, undefined = pareto_points(view, list(objectives))
    optuna_plots, skipped = optuna_figures(study, list(objectives))

    sections: list[tuple[str, str, str]] = [("definition", "Study definition", _definition(study, spec, cfg,
                                                                                          storage_url, complete))]
    sections.append(("trials", "Trials", _trials_table(view)))
    if len(objectives) > 1 and points:
        note = (f"{len(points)} trials with defined objective values"
                + (f"; {undefined} without (e.g. no topics) are not shown" if undefined else "")
                + ". Hover a point for its parameters and metrics.")
        body = f'<p class="muted small">{html.escape(note)}</p>' + figure_div(
            pareto_figure(points, objectives), "pareto-plot", "620px" if len(objectives) == 2 else "820px")
        sections.append(("pareto", "Pareto front", body))
    titles = {"history": "Optimisation history", "importances": "Parameter importances",
              "parallel": "Parallel coordinates"}
    for kind, title in titles.items():
        figures = optuna_plots[kind]
        if figures:
            body = '<div class="grid">' + "".join(
                f"<div><h3>{html.escape(heading)}</h3>{figure_div(figure, f'{kind}-{index}', '440px')}</div>"
                for index, (heading, figure) in enumerate(figures)) + "</div>"
            sections.append((kind, title, body))
    if skipped:
        sections.append(("skipped", "Plots not drawn", _list(skipped)))
    sections.append(("topics", "Topics of the chosen and Pareto trials", _topics(view, study, output_dir)))

    nav = "".join(f'<a href="#{key}">{html.escape(title)}</a>' for key, title, _ in sections)
    head = _headline(view, chosen, spec)
    body = "\n".join(f'<section id="{key}"><h2>{html.escape(title)}</h2>{content}</section>'
                     for key, title, content in sections)
    title = f"Sweep report: study '{study.study_name}'"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style>{plotly_script()}</head>\n"
            f"<body><h1>{html.escape(title)}</h1>{head}<nav>{nav}</nav>\n{body}\n</body></html>\n")


# ----------------------------------------------------------------------------- sections
def _headline(view: TrialsView, chosen: Mapping[str, Any] | None, spec: Mapping[str, Any]) -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [html.escape(f"{summary(view)}; generated {stamp}")]
    if chosen is not None:
        values = ", ".join(f"{m} {cell(chosen.get(m))}" for m in view.objectives)
        lines.append(html.escape(f"chosen trial: {chosen['trial']} by the {spec['select']['rule']} rule ({values}); ")
                     + f"<code>{html.escape(f'topicsweep best --study {view.study}')}</code> exports it")
    return "".join(f'<p class="muted">{line}</p>' for line in lines)


def _definition(study: Any, spec: Mapping[str, Any], cfg: Any, storage_url: str | None,
                complete: Sequence[Any]) -> str:
    identity = study.user_attrs.get("topicsweep_identity") or {}
    dataset = identity.get("dataset")
    corpus = (f"{dataset['name']}: {dataset['n_documents']} documents, sha256 {dataset['hash'][:16]}"
              if dataset else "not recorded (study created before corpus identities)")
    overrides = study.user_attrs.get("topicsweep_base_overrides") or spec.get("overrides") or []
    rows = [("sweep", spec.get("name", "")), ("study", study.study_name)]
    if storage_url:
        rows.append(("storage", mask_secrets(storage_url)))
    rows += [("corpus", corpus), ("base overrides", " ".join(mask_secrets(str(o)) for o in overrides) or "none"),
             ("objectives", "; ".join(f"{m} ({metric_label(m)}): {d}" for m, d in spec["objectives"].items())),
             ("constraints", "; ".join(c.describe() for c in spec_constraints(spec)) or "none"),
             ("select rule", _select_text(spec["select"]))]
    history = [entry for entry in study.user_attrs.get("topicsweep_definitions", []) if entry.get("changes")]
    rows += [(f"{entry['reason']} at trial {entry['from_trial']}", "; ".join(entry["changes"])) for entry in history]
    table = _kv_table(rows)
    space = search_space(spec, cfg, complete, seed_values(cfg, int(spec["seeds"])) if cfg is not None else None)
    columns = ["parameter", "key", "space"]
    space_rows = [{c: row[c] for c in columns} for row in space.rows()]
    return table + "<h3>Search space</h3>" + _table(space_rows, columns, headers=SEARCH_SPACE_HEADERS)


def _select_text(select: Mapping[str, Any]) -> str:
    if select["rule"] == "weighted" and select.get("weights"):
        terms = " + ".join(f"{w:g} × {m}" for m, w in select["weights"].items())
        return f"weighted: the feasible Pareto trial with the largest {terms} (objectives normalised)"
    order = " > ".join(select.get("order") or [])
    return f"{select['rule']}" + (f": {order}" if order else "")


def _trials_table(view: TrialsView) -> str:
    shown = display_rows(view)
    classes = []
    for row in view.rows:
        classes.append("chosen" if row.get("chosen") else "pareto" if row.get("pareto")
                       else "failed" if row["state"] != "COMPLETE" else "infeasible" if not row.get("feasible") else "")
    legend = ('<p class="muted small">Objectives: ' + html.escape(", ".join(view.objectives))
              + '. Rows: <span style="background:#fde0dd">chosen</span>, <span style="background:#e8f1fa">'
              "Pareto front</span>, <span style=\"color:#888\">infeasible</span>, "
              '<span style="color:#b22">failed</span>. Numbers as <code>topicsweep trials</code> prints them; '
              "<code>topicsweep trials --format csv</code> has full precision.</p>")
    return legend + _table(shown, view.columns, classes, titles={m: metric_label(m) for m in view.metrics})


def _topics(view: TrialsView, study: Any, output_dir: Path) -> str:
    chosen = [r["trial"] for r in view.rows if r.get("chosen")]
    pareto = [r["trial"] for r in view.rows if r.get("pareto") and not r.get("chosen")]
    numbers = (chosen + pareto)[:TOPIC_TRIALS]
    if not numbers:
        return '<p class="muted">No COMPLETE trial yet.</p>'
    folder = output_dir / "sweeps" / study.study_name
    left_out = len(chosen + pareto) - len(numbers)
    parts = []
    for index, number in enumerate(numbers):
        label = "chosen trial" if number in chosen else "Pareto trial"
        parts.append(_trial_topics(folder, number, label, with_figures=index < FIGURE_TRIALS, open_=index == 0))
    if left_out:
        parts.append(f'<p class="muted">{left_out} more Pareto trials are not shown: their topics are in '
                     f"trials/NNNN/topics.csv.</p>")
    return "".join(parts)


def _trial_topics(folder: Path, number: int, label: str, with_figures: bool, open_: bool) -> str:
    trial_dir = folder / "trials" / f"{number:04d}"
    topics_csv = trial_dir / "topics.csv"
    summary_line = f"Trial {number} ({label})"
    if not topics_csv.is_file():
        return (f"<details><summary>{html.escape(summary_line)}</summary><p class=\"muted\">No topics.csv in "
                f"{html.escape(str(trial_dir))} (written on another machine?).</p></details>")
    rows = read_topic_rows(topics_csv)
    topics = [r for r in rows if r["topic"] != -1]
    outliers = next((r["size"] for r in rows if r["topic"] == -1), 0)
    total = sum(r["size"] for r in rows)
    note = (f"{len(topics)} topics; {outliers} of {total} documents outliers"
            + (f"; the {TOPICS_SHOWN} largest shown (all in trials/{number:04d}/topics.csv)"
               if len(topics) > TOPICS_SHOWN else ""))
    table_rows = [{"topic": r["topic"], "size": r["size"], "words": r["words"],
                   "example document": _first_document(r.get("representative_docs", ""))}
                  for r in topics[:TOPICS_SHOWN]]
    body = f'<p class="muted small">{html.escape(note)}</p>'
    if table_rows:
        body += _table(table_rows, ["topic", "size", "words", "example document"])
    if with_figures:
        images = _trial_images(folder, trial_dir, number, topics)
        if images:
            body += '<div class="figures">' + "".join(images) + "</div>"
    return f"<details{' open' if open_ else ''}><summary>{html.escape(summary_line)}</summary>{body}</details>"


def _trial_images(folder: Path, trial_dir: Path, number: int, topics: Sequence[Mapping[str, Any]]) -> list[str]:
    """The figures of ``topicsweep best`` when it exported this trial, else the trial's topic-size chart."""
    best = folder / "best"
    images = []
    if _exported_trial(best) == number:
        for name in BEST_FIGURES:
            png = best / "run" / "figures" / f"{name}.png"
            if png.is_file():
                images.append(_img(png.read_bytes(), f"{name} of trial {number} (from topicsweep best)"))
    if images:
        return images
    png = trial_dir / "topics.png"
    if png.is_file():
        return [_img(png.read_bytes(), f"topic sizes of trial {number}")]
    if not topics:
        return []
    from runner.plots import topic_overview

    with tempfile.TemporaryDirectory() as scratch:  # never write into a trial directory from here
        drawn = topic_overview(topics, Path(scratch) / "topics.png")
        return [_img(drawn.read_bytes(), f"topic sizes of trial {number}")] if drawn else []


def _exported_trial(best: Path) -> int | None:
    """The trial number that ``topicsweep best`` last exported to ``best`` (from its config's run name)."""
    config = best / "config.yaml"
    if not config.is_file():
        return None
    run_name = str((yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("run_name") or "")
    _, _, number = run_name.rpartition("-trial-")
    return int(number) if number.isdigit() else None


# ----------------------------------------------------------------------------- HTML helpers
def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], classes: Sequence[str] | None = None,
           headers: Mapping[str, str] | None = None, titles: Mapping[str, str] | None = None) -> str:
    """An HTML table; numeric columns right-aligned."""
    headers, titles = headers or {}, titles or {}
    numeric = {c for c in columns if all(_is_number(r.get(c)) for r in rows if str(r.get(c, "")) != "")}
    head = "".join(f'<th title="{html.escape(titles.get(c, ""))}">{html.escape(headers.get(c, c))}</th>'
                   for c in columns)
    lines = []
    for index, row in enumerate(rows):
        css = classes[index] if classes else ""
        cells = "".join(f'<td{" class=num" if c in numeric else " class=note" if c == "note" else ""}>'
                        f"{html.escape(cell(row.get(c)))}</td>" for c in columns)
        lines.append(f'<tr class="{css}">{cells}</tr>' if css else f"<tr>{cells}</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(lines)}</tbody></table></div>'


def _kv_table(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _list(items: Iterable[str]) -> str:
    return '<ul class="small muted">' + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"


def _img(png: bytes, alt: str) -> str:
    """A PNG as an inline data URI, scaled down to at most :data:`PNG_WIDTH` pixels wide."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        if image.width > PNG_WIDTH:
            scaled = image.resize((PNG_WIDTH, round(image.height * PNG_WIDTH / image.width)), Image.LANCZOS)
            buffer = io.BytesIO()
            scaled.save(buffer, format="PNG", optimize=True)
            png = buffer.getvalue()
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" title="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _is_number(value: Any) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    try:
        return math.isfinite(float(str(value)))
    except ValueError:
        return False


def _first_document(text: str, limit: int = 160) -> str:
    first = text.split(" ||| ")[0].strip()
    return first if len(first) <= limit else first[:limit].rstrip() + "…"


def _trial_config(complete: Sequence[Any]) -> Any:
    """The stored config of the first COMPLETE trial (names the components of the searched keys), or None."""
    from omegaconf import OmegaConf

    stored = next((t.user_attrs["config"] for t in complete if t.user_attrs.get("config")), None)
    return OmegaConf.create(stored) if stored else None


def _stored_tracking_uri(study: Any) -> str | None:
    """The tracking URI the sweep's trials used (their stored configs), None for the default store."""
    from optuna.trial import TrialState

    cfg = _trial_config(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    return None if cfg is None else cfg.get("tracking", {}).get("uri")
