"""Config groups compose and instantiate; overrides, errors, flattening and the allow-list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from runner.build import instantiate
from runner.config import ShapeComposer, compose, config_dir, flatten, mask_secrets, resolve
from runner.data import Corpus
from runner.errors import UserError

GROUPS = ("dataset", "embedding", "reducer", "clusterer", "vectorizer", "representation", "tracking", "paths",
          "topics", "metrics")


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))


def test_default_config_composes_with_the_documented_defaults() -> None:
    cfg = resolve(compose())
    assert cfg.dataset.name == "lee"
    assert cfg.reducer._target_ == "umap.UMAP"
    assert (cfg.reducer.n_neighbors, cfg.reducer.n_components, cfg.reducer.min_dist, cfg.reducer.metric) == \
        (15, 5, 0.0, "cosine")
    assert cfg.clusterer.cluster_selection_method == "eom" and cfg.clusterer.prediction_data is True
    assert cfg.vectorizer.stop_words == "english"
    assert cfg.topics.nr_topics is None and cfg.topics.outliers.strategy == "none"


def example_files(directory: Path) -> dict[str, Path]:
    """One small input file per option that needs a path."""
    frame = pd.DataFrame({"text": ["hello world", "second document"]})
    files = {fmt: directory / f"corpus.{fmt}" for fmt in ("csv", "tsv", "jsonl", "txt", "parquet")}
    frame.to_csv(files["csv"], index=False)
    frame.to_csv(files["tsv"], index=False, sep="\t")
    frame.to_json(files["jsonl"], orient="records", lines=True)
    files["txt"].write_text("hello world\nsecond document\n", encoding="utf-8")
    frame.to_parquet(files["parquet"])
    files["precomputed"] = directory / "vectors.npy"
    np.save(files["precomputed"], np.zeros((2, 4), dtype=np.float32))
    return files


@pytest.mark.parametrize("group", GROUPS)
def test_every_option_composes_and_instantiates(group: str, tmp_path: Path) -> None:
    files = example_files(tmp_path)
    for option in options(group):
        overrides = [f"{group}={option}"] + ([f"{group}.path={files[option]}"] if option in files else [])
        cfg = resolve(compose(overrides))
        node = cfg[group]
        for sub in ("ctfidf", "model") if group == "representation" else (None,):
            target_node = node if sub is None else node[sub]
            if target_node is not None and "_target_" in target_node:
                built = instantiate(target_node)
                assert built is not None
                if group == "dataset":
                    assert isinstance(built, Corpus) and len(built) >= 1


@pytest.mark.parametrize("language", options("language"))
def test_every_language_composes_and_instantiates(language: str) -> None:
    cfg = resolve(compose([f"language={language}"]))
    for group in ("embedding", "vectorizer", "clusterer", "reducer"):
        assert instantiate(cfg[group]) is not None


def test_language_zh_sets_the_chinese_defaults_and_leaves_explicit_choices_alone() -> None:
    cfg = resolve(compose(["language=zh"]))
    assert cfg.topics.language == "chinese"
    assert cfg.vectorizer._target_ == "runner.stages.jieba_tokens.JiebaVectorizer" and cfg.vectorizer.stop_words == "zh"
    assert cfg.embedding.model == "BAAI/bge-small-zh-v1.5" and cfg.embedding.fallback == "e5"
    assert cfg.clusterer.cluster_selection_method == "leaf" and cfg.topics.outliers.strategy == "embeddings"
    chosen = resolve(compose(["language=zh", "embedding=hf_transformer", "embedding.model=bert-base-chinese",
                              "clusterer=kmeans", "topics.outliers.strategy=none"]))
    assert chosen.embedding._target_ == "runner.stages.embed.TransformerEmbedder"
    assert chosen.embedding.model == "bert-base-chinese" and chosen.clusterer._target_ == "sklearn.cluster.KMeans"
    assert chosen.vectorizer._target_ == "runner.stages.jieba_tokens.JiebaVectorizer"
    assert chosen.topics.outliers.strategy == "none"
    assert resolve(compose()).topics.language == "english"


def test_value_overrides_reach_the_config() -> None:
    cfg = resolve(compose(["reducer=pca", "clusterer=kmeans", "clusterer.n_clusters=7", "topics.nr_topics=auto"]))
    assert cfg.reducer._target_ == "sklearn.decomposition.PCA"
    assert cfg.clusterer.n_clusters == 7 and cfg.topics.nr_topics == "auto"


def test_unknown_group_option_lists_the_available_ones() -> None:
    with pytest.raises(UserError,
                       match=r"Could not find 'clusterer/optics'.*available options .*dbscan, hdbscan, hdbscan_leaf, kmeans"):
        compose(["clusterer=optics"])


def test_unknown_key_and_bad_syntax_are_user_errors() -> None:
    with pytest.raises(UserError, match="unknown config key 'reducer.min_dsit'"):
        compose(["reducer.min_dsit=0.1"])
    with pytest.raises(UserError, match="Error parsing override"):
        compose(["reducer.min_dist=="])


def test_missing_required_value_names_the_key() -> None:
    with pytest.raises(UserError, match="dataset.path"):
        resolve(compose(["dataset=csv"]))


def test_allow_list_refuses_other_targets() -> None:
    with pytest.raises(UserError, match="_target_ 'os.system' is not allowed"):
        instantiate({"_target_": "os.system", "command": "echo hi"})


def test_flatten_gives_dotted_string_params_with_masked_secrets() -> None:
    flat = flatten(OmegaConf.create({"a": {"b": 1, "c": [1, 2], "d": None},
                                     "storage": "postgresql://user:s3cret@db:5432/optuna"}))
    assert flat == {"a.b": "1", "a.c": "[1, 2]", "a.d": "null", "storage": "postgresql://user:***@db:5432/optuna"}


def test_mask_secrets_leaves_urls_without_passwords_alone() -> None:
    assert mask_secrets("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert "pw" not in mask_secrets("error connecting to mysql+pymysql://root:pw@host/db")


SHAPED = [
    [],
    ["reducer.min_dist=0.1", "clusterer.min_cluster_size=7", "topics.nr_topics=null"],
    ["dataset=lee", "embedding=hashing", "topics.nr_topics=auto", "reducer.random_state=3"],
    ["clusterer=kmeans", "clusterer.n_clusters=5"],
    ["+metrics.window_size.c_npmi=10", "metrics.top_n=10", "metrics.coherence=[c_npmi,c_v]"],
    ["model=lda", "model.num_topics=7"],
    ["dataset.name='a b'", "reducer.min_dist=0.25", "reducer.min_dist=0.5"],
]


def test_the_shape_composer_gives_what_compose_gives_and_keeps_its_shapes_clean() -> None:
    composer = ShapeComposer()
    for overrides in [*SHAPED, *SHAPED]:   # the second pass reuses every shape: no value leaks between calls
        assert OmegaConf.to_container(composer(overrides)) == OmegaConf.to_container(compose(overrides)), overrides
    assert len(composer._shapes) == 5   # defaults (every value-only list), lee+hashing, kmeans, +window, lda


@pytest.mark.parametrize(("overrides", "message"), [
    (["reducer.nope=1"], "unknown config key 'reducer.nope'"),
    (["clusterer.min_cluster_size=abc"], r"clusterer.min_cluster_size=abc: expected an integer \(the default is 10\)"),
    (["clusterer=nope"], "Could not find 'clusterer/nope'"),
])
def test_the_shape_composer_refuses_what_compose_refuses(overrides: list[str], message: str) -> None:
    with pytest.raises(UserError, match=message):
        compose(overrides)
    with pytest.raises(UserError, match=message):
        ShapeComposer()(overrides)
