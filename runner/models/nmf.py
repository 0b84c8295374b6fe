"""``model=nmf``: non-negative matrix factorisation (scikit-learn) of TF-IDF over the cached tokens."""

from __future__ import annotations

from typing import Any

from runner.models.base import ModelInputs, result_from_scores
from runner.models.lda import check_num_topics
from runner.stages.topics import TopicModelResult


def _tokens_as_they_are(tokens: list[str]) -> list[str]:
    return tokens


class NmfTopicModel:
    """scikit-learn ``NMF`` on TF-IDF; W gives each document's topic (largest entry), H the topic words."""

    def __init__(self, num_topics: int = 20, init: str = "nndsvda", beta_loss: str = "frobenius", max_iter: int = 400,
                 alpha_W: float = 0.0, l1_ratio: float = 0.0, random_state: int = 42,  # noqa: N803 (sklearn's name)
                 name: str = "nmf") -> None:
        self.num_topics = check_num_topics(num_topics)
        self.settings: dict[str, Any] = {"init": init, "beta_loss": beta_loss, "max_iter": max_iter, "alpha_W": alpha_W,
                                         "l1_ratio": l1_ratio, "random_state": random_state,
                                         "solver": "mu" if beta_loss != "frobenius" else "cd"}

    def fit(self, inputs: ModelInputs) -> TopicModelResult:
        from sklearn.decomposition import NMF
        from sklearn.feature_extraction.text import TfidfVectorizer

        check_num_topics(self.num_topics, len(inputs.tokens))
        tfidf = TfidfVectorizer(analyzer=_tokens_as_they_are)
        matrix = tfidf.fit_transform(inputs.tokens)
        model = NMF(n_components=self.num_topics, **self.settings)
        doc_topic = model.fit_transform(matrix)
        return result_from_scores(doc_topic, model.components_, list(tfidf.get_feature_names_out()),
                                  inputs.corpus.texts, inputs.top_n_words)
