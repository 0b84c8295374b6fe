"""Embedders: the packaged MiniLM, a tiny random BERT (cls/mean pooling, long texts), precomputed, hashing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runner.errors import UserError
from runner.stages.embed import (
    HashingEmbedder,
    PrecomputedEmbedder,
    SentenceTransformerEmbedder,
    TransformerEmbedder,
    packaged_minilm_dir,
    resolve_model,
)

TEXTS = ["the cat sat on the mat", "stock markets fell sharply today", "the cat ran"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT with a word-level vocabulary, saved like a hub model."""
    from transformers import BertConfig, BertModel, BertTokenizer

    directory = tmp_path_factory.mktemp("tiny-bert")
    words = sorted({w for text in TEXTS for w in text.split()} | {"long"})
    vocab = directory / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n", encoding="utf-8")
    BertTokenizer(str(vocab)).save_pretrained(directory)
    config = BertConfig(vocab_size=5 + len(words), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16)
    BertModel(config).save_pretrained(directory)
    return directory


def test_minilm_name_falls_back_to_the_packaged_copy_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    source = resolve_model("sentence-transformers/all-MiniLM-L6-v2", None, packaged_fallback=True)
    assert Path(source.location) == packaged_minilm_dir()
    assert set(source.identity) == {"directory_hash"}


def test_unknown_hub_model_offline_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UserError, match="cannot load model 'someone/missing-model'"):
        resolve_model("someone/missing-model", None, packaged_fallback=True)


def test_sentence_transformer_by_local_directory_embeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    by_dir = SentenceTransformerEmbedder(model=str(packaged_minilm_dir()), device="cpu")
    by_name = SentenceTransformerEmbedder(model="all-MiniLM-L6-v2", device="cpu")
    vectors = by_dir.embed(TEXTS)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(by_name.embed(TEXTS), vectors, atol=1e-6)
    assert by_dir.fingerprint() == by_name.fingerprint()
    cosine = vectors @ vectors.T / np.outer(np.linalg.norm(vectors, axis=1), np.linalg.norm(vectors, axis=1))
    assert cosine[0, 2] > cosine[0, 1]  # the two cat sentences are closer than cat vs markets
    truncated = SentenceTransformerEmbedder(model=str(packaged_minilm_dir()), device="cpu", max_seq_length=4)
    assert truncated.fingerprint() != by_dir.fingerprint()


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_transformer_pooling(tiny_bert: Path, pooling: str) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    embedder = TransformerEmbedder(model=str(tiny_bert), pooling=pooling, max_length=16, device="cpu")
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (3, 16)
    tokenizer, model = AutoTokenizer.from_pretrained(tiny_bert), AutoModel.from_pretrained(tiny_bert).eval()
    with torch.inference_mode():
        hidden = model(**tokenizer(TEXTS[0], return_tensors="pt")).last_hidden_state[0]
    expected = hidden[0] if pooling == "cls" else hidden.mean(dim=0)
    np.testing.assert_allclose(vectors[0], expected.numpy(), atol=1e-5)


def test_chunk_mean_averages_windows_of_long_documents(tiny_bert: Path) -> None:
    long_text = " ".join(["long"] * 20 + ["cat"] * 5)  # 25 tokens, 6 windows of 4 (max_length 6 - 2 special)
    chunked = TransformerEmbedder(model=str(tiny_bert), pooling="mean", max_length=6, long_text="chunk_mean",
                                  device="cpu")
    truncated = TransformerEmbedder(model=str(tiny_bert), pooling="mean", max_length=6, device="cpu")
    windows = [" ".join(long_text.split()[i:i + 4]) for i in range(0, 25, 4)]
    expected = truncated.embed(windows).mean(axis=0)
    np.testing.assert_allclose(chunked.embed([long_text])[0], expected, atol=1e-5)
    assert not np.allclose(truncated.embed([long_text])[0], expected, atol=1e-3)


def test_transformer_model_directory_without_tokenizer_is_a_user_error(tiny_bert: Path, tmp_path: Path) -> None:
    from transformers import AutoModel

    AutoModel.from_pretrained(tiny_bert).save_pretrained(tmp_path)
    with pytest.raises(UserError, match="has no usable tokenizer"):
        TransformerEmbedder(model=str(tmp_path), device="cpu").embed(["x"])


def test_transformer_max_length_above_the_model_limit_is_refused(tiny_bert: Path) -> None:
    with pytest.raises(UserError, match="exceeds the model's limit of 16"):
        TransformerEmbedder(model=str(tiny_bert), max_length=64, device="cpu").embed(["x"])


def test_precomputed_embeddings_must_have_one_row_per_document(tmp_path: Path) -> None:
    path = tmp_path / "e.npy"
    np.save(path, np.ones((2, 3), dtype=np.float64))
    embedder = PrecomputedEmbedder(str(path))
    assert embedder.embed(["a", "b"]).dtype == np.float32
    with pytest.raises(UserError, match=r"has shape \(2, 3\); expected \(3, dim\)"):
        embedder.embed(["a", "b", "c"])
    with pytest.raises(UserError, match="embedding file not found"):
        PrecomputedEmbedder(str(tmp_path / "missing.npy"))


def test_hashing_embedder_is_deterministic() -> None:
    first, second = HashingEmbedder(dim=32).embed(TEXTS), HashingEmbedder(dim=32).embed(TEXTS)
    np.testing.assert_array_equal(first, second)
    assert first.shape == (3, 32)
