"""Benchmark: ETM's topics vs LDA's on BBC News (2,225 documents) at the same topic count.

Runs ``model=lda`` and ``model=etm`` through the pipeline (same cached tokens, same metrics, same
coherence reference) and prints NPMI, C_V, topic diversity, NMI and the time of each.

Usage::

    python scripts/bench_etm.py [--topics 10] [--epochs 20] [--cache /tmp/bench-etm-cache] [etm overrides ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runner.config import compose, resolve
from runner.pipeline import Session

BBC = ROOT.parent / "shared" / "data" / "bbc_news_octis.tsv"
COLUMNS = ("coherence_npmi", "coherence_cv", "diversity", "nmi")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/bench-etm-cache"))
    parser.add_argument("overrides", nargs="*", help="extra overrides for the ETM run, e.g. model.hidden_size=400")
    args = parser.parse_args()
    dataset = ["dataset=tsv", f"dataset.path={BBC}", "dataset.text_column=0", "dataset.label_column=2",
               "tracking=none", f"model.num_topics={args.topics}"]
    session = Session(args.cache)
    print(f"| model | {' | '.join(COLUMNS)} | seconds |\n|---|{'---|' * len(COLUMNS)}---|")
    for model in (["model=lda"], ["model=etm", f"model.epochs={args.epochs}", *args.overrides]):
        cfg = resolve(compose([model[0], *dataset, *model[1:]]))
        start = time.perf_counter()
        metrics = session.run(cfg).metrics
        cells = " | ".join(f"{metrics[name]:.4f}" for name in COLUMNS)
        print(f"| {' '.join(model)} | {cells} | {time.perf_counter() - start:.1f} |", flush=True)


if __name__ == "__main__":
    main()
