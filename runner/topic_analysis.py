"""Analyses of a fitted BERTopic model beyond the topic table: hierarchy, topics over time, the saved model.

All of them use BERTopic's own functions (``hierarchical_topics``, ``get_topic_tree``,
``topics_over_time``, ``save``) on the model that :func:`runner.stages.topics.fit_topics` kept.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runner.errors import UserError
from runner.stages.topics import FittedModel, _without_log_message


@dataclass(frozen=True)
class Hierarchy:
    """A topic hierarchy.

    Attributes:
        table: BERTopic's ``hierarchical_topics`` frame (one row per merge).
        linkage: The scipy linkage matrix behind it (leaf ``i`` = topic ``i``).
        tree: BERTopic's ``get_topic_tree`` text.
    """

    table: Any
    linkage: np.ndarray
    tree: str


def hierarchy(fitted: FittedModel) -> Hierarchy:
    """BERTopic's hierarchical topics (Ward linkage of c-TF-IDF cosine distances) and text tree."""
    from bertopic._utils import get_unique_distances, validate_distance_matrix
    from scipy.cluster import hierarchy as sch
    from sklearn.metrics.pairwise import cosine_similarity

    model = fitted.model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pandas chained-assignment notes inside BERTopic
        table = model.hierarchical_topics(fitted.documents)
    # The same linkage hierarchical_topics computes (its default distance and linkage functions).
    matrix = validate_distance_matrix(1 - cosine_similarity(model.c_tf_idf_[model._outliers:]),
                                      model.c_tf_idf_.shape[0] - model._outliers)
    linkage = sch.linkage(matrix, "ward", optimal_ordering=True)
    if len(linkage[:, 2]) != len(np.unique(linkage[:, 2])):
        linkage[:, 2] = get_unique_distances(linkage[:, 2])
    return Hierarchy(table, linkage, model.get_topic_tree(table))


def merged_topics(tree: Hierarchy, fitted: FittedModel, level: int) -> Any:
    """The topics merged along the hierarchy into ``level`` groups: one row per original topic.

    Columns: ``merged_topic`` (0 = largest group), ``merged_name`` (BERTopic's representation of
    the merged group, or the topic's own name when it stays alone), ``merged_size`` (documents),
    ``topic``, ``name``, ``size``.
    """
    import pandas as pd
    from scipy.cluster import hierarchy as sch

    model = fitted.model
    groups = sch.fcluster(tree.linkage, t=level, criterion="maxclust")
    sizes = model.topic_sizes_
    info = model.get_topic_info().set_index("Topic")
    parent_names = {frozenset(int(t) for t in topics): str(name)
                    for topics, name in zip(tree.table.Topics, tree.table.Parent_Name)}
    rows = []
    for group in np.unique(groups):
        members = [int(t) for t in np.flatnonzero(groups == group)]
        name = parent_names.get(frozenset(members)) if len(members) > 1 else str(info.loc[members[0], "Name"])
        size = sum(int(sizes.get(t, 0)) for t in members)
        rows.extend({"merged_name": name, "merged_size": size, "topic": t, "name": str(info.loc[t, "Name"]),
                     "size": int(sizes.get(t, 0))} for t in members)
    frame = pd.DataFrame(rows)
    order = {name: rank for rank, name in enumerate(
        frame.drop_duplicates("merged_name").sort_values("merged_size", ascending=False).merged_name)}
    frame.insert(0, "merged_topic", frame.merged_name.map(order))
    return frame.sort_values(["merged_topic", "size"], ascending=[True, False]).reset_index(drop=True)


def parse_timestamps(values: list[str]) -> list[Any]:
    """Timestamps as read from ``dataset.timestamp_column``: numbers stay numbers, the rest become datetimes."""
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if not numbers.isna().any():
        return numbers.tolist()
    try:
        return list(pd.to_datetime(pd.Series(values), format="mixed"))
    except (ValueError, TypeError) as error:
        raise UserError(f"dataset.timestamp_column: cannot read '{error}' as a date or a number; "
                        f"use ISO dates (2024-05-01) or numbers (years, epoch seconds)") from None


def topics_over_time(fitted: FittedModel, timestamps: list[str], nr_bins: int | None, global_tuning: bool,
                     evolution_tuning: bool) -> Any:
    """BERTopic's ``topics_over_time`` frame: Topic, Words, Frequency, Timestamp, Name."""
    parsed = parse_timestamps(timestamps)
    bins = None if nr_bins is None else min(nr_bins, len(set(parsed)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fitted.model.topics_over_time(fitted.documents, parsed, nr_bins=bins if bins and bins > 1 else None,
                                             global_tuning=global_tuning, evolution_tuning=evolution_tuning)


def save_model(fitted: FittedModel, directory: Path, embedding: dict[str, Any]) -> Path:
    """Save the fitted model with BERTopic's safetensors serialisation (no pickle) into ``directory``.

    The c-TF-IDF model is saved too (so ``update_topics``/``topics_over_time`` work after loading).
    A sentence-transformers embedding model from the Hugging Face hub is recorded by name (``embedding``: the run's embedder
    fingerprint), so ``BERTopic.load`` can load it for ``transform``; other embedders are not saved
    and need ``BERTopic.load(path, embedding_model=...)``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    name = embedding.get("hub_model") if embedding.get("kind") == "sentence_transformer" else None
    # Without a hub model BERTopic warns to name one; there is none to name (the note above says so).
    with _without_log_message("BERTopic", "without explicitly defining an embedding model"):
        fitted.model.save(str(directory), serialization="safetensors", save_ctfidf=True,
                          save_embedding_model=str(name) if name else False)
    (directory / "topicsweep.json").write_text(json.dumps({"embedding": embedding}, indent=1, default=str),
                                               encoding="utf-8")
    return directory
