"""Topic models beside the default BERTopic pipeline: the ``model`` config group.

``model=bertopic`` (the default) is the pipeline of the other groups: embedding → reducer →
clusterer → c-TF-IDF, computed by :class:`runner.pipeline.Session`. Every other option is a
:class:`~runner.models.base.TopicModel`: it receives the cached tokens and, when it asks for them,
the cached document embeddings, and returns the same
:class:`~runner.stages.topics.TopicModelResult` as BERTopic does, so metrics, tracking, figures,
sweeps and exports treat every model alike.
"""

from runner.models.base import ModelInputs, TopicModel, is_bertopic, result_from_scores

__all__ = ["ModelInputs", "TopicModel", "is_bertopic", "result_from_scores"]
