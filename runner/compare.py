"""``topicsweep compare --studies a,b,c``: one row per study (one model each), as in the BERTopic paper.

Each study's chosen trial (by the study's own select rule) is reported as mean ± sd over seeds:
the seeds the study already evaluated every configuration on (``seeds: K`` in its sweep file), or,
with ``--seeds K``, a re-run of the chosen trial over K seeds by the ``topicsweep best --seeds``
machinery (:mod:`runner.seed_robustness`, whose tables land in ``sweeps/<study>/seeds/``). The seed is
each model's own (:func:`runner.models.base.seed_key`). Written to ``compare/<studies>/``:
``comparison.{md,tex,csv}`` and ``methods.md`` (English and Chinese).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from runner.errors import UserError
from runner.names import metric_label, metric_short, model_label
from runner.study_identity import IDENTITY_ATTR
from runner.tables import csv_text, latex, markdown, with_sd

METRICS = ("n_topics", "coherence_npmi", "coherence_cv", "diversity", "outlier_ratio", "nmi")
COLUMNS = ("model", "study", "trial", "runs", *METRICS)
HEADERS = {"runs": "runs", "n_topics": "topics", "outlier_ratio": "outliers",
           **{m: metric_short(m) for m in ("coherence_npmi", "coherence_cv", "diversity", "nmi")}}


@dataclass(frozen=True)
class StudyResult:
    """One row of the comparison: a study's chosen trial over its seeds.

    Attributes:
        study: Study name.
        model: The ``model.name`` of the chosen trial (``bertopic``, ``lda`` ...).
        trial: The chosen trial's number.
        runs: Seeds its metrics are averaged over (1: a single run, no sd).
        metrics: Metric means, with ``<metric>_sd`` when ``runs`` > 1.
        n_complete: COMPLETE trials of the study.
        cfg: The chosen trial's config.
        dataset: The study's corpus identity (name, n_documents, hash).
    """

    study: str
    model: str
    trial: int
    runs: int
    metrics: dict[str, float]
    n_complete: int
    cfg: DictConfig
    dataset: dict[str, Any]


@dataclass(frozen=True)
class ComparisonReport:
    """The comparison table in every format, its methods paragraphs and where they were written."""

    rows: tuple[StudyResult, ...]
    directory: Path
    markdown: str
    latex: str
    csv: str
    methods: tuple[str, str]


def compare_studies(names: Sequence[str], storage_url: str, output_dir: Path,
                    seeds: int | None = None) -> ComparisonReport:
    """Compare the chosen trials of ``names`` (studies in ``storage_url``) and write the tables.

    Args:
        names: Study names, one per model, in the table's order.
        storage_url: The Optuna storage holding them.
        output_dir: Where ``compare/<studies>/`` is written (and ``sweeps/<study>/seeds/`` by re-runs).
        seeds: Report every study over this many seeds: a study evaluated over exactly that many is
            read, any other has its chosen trial re-run over them. None: what each study stored.

    Raises:
        UserError: Fewer than two studies, an unknown study, studies on different corpora, or ``seeds`` < 2.
    """
    from runner.export import load_study

    if len(names) < 2 or len(set(names)) != len(names):
        raise UserError(f"--studies {','.join(names)}: give at least two different studies separated by commas")
    if seeds is not None and seeds < 2:
        raise UserError(f"--seeds {seeds}: give at least 2 seeds (or leave --seeds out to use each study's own)")
    rows = [_study_result(load_study(name, storage_url), output_dir, seeds) for name in names]
    corpora = {row.dataset.get("hash") for row in rows}
    if len(corpora) > 1:
        found = "; ".join(f"{r.study}: {r.dataset.get('name')} ({r.dataset.get('n_documents')} documents, sha256 "
                          f"{str(r.dataset.get('hash'))[:12]})" for r in rows)
        raise UserError(f"compare needs studies on the same corpus, these differ: {found}")
    directory = output_dir / "compare" / re.sub(r"[^\w.\-]+", "_", "-".join(names))[:120]
    directory.mkdir(parents=True, exist_ok=True)
    table = [_table_row(row) for row in rows]
    corpus = rows[0].dataset
    caption = (f"Topic models on {corpus.get('name')} ({corpus.get('n_documents')} documents): each model's chosen "
               f"configuration, mean ± sd over seeds (runs)")
    texts = (markdown(table, COLUMNS, HEADERS), latex(table, COLUMNS, caption, "compare-models", HEADERS),
             csv_text([_record(row) for row in rows], _record_columns()))
    methods = methods_paragraphs(rows)
    for name, text in zip(("comparison.md", "comparison.tex", "comparison.csv"), texts):
        (directory / name).write_text(text, encoding="utf-8")
    (directory / "methods.md").write_text(f"{methods[0]}\n\n{methods[1]}\n", encoding="utf-8")
    return ComparisonReport(tuple(rows), directory, *texts, methods)


def _study_result(study: Any, output_dir: Path, seeds: int | None) -> StudyResult:
    from runner.export import trial_config
    from runner.sweep import trial_rows

    spec = study.user_attrs.get("topicsweep_spec") or {}
    number, cfg = trial_config(study)
    completed = trial_rows(study)
    metrics = next(row.metrics for row in completed if row.number == number)
    runs = int(spec.get("seeds", 1))
    if seeds is not None and seeds != runs:
        from runner.seed_robustness import seed_robustness

        metrics, runs = seed_robustness(study, output_dir, seeds, number).metrics, seeds
    model = str(cfg.model.name) if cfg.get("model") is not None else "bertopic"
    dataset = (study.user_attrs.get(IDENTITY_ATTR) or {}).get("dataset", {})
    return StudyResult(study.study_name, model, number, runs, dict(metrics), len(completed), cfg, dataset)


def _table_row(row: StudyResult) -> dict[str, Any]:
    cells = {metric: with_sd(row.metrics.get(metric), row.metrics.get(f"{metric}_sd")) for metric in METRICS}
    return {"model": model_label(row.model), "study": row.study, "trial": row.trial, "runs": row.runs, **cells}


def _record_columns() -> list[str]:
    return ["model", "study", "trial", "runs", *(f"{m}{suffix}" for m in METRICS for suffix in ("", "_sd"))]


def _record(row: StudyResult) -> dict[str, Any]:
    values = {f"{m}{suffix}": row.metrics.get(f"{m}{suffix}") for m in METRICS for suffix in ("", "_sd")}
    return {"model": row.model, "study": row.study, "trial": row.trial, "runs": row.runs, **values}


def methods_paragraphs(rows: Sequence[StudyResult]) -> tuple[str, str]:
    """English and Chinese paragraphs describing how the comparison table was made."""
    corpus, cfg = rows[0].dataset, rows[0].cfg
    top_n, top_k = cfg.metrics.top_n, cfg.metrics.diversity_top_k
    models = "; ".join(f"{model_label(r.model)} (study {r.study}, {r.n_complete} trials, trial {r.trial} chosen, "
                       f"{_runs(r)})" for r in rows)
    models_zh = "；".join(f"{model_label(r.model)}（研究 {r.study}，{r.n_complete} 次试验，选中试验 {r.trial}，"
                         f"{_runs_zh(r)}）" for r in rows)
    nmi = (" and NMI between each document's topic and the dataset's labels" if any("nmi" in r.metrics for r in rows)
           else "")
    nmi_zh = "，以及文档主题与数据集标签之间的归一化互信息（NMI）" if nmi else ""
    english = (
        f"We compared {len(rows)} topic models on the {corpus.get('name')} corpus ({corpus.get('n_documents')} "
        f"documents, SHA-256 {str(corpus.get('hash'))[:12]}): {models}. The hyperparameters of each model were tuned "
        f"with Optuna in a study of its own, and the configuration its selection rule chose is reported as mean ± sd "
        f"over runs with different seeds (BERTopic: the UMAP seed reducer.random_state; the other models: their own "
        f"model.random_state). Every model was scored by the same code on the same cached tokens: "
        f"{metric_label('coherence_npmi')} and {metric_label('coherence_cv')} over the top {top_n} words of each "
        f"topic with the tokenized corpus as reference, {metric_label('diversity')} over the top {top_k} words of all "
        f"topics, the share of documents in the outlier topic (-1; models that assign every document have none)"
        f"{nmi}.")
    chinese = (
        f"我们在 {corpus.get('name')} 语料（{corpus.get('n_documents')} 篇文档，SHA-256 {str(corpus.get('hash'))[:12]}）"
        f"上比较了 {len(rows)} 个主题模型：{models_zh}。每个模型的超参数在各自的 Optuna 研究中搜索，按该研究的选择规则"
        f"选出的配置以不同随机种子下多次运行的均值 ± 标准差报告（BERTopic 为 UMAP 的随机种子 reducer.random_state，"
        f"其他模型为各自的 model.random_state）。所有模型由同一套代码在同一份缓存的分词结果上评价：基于每个主题前 {top_n} "
        f"个词、以分词后的语料本身为参照的{metric_label('coherence_npmi', 'zh')}与{metric_label('coherence_cv', 'zh')}，"
        f"基于所有主题前 {top_k} 个词的{metric_label('diversity', 'zh')}，离群主题（-1）中的文档比例"
        f"（为每篇文档都分配主题的模型没有离群文档）{nmi_zh}。")
    return english, re.sub(r"([\u4e00-\u9fff])([A-Za-z])", r"\1 \2", chinese)


def _runs(row: StudyResult) -> str:
    return "a single run" if row.runs == 1 else f"{row.runs} seeds"


def _runs_zh(row: StudyResult) -> str:
    return "单次运行" if row.runs == 1 else f"{row.runs} 个随机种子"
