"""DEC against k-means on the same document embeddings of the BBC corpus (NMI/ARI over seeds).

Usage: python scripts/bench_dec.py [--embedding tfidf_svd] [--seeds 3] [override ...]

Extra arguments are config overrides for the DEC run (e.g. model.pretrain_epochs=50). Prints a
Markdown table: k-means (n_init 20) on the embeddings, k-means on the pre-trained autoencoder's
codes (DEC's initialisation) and DEC after KL fine-tuning, as mean ± sd over seeds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from runner.config import compose, resolve
from runner.models.autoencoder import encode, pretrained_autoencoder
from runner.models.dec import DecTopicModel
from runner.pipeline import Session

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc_news_octis.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedding", default="tfidf_svd")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cache", default="outputs/cache")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    rows: dict[str, list[tuple[float, float]]] = {"k-means on embeddings": [], "k-means on AE codes": [], "DEC": []}
    seconds: list[float] = []
    for seed in range(args.seeds):
        cfg = resolve(compose(["model=dec", "tracking=none", "dataset=tsv", f"dataset.path={BBC}",
                               "dataset.text_column=0", "dataset.label_column=2", f"embedding={args.embedding}",
                               "model.num_topics=5", f"model.random_state={seed}", *args.overrides]))
        session = Session(Path(args.cache))
        corpus = session.corpus(cfg)
        _, _, embeddings = session._embedding(cfg, corpus)
        gold = corpus.labels

        def score(labels: np.ndarray, gold: list = gold) -> tuple[float, float]:
            return normalized_mutual_info_score(gold, labels), adjusted_rand_score(gold, labels)

        rows["k-means on embeddings"].append(score(KMeans(5, n_init=20, random_state=seed).fit_predict(embeddings)))
        start = time.perf_counter()
        result = session.run(cfg)
        seconds.append(time.perf_counter() - start)
        model = DecTopicModel(**{k: v for k, v in cfg.model.items() if k != "_target_"})
        encoder, _ = pretrained_autoencoder(np.asarray(embeddings), model.autoencoder, session.cache)  # cached
        codes = encode(encoder, np.asarray(embeddings))
        rows["k-means on AE codes"].append(score(KMeans(5, n_init=20, random_state=seed).fit_predict(codes)))
        rows["DEC"].append((result.metrics["nmi"], result.metrics["ari"]))
    print(f"BBC ({len(gold)} documents, 5 classes), embedding={args.embedding}, {args.seeds} seeds, "
          f"DEC {statistics.mean(seconds):.0f} s per run\n")
    print("| method | NMI | ARI |\n|---|---|---|")
    for method, scores in rows.items():
        cells = [f"{statistics.mean(v):.3f} ± {statistics.pstdev(v):.3f}" for v in zip(*scores)]
        print(f"| {method} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
