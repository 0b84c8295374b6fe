"""c-TF-IDF of document clusters over the cached tokens (BERTopic's ClassTfidfTransformer)."""

from __future__ import annotations

import numpy as np


def _tokens_as_they_are(tokens: list[str]) -> list[str]:
    return tokens


def cluster_tfidf(tokens: list[list[str]], labels: np.ndarray, n_clusters: int) -> tuple[np.ndarray, list[str]]:
    """(clusters × vocabulary) c-TF-IDF and the vocabulary, for labels ``0..n_clusters-1``.

    Each cluster's documents are joined into one class document, as BERTopic does, and weighted
    by BERTopic's ``ClassTfidfTransformer`` (default settings), so topic words come from the same
    token stream as the coherence reference.
    """
    import scipy.sparse as sp
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(analyzer=_tokens_as_they_are)
    counts = vectorizer.fit_transform(tokens)
    membership = sp.csr_matrix((np.ones(len(labels)), (np.asarray(labels), np.arange(len(labels)))),
                               shape=(n_clusters, len(labels)))
    weights = ClassTfidfTransformer().fit_transform(membership @ counts)
    return np.asarray(weights.toarray()), list(vectorizer.get_feature_names_out())
