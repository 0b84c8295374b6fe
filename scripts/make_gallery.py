"""Render the README's figure gallery (docs/figures/*.png) from the BBC corpus.

Usage (from the project root, with ../shared/data/bbc_news_octis.tsv present; embeds it with MiniLM once):

    python scripts/make_gallery.py [--dpi 70]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from runner.config import compose, resolve
from runner.figures_config import FIGURES
from runner.outputs import write_run_dir
from runner.pipeline import Session

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "bbc_news_octis.tsv"
GALLERY = ROOT / "docs" / "figures"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpi", type=int, default=70, help="PNG resolution (keeps each file small)")
    args = parser.parse_args()
    cache = ROOT / "outputs" / "cache"
    cfg = resolve(compose([
        "dataset=tsv", f"dataset.path={CORPUS}", "dataset.text_column=0", "dataset.label_column=2",
        "clusterer.min_cluster_size=15", "tracking=none", f"paths.cache_dir={cache}",
        f"outputs.figures=[{','.join(FIGURES)}]", "outputs.figure_formats=[png]", f"outputs.figure_dpi={args.dpi}"]))
    result = Session(cache).run(cfg)
    with tempfile.TemporaryDirectory() as folder:
        run_dir = write_run_dir(Path(folder) / "run", cfg, result)
        print("seconds per figure:", json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["figures_s"])
        GALLERY.mkdir(parents=True, exist_ok=True)
        for png in sorted((run_dir / "figures").glob("*.png")):
            shutil.copyfile(png, GALLERY / png.name)
            print(f"{GALLERY / png.name}: {png.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
