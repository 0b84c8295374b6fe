"""The exports a reviewer reads: labels, number format, LaTeX tables, search space, caveats, methods text."""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from runner.caveats import selection_caveats
from runner.config import compose, resolve
from runner.data import Corpus
from runner.export_tables import (TrialView, column_headers, comparison_table, excerpt, metric_rows, param_rows,
                                  topics_markdown)
from runner.methods import MethodsInput, methods_paragraphs
from runner.names import component_name, is_diagnostic, metric_label, param_label
from runner.pipeline import RunResult
from runner.search_space import search_space
from runner.selection import TrialRow
from runner.stages.topics import TopicModelResult
from runner.sweep_spec import Constraint
from runner.tables import cell, latex, latex_label, markdown, with_sd

# Names that may stand outside parentheses in Chinese text: products and libraries written in Latin letters.
LATIN_NAMES = {"BERTopic", "KeyBERT", "Optuna", "gensim", "jieba", "MLflow", "c-TF-IDF"}


def english_outside_names(text: str) -> list[str]:
    """Latin-letter words of a Chinese text that are neither names nor acronyms.

    Parenthesised parts (the original names, config values, versions: ``（min_dist）``, ``(?u)``),
    value sets ``{…}`` and code spans are taken out first, innermost first; what is left may hold
    only acronyms (``UMAP``, ``NPMI``, ``C_V``, ``K``) and the names in :data:`LATIN_NAMES`.
    """
    bracketed = re.compile(r"[（(][^（）()]*[）)]|\{[^{}]*\}|`[^`]*`")
    previous = None
    while previous != text:
        previous, text = text, bracketed.sub("", text)
    words = re.findall(r"[A-Za-z][A-Za-z0-9_\-.]*", text)
    return [w for w in words if w not in LATIN_NAMES and w != w.upper()]


def test_the_chinese_check_finds_english_but_not_names() -> None:
    assert english_outside_names("我们使用 BERTopic 与 UMAP（min_dist=0.1, metric=cosine）建模。") == []
    assert english_outside_names("候选值 {null, auto, 5}，前缀（\"passage:\"（x））") == []
    assert english_outside_names("the model was tuned（试验 3）") == ["the", "model", "was", "tuned"]


# ----------------------------------------------------------------------------- labels
def test_parameter_labels_name_the_component_from_its_target() -> None:
    cfg = resolve(compose(["embedding=hashing"]))
    assert param_label("reducer.min_dist", cfg) == "UMAP min_dist"
    assert param_label("clusterer.min_cluster_size", cfg) == "HDBSCAN min_cluster_size"
    assert param_label("topics.nr_topics", cfg) == "BERTopic nr_topics"
    assert param_label("representation.ctfidf.bm25_weighting", cfg) == "c-TF-IDF bm25_weighting"
    assert param_label("reducer.min_dist", cfg, "zh") == "UMAP 最小距离（min_dist）"
    assert param_label("clusterer.min_cluster_size", cfg, "zh") == "HDBSCAN 最小聚类规模（min_cluster_size）"
    assert param_label("topics.outliers.strategy", cfg, "zh") == "BERTopic 离群文档重新分配策略（outliers.strategy）"
    assert param_label("embedding", cfg, "zh") == "嵌入模型（embedding）"
    kmeans = resolve(compose(["embedding=hashing", "clusterer=kmeans", "reducer=pca"]))
    assert param_label("clusterer.n_clusters", kmeans) == "k-means n_clusters"
    assert param_label("reducer.n_components", kmeans) == "PCA n_components"
    assert component_name("sklearn.cluster.KMeans", "zh") == "K 均值"


def test_metric_labels() -> None:
    assert [metric_label(m) for m in ("coherence_npmi", "coherence_cv", "diversity", "irbo", "outlier_ratio", "nmi",
                                      "ari")] == ["NPMI", "C_V", "topic diversity (TD)", "IRBO", "outlier ratio",
                                                  "NMI", "ARI"]
    assert metric_label("coherence_npmi", "zh") == "归一化点互信息（NPMI）"
    assert metric_label("diversity", "zh") == "主题多样性（TD）"
    assert metric_label("n_topics", "zh") == "主题数（n_topics）"
    assert is_diagnostic("time_reduce_s") and not is_diagnostic("coherence_npmi")  # names.py kept as it was


# ----------------------------------------------------------------------------- formatting
def test_one_number_format_for_every_table() -> None:
    assert [cell(0.123456), cell(0.73), cell(3.0), cell(12), cell(None), cell(float("nan")), cell(True)] == [
        "0.123", "0.730", "3", "12", "", "", "yes"]
    assert with_sd(0.5, 0.01234) == "0.500 ± 0.012"
    assert with_sd(12.0, 1.5) == "12.000 ± 1.500"
    assert with_sd(0.5, None) == "0.500" and with_sd(None, 0.1) == ""


def test_metric_tables_leave_diagnostics_out_and_show_sd() -> None:
    metrics = {"coherence_npmi": 0.1234, "coherence_npmi_sd": 0.01, "n_topics": 7.0, "time_reduce_s": 3.2,
               "cache_hit_embed": 1.0, "coherence_missing_words": 4.0, "diversity": 0.8}
    assert metric_rows(metrics) == [{"metric": "NPMI", "value": "0.123 ± 0.010"},
                                    {"metric": "topic diversity (TD)", "value": "0.800"},
                                    {"metric": "number of topics", "value": "7"}]


def test_latex_tables_have_caption_label_booktabs_and_escaping() -> None:
    rows = [{"name": "min_cluster_size & 50% #1", "value": 0.25}, {"name": "seeds", "value": "0.5 ± 0.1"}]
    text = latex(rows, ["name", "value"], "Search space of study my_study", "my_study-search-space",
                 {"name": "parameter"}, rules_before=[1])
    assert r"\caption{Search space of study my\_study}" in text
    assert r"\label{tab:my-study-search-space}" in text
    assert r"min\_cluster\_size \& 50\% \#1 & 0.250 \\" in text
    assert r"0.5 $\pm$ 0.1" in text
    assert r"\begin{tabular}{lr}" in text and r"parameter & value \\" in text
    assert text.count(r"\midrule") == 2 and r"\toprule" in text and r"\bottomrule" in text
    assert latex_label("Trials 3, 7 of t") == "tab:trials-3-7-of-t"
    assert r"\label{tab:metrics-of-trial-3}" in latex(rows, ["name"], "Metrics of trial 3")
    assert markdown(rows, ["name", "value"]).splitlines()[1] == "|---|---:|"


# ----------------------------------------------------------------------------- search space
SPEC: dict[str, Any] = {
    "params": {"reducer.random_state": "range(0, 4)", "reducer.min_dist": "choice(0.0, 0.1)",
               "clusterer.min_cluster_size": "int(tag(log, interval(5, 40)))",
               "topics.nr_topics": "choice(null, auto, 5)"},
    "objectives": {"coherence_npmi": "maximize", "diversity": "maximize"},
    "constraints": [["outlier_ratio", None, 0.5], ["n_topics", 3, 30]],
    "select": {"rule": "weighted", "weights": {"coherence_npmi": 1.0, "diversity": 0.5}, "order": []},
    "seeds": 1, "n_trials": 20, "sampler": {"_target_": "optuna.samplers.TPESampler", "seed": 0},
    "reducer_budget": 0.2,
}


def fake_trials(reducers: list[tuple[int, float]]) -> list[SimpleNamespace]:
    """COMPLETE trials as the search space reads them (their stored config holds the reducer)."""
    return [SimpleNamespace(params={"reducer.random_state": seed, "reducer.min_dist": dist},
                            user_attrs={"config": f"reducer:\n  _target_: umap.UMAP\n  random_state: {seed}\n"
                                                  f"  min_dist: {dist}\n"})
            for seed, dist in reducers]


def test_search_space_table_from_a_stored_spec() -> None:
    cfg = resolve(compose(["embedding=hashing"]))
    space = search_space(SPEC, cfg, fake_trials([(0, 0.0), (1, 0.0), (0, 0.0), (1, 0.1), (1, 0.1)]), None)
    rows = {row["key"] or row["parameter"]: row for row in space.rows()}
    assert rows["reducer.min_dist"] == {"parameter": "UMAP min_dist", "key": "reducer.min_dist",
                                        "space": "choice(0.0, 0.1)"}
    assert rows["clusterer.min_cluster_size"]["space"] == "int(tag(log, interval(5, 40)))"
    assert rows["sampler"]["space"] == "TPESampler (seed=0)"
    assert rows["n_trials"]["space"] == "20 / 5"
    assert rows["reducer_budget"]["space"] == "0.2 of n_trials = 4 configurations"
    assert rows["distinct reducer fits made"]["space"] == "3 (3 configurations × 1 seed)"
    assert rows["seeds"]["space"] == "1 (random_state searched)"
    assert [p.values for p in space.params] == ["integers 0–3", "{0.0, 0.1}", "integers 5–40, log scale",
                                                "{null, auto, 5}"]

    seeded = {**SPEC, "params": {"clusterer.min_cluster_size": "int(interval(5, 40))"}, "seeds": 3,
              "reducer_budget": None}
    space = search_space(seeded, cfg, fake_trials([(42, 0.0)] * 4), [42, 43, 44])
    rows = {row["key"] or row["parameter"]: row for row in space.rows()}
    assert rows["distinct reducer fits made"]["space"] == "3 (1 configurations × 3 seeds)"
    assert rows["seeds"]["space"] == "3: random_state 42, 43, 44 (mean ± sd)"
    assert rows["reducer_budget"]["space"] == "none"


# ----------------------------------------------------------------------------- caveats
def test_searching_random_state_with_one_seed_is_flagged() -> None:
    assert [c.kind for c in selection_caveats(SPEC)] == ["luckiest_seed"]
    caveat = selection_caveats(SPEC)[0]
    assert "luckiest" in caveat.console and "seeds: K" in caveat.console
    assert "seeds: K" in caveat.english and "最幸运" in caveat.chinese
    seeded = {**SPEC, "params": {"reducer.min_dist": "choice(0.0, 0.1)"}, "seeds": 3}
    assert selection_caveats(seeded) == []


@pytest.mark.parametrize(("change", "named"), [
    ({"objectives": {"nmi": "maximize"}}, "NMI as objective"),
    ({"select": {"rule": "weighted", "weights": {"coherence_npmi": 1.0, "ari": 1.0}, "order": []}},
     "ARI as selection rule"),
    ({"select": {"rule": "lexicographic", "weights": {}, "order": ["nmi"]}}, "NMI as selection rule"),
])
def test_selection_on_gold_labels_is_called_supervised(change: dict[str, Any], named: str) -> None:
    spec = {**SPEC, "params": {"reducer.min_dist": "choice(0.0, 0.1)"}, **change}
    [caveat] = selection_caveats(spec)
    assert caveat.kind == "supervised" and named in caveat.console and "supervised model selection" in caveat.console
    assert "supervised model selection" in caveat.english and "有监督的模型选择" in caveat.chinese


# ----------------------------------------------------------------------------- methods text
def run_result() -> RunResult:
    corpus = Corpus("bbc", "bbc.tsv", ["Oil prices rose again.", "Markets fell.", "A goal in the final minute."])
    labels = np.array([0, 0, 1])
    topics = TopicModelResult(labels, labels, {0: ["oil", "price", "market"], 1: ["goal", "final"]},
                              {0: "0_oil_price_market", 1: "1_goal_final", -1: "-1_said"},
                              {0: ["Oil prices rose again. " * 20], 1: ["A goal in the final minute."]})
    return RunResult(corpus, topics, {"coherence_npmi": 0.1})


def methods_input(spec: dict[str, Any]) -> MethodsInput:
    cfg = resolve(compose(["embedding=hashing", "topics.outliers.strategy=embeddings", "topics.nr_topics=auto"]))
    chosen = TrialRow(7, {"reducer.min_dist": 0.1}, {"coherence_npmi": 0.1}, True)
    space = search_space(spec, cfg, fake_trials([(0, 0.0), (1, 0.1)]), None)
    constraints = [Constraint("outlier_ratio", high=0.5), Constraint("n_topics", 3, 30)]
    return MethodsInput(cfg, spec, chosen, run_result(), constraints, space, selection_caveats(spec))


def test_methods_text_reports_the_search_and_its_caveats() -> None:
    spec = {**SPEC, "objectives": {"coherence_npmi": "maximize", "nmi": "maximize"}}
    english, chinese = methods_paragraphs(methods_input(spec))
    assert "UMAP min_dist ∈ {0.0, 0.1}" in english and "HDBSCAN min_cluster_size: integers 5–40, log scale" in english
    assert "sampler TPESampler (seed=0)" in english and "2 completed trials, target 20" in english
    assert "at most 4 distinct reducer configurations" in english and "2 distinct reducer fits" in english
    assert "trial 7, MLflow run trial-007" in english
    assert "luckiest seed" in english and "supervised model selection" in english
    assert "outlier ratio ≤ 0.5; 3 ≤ number of topics ≤ 30" in english
    assert "试验 7，MLflow 运行 trial-007" in chinese and "第 7" not in chinese
    assert "UMAP 最小距离（min_dist）：候选值 {0.0, 0.1}" in chinese
    assert "归一化点互信息（NPMI）" in chinese and "主题多样性（TD）" in chinese and "最小聚类规模（min_cluster_size）" in chinese
    assert "最幸运" in chinese and "有监督的模型选择" in chinese
    assert "离群文档比例（outlier_ratio）≤ 0.5" in chinese


def test_chinese_methods_text_has_no_english_sentences() -> None:
    for overrides in ([], ["language=zh"], ["clusterer=kmeans", "reducer=pca", "representation=keybert"]):
        cfg = resolve(compose(["embedding=hashing", *overrides]))
        _, chinese = methods_paragraphs(dataclasses.replace(methods_input(SPEC), cfg=cfg))
        assert english_outside_names(chinese) == [], overrides


# ----------------------------------------------------------------------------- topics and comparison
def test_topics_markdown_has_labels_and_short_representative_documents() -> None:
    text = topics_markdown(run_result(), "Topics of trial 7")
    assert "| 0 | 2 | 0_oil_price_market | oil price market |" in text
    assert "**0** `0_oil_price_market`" in text and "- A goal in the final minute." in text
    long_line = next(line for line in text.splitlines() if line.startswith("- Oil prices"))
    assert long_line.endswith("…") and len(long_line) <= 2 + 160 + 2
    assert excerpt("a  b\n c") == "a b c"


def test_trials_side_by_side() -> None:
    cfg = resolve(compose(["embedding=hashing"]))
    baseline = TrialView(0, {"reducer.min_dist": 0.0, "topics.nr_topics": None}, {"coherence_npmi": 0.05,
                                                                                  "time_topics_s": 1.0}, False)
    tuned = TrialView(7, {"reducer.min_dist": 0.1, "topics.nr_topics": 5}, {"coherence_npmi": 0.12}, True, chosen=True)
    rows, columns, headers, rules = comparison_table([baseline, tuned], cfg)
    assert columns == ["item", "t0", "t7"] and headers["t7"] == "trial 7 (chosen)" and headers["t0"] == "trial 0"
    assert rows[0] == {"item": "UMAP min_dist", "t0": "0", "t7": "0.100"}
    assert rows[1] == {"item": "BERTopic nr_topics", "t0": "null", "t7": "5"}
    assert rules == [2] and rows[2] == {"item": "NPMI", "t0": "0.050", "t7": "0.120"}
    assert rows[-1] == {"item": "feasible", "t0": False, "t7": True}
    assert all(row["item"] != "time_topics_s" for row in rows)
    assert param_rows({"topics.nr_topics": None}, cfg) == [
        {"parameter": "BERTopic nr_topics", "key": "topics.nr_topics", "value": "null"}]
    assert column_headers(["trial", "reducer.min_dist", "coherence_npmi", "feasible"], cfg) == {
        "reducer.min_dist": "UMAP min_dist", "coherence_npmi": "NPMI"}
