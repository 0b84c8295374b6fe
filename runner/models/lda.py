"""``model=lda``: latent Dirichlet allocation (gensim's LdaModel) on the cached tokens."""

from __future__ import annotations

from typing import Any


from runner.errors import UserError
from runner.models.base import ModelInputs, result_from_scores
from runner.stages.topics import TopicModelResult


def check_num_topics(num_topics: Any, n_documents: int | None = None) -> int:
    """``model.num_topics`` as an integer from 2 to the number of documents, else a UserError."""
    if isinstance(num_topics, bool) or not isinstance(num_topics, int) or num_topics < 2:
        raise UserError(f"model.num_topics must be an integer of at least 2, not {num_topics!r}")
    if n_documents is not None and num_topics > n_documents:
        raise UserError(f"model.num_topics={num_topics} is more than the corpus's {n_documents} documents")
    return num_topics


class LdaTopicModel:
    """gensim ``LdaModel`` (single process, so a seed gives the same topics on every run).

    A document's topic is the largest entry of its topic proportions θ; documents with no word in
    the vocabulary are outliers (-1).
    """

    def __init__(self, num_topics: int = 20, passes: int = 10, iterations: int = 100, alpha: Any = "symmetric",
                 eta: Any = None, chunksize: int = 2000, random_state: int = 42, name: str = "lda") -> None:
        self.num_topics = check_num_topics(num_topics)
        self.settings = {"passes": passes, "iterations": iterations, "alpha": alpha, "eta": eta,
                         "chunksize": chunksize, "random_state": random_state}

    def fit(self, inputs: ModelInputs) -> TopicModelResult:
        from gensim.corpora import Dictionary
        from gensim.models import LdaModel

        check_num_topics(self.num_topics, len(inputs.tokens))
        dictionary = Dictionary(inputs.tokens)
        if len(dictionary) == 0:
            raise UserError("model=lda: the corpus has no tokens after the vectorizer (check vectorizer.stop_words)")
        bows = [dictionary.doc2bow(doc) for doc in inputs.tokens]
        model = LdaModel(corpus=bows, id2word=dictionary, num_topics=self.num_topics, **self.settings)
        gamma, _ = model.inference(bows)
        theta = gamma / gamma.sum(axis=1, keepdims=True)
        theta[[not bow for bow in bows]] = 0.0  # no known word: an outlier, not the prior's argmax
        vocabulary = [dictionary[i] for i in range(len(dictionary))]
        return result_from_scores(theta, model.get_topics(), vocabulary, inputs.corpus.texts, inputs.top_n_words)
