"""The run directory: resolved config, topic table, document topics, topic words and metrics."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from runner.config import select, to_yaml
from runner.pipeline import RunResult
from runner.plots import topic_overview

TOPIC_COLUMNS = ("topic", "size", "name", "words", "representative_docs")


def topic_rows(result: RunResult) -> list[dict[str, Any]]:
    """One row per topic (outliers as topic -1 when present), largest first."""
    labels = result.topics.labels
    sizes = {int(t): int((labels == t).sum()) for t in set(labels.tolist())}
    rows = []
    for topic in sorted(sizes, key=lambda t: (t == -1, -sizes[t], t)):
        rows.append({
            "topic": topic,
            "size": sizes[topic],
            "name": result.topics.names.get(topic, "outliers" if topic == -1 else str(topic)),
            "words": " ".join(result.topics.words.get(topic, [])),
            "representative_docs": " ||| ".join(_excerpt(doc) for doc in result.topics.representative_docs.get(topic, [])),
        })
    return rows


def csv_encoding(cfg: DictConfig) -> str:
    """CSV encoding: ``utf-8-sig`` (with a byte-order mark, for Excel) when ``outputs.csv_bom``, else ``utf-8``."""
    return "utf-8-sig" if select(cfg, "outputs.csv_bom", False) else "utf-8"


def write_run_dir(run_dir: Path, cfg: DictConfig, result: RunResult, figure: bool = True) -> Path:
    """Write config.yaml, topics.csv, doc_topics.csv, topic_words.json, metrics.json (all UTF-8) and,
    with ``figure``, topics.png, the ``outputs.figures`` with the analyses of :func:`runner.figures.render_figures`
    and the model when ``outputs.save_model`` (sweeps skip them per trial: they cost more than a trial's topics)."""
    import pandas as pd

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(to_yaml(cfg), encoding="utf-8")
    encoding = csv_encoding(cfg)
    rows = topic_rows(result)
    pd.DataFrame(rows, columns=list(TOPIC_COLUMNS)).to_csv(run_dir / "topics.csv", index=False, encoding=encoding)
    extras: dict[str, Any] = {}
    if figure:
        topic_overview(rows, run_dir / "topics.png")
        extras = _figures_and_model(run_dir, cfg, result)
    documents = pd.DataFrame({"doc": range(len(result.corpus)), "topic": result.topics.labels,
                              "topic_before_outlier_reduction": result.topics.labels_before})
    if result.corpus.labels is not None:
        documents["label"] = result.corpus.labels
    documents["text"] = [text[:200] for text in result.corpus.texts]
    documents.to_csv(run_dir / "doc_topics.csv", index=False, encoding=encoding)
    words = {str(topic): result.topics.words[topic] for topic in sorted(result.topics.words)}
    (run_dir / "topic_words.json").write_text(json.dumps(words, ensure_ascii=False, indent=1), encoding="utf-8")
    (run_dir / "metrics.json").write_text(json.dumps(
        {"metrics": {k: _json_number(v) for k, v in result.metrics.items()},
         "timings_s": result.timings, "cache_hits": result.cache_hits, "embedding": result.embedding, **extras},
        indent=1), encoding="utf-8")
    return run_dir


def _figures_and_model(run_dir: Path, cfg: DictConfig, result: RunResult) -> dict[str, Any]:
    """Figures and the saved model; the metrics.json keys saying what was drawn and what skipped and why."""
    from runner.figures import render_figures, save_run_model

    report = render_figures(run_dir, cfg, result)
    save_run_model(run_dir, cfg, result, report)
    result.figures_skipped.update(report.skipped)
    return report.as_json()


def _excerpt(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else value


def read_topic_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a run directory's topics.csv (UTF-8 with or without a byte-order mark), as :func:`topic_rows`."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [{**row, "topic": int(row["topic"]), "size": int(row["size"])} for row in csv.DictReader(handle)]
