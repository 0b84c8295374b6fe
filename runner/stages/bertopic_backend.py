"""Adapter that lets BERTopic's representations (KeyBERTInspired, MMR) embed words with our embedder."""

from __future__ import annotations

import numpy as np
from bertopic.backend import BaseEmbedder

from runner.stages.embed import Embedder


class EmbedderBackend(BaseEmbedder):
    """BERTopic embedding backend backed by a TopicSweep embedder."""

    def __init__(self, embedder: Embedder) -> None:
        super().__init__()
        self.embedder = embedder

    def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
        return self.embedder.embed(list(documents))
