"""Evaluation you can publish: the BERTopic-paper preset, its report, compat mode, seeds and a held-out reference."""

from __future__ import annotations

import logging
import math
import random
import statistics
from pathlib import Path

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from runner.config import compose, resolve
from runner.errors import UserError
from runner.evaluate import bertopic_paper_words
from runner.pipeline import Session
from runner.protocol import pooled
from runner.sweep import grid_search_space
from tests.conftest import BBC, CliRunner, shared_corpus


def test_pooled_sd_is_the_sd_over_all_runs() -> None:
    rng = random.Random(3)
    groups = [[rng.gauss(0.15, 0.02) for _ in range(3)] for _ in range(5)]
    summary = pooled([(statistics.fmean(g), statistics.stdev(g), 3) for g in groups])
    every = [value for g in groups for value in g]
    assert summary.runs == 15
    assert summary.mean == pytest.approx(statistics.fmean(every), abs=1e-12)
    assert summary.sd == pytest.approx(statistics.stdev(every), abs=1e-12)
    assert pooled([(0.2, None, 1), (0.4, None, 1)]).sd == pytest.approx(statistics.stdev([0.2, 0.4]))


def test_grid_sampler_gets_the_grid_of_params() -> None:
    grid = grid_search_space({"topics.nr_topics": CategoricalDistribution([10, 20, None]),
                              "clusterer.min_samples": IntDistribution(1, 7, step=3)})
    assert grid == {"topics.nr_topics": [10, 20, None], "clusterer.min_samples": [1, 4, 7]}
    with pytest.raises(UserError, match="reducer.min_dist: GridSampler needs a finite set"):
        grid_search_space({"reducer.min_dist": FloatDistribution(0.0, 0.5)})


def test_compat_words_replace_missing_and_pad_like_the_paper(caplog: pytest.LogCaptureFixture) -> None:
    reference = [["firstword", "oil"], ["price", "market"]]
    with caplog.at_level(logging.WARNING):
        words = bertopic_paper_words([["oil", "zzz", "price"], ["market"]], reference, top_k=4)
        bertopic_paper_words([["oil"]], reference, top_k=4)
    assert words == [["oil", "firstword", "price", "firstword"], ["market", "firstword", "firstword", "firstword"]]
    warned = [r for r in caplog.records if "metrics.compat=bertopic_paper" in r.getMessage()]
    assert len(warned) == 1 and "\n" not in warned[0].getMessage() and "'firstword'" in warned[0].getMessage()


@pytest.fixture(scope="module")
def lee_halves(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo corpus split in two halves: one to fit topics on, one held out as coherence reference."""
    from runner.data import load_lee_background

    texts = load_lee_background().texts
    folder = tmp_path_factory.mktemp("lee")
    fit, held_out = folder / "fit.txt", folder / "held_out.txt"
    fit.write_text("\n".join(texts[::2]) + "\n", encoding="utf-8")
    held_out.write_text("\n".join(texts[1::2]) + "\n", encoding="utf-8")
    return fit, held_out


def test_held_out_reference_scores_topics_on_unseen_text(lee_halves: tuple[Path, Path], session_cache: Path,
                                                         tmp_path: Path) -> None:
    fit, held_out_half = lee_halves
    session = Session(session_cache)
    base = ["dataset=txt", f"dataset.path={fit}", "embedding=hashing", "clusterer.min_cluster_size=5",
            "metrics.coherence=[c_npmi]", f"paths.output_dir={tmp_path}", f"paths.cache_dir={session_cache}"]
    fitted = session.run(resolve(compose(base)))
    own = fitted.metrics
    # Which topic words the held-out half lacks depends on the topics found (UMAP's floating point differs
    # between CPUs): the reference leaves out every held-out document with one of them, so some word is missing.
    absent = next(w for t in sorted(fitted.topics.words) for w in fitted.topics.words[t] if w.isalpha())
    held_out = tmp_path / "held_out.txt"
    held_out.write_text("\n".join(line for line in held_out_half.read_text(encoding="utf-8").splitlines()
                                  if absent not in line.lower()) + "\n", encoding="utf-8")
    held = session.run(resolve(compose([*base, f"metrics.reference={held_out}"]))).metrics
    paper = session.run(resolve(compose([*base, f"metrics.reference={held_out}",
                                         "metrics.compat=bertopic_paper"]))).metrics
    assert own["coherence_missing_words"] == 0            # every topic word is in the corpus it was fit on
    assert held["coherence_missing_words"] >= 1            # the reference lacks some of them: really used
    assert not math.isclose(held["coherence_npmi"], own["coherence_npmi"])
    assert held["diversity"] == own["diversity"]           # the reference never changes the topic words
    # compat: the missing words become the reference's first word, so none is missing and TD cannot rise
    # (it drops once two words are replaced; test_compat_words_replace_missing_and_pad_like_the_paper)
    assert paper["coherence_missing_words"] == 0 and paper["diversity"] <= held["diversity"]
    assert not math.isclose(paper["coherence_npmi"], held["coherence_npmi"])


def test_bertopic_paper_preset_on_a_reduced_grid(cli: CliRunner, output_dir: Path) -> None:
    """The CI run of the preset: one nr_topics, one seed (the full run is scripts/bench_protocol.py)."""
    shared_corpus(BBC)
    done = cli("sweep", "bertopic_paper_bbc", "params[topics.nr_topics]=choice(20)", "seeds=1", "n_trials=1",
               "tracking=none")
    assert done.returncode == 0, done.stderr
    assert "nr_topics=20" in done.stderr
    report = cli("best", "--study", "bertopic_paper_bbc", "--protocol", f"paths.output_dir={output_dir}")
    assert report.returncode == 0, report.stderr
    text = report.stdout
    assert "| BERTopic-MiniLM (paper) | 0.170 | 0.802 |" in text and "| LDA (paper) | 0.014 | 0.577 |" in text
    assert "| BERTopic-MiniLM (reference run) | 0.156 ± 0.009 | 0.852 ± 0.026 | 15 |" in text
    assert "| `topics.nr_topics` grid | 10, 20, 30, 40, 50 | 20 |" in text   # the reduced grid is stated
    assert "| runs per setting | 3 | 1 |" in text
    assert "replaced by the corpus's first word" in text and "bertopic_mini_*.json) record 5" in text
    folder = output_dir / "sweeps" / "bertopic_paper_bbc" / "protocol"
    assert {p.name for p in folder.iterdir()} == {"protocol.md", "protocol.tex", "protocol.csv"}
    assert r"\label{tab:bertopic-paper-bbc-protocol-differences}" in (folder / "protocol.tex").read_text()
    npmi = float(text.split("| BERTopic-MiniLM (this study) | ")[1].split(" ")[0])
    assert 0.10 < npmi < 0.20                                   # one run of nr_topics 20: near the reference


def test_best_seeds_reports_mean_sd_and_topic_stability(cli: CliRunner, output_dir: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "tiny.yaml"
    sweep.write_text("study: tiny\noverrides: [dataset=lee, embedding=hashing, 'metrics.coherence=[c_npmi]']\n"
                     "params:\n  clusterer.min_cluster_size: choice(8)\nobjectives: {coherence_npmi: maximize}\n"
                     "sampler: {_target_: optuna.samplers.GridSampler}\nn_trials: 1\n", encoding="utf-8")
    assert cli("sweep", str(sweep), "tracking=none").returncode == 0
    done = cli("best", "--study", "tiny", "--seeds", "3", f"paths.output_dir={output_dir}")
    assert done.returncode == 0, done.stderr
    assert "over UMAP seeds 42, 43, 44" in done.stdout and "overall" in done.stdout
    folder = output_dir / "sweeps" / "tiny" / "seeds"
    names = {p.name for p in folder.iterdir()}
    assert {"metrics.md", "metrics.tex", "metrics.csv", "stability.md", "stability.tex", "stability.csv",
            "stability.png"} <= names
    metrics = (folder / "metrics.md").read_text()
    assert "| NPMI | " in metrics and " ± " in metrics and "seed 44" in metrics
    rows = (folder / "stability.csv").read_text().splitlines()
    assert rows[0].startswith("topic,size,words,stability,min,seed 43,seed 44") and rows[-1].startswith("overall")
    overall = float(rows[-1].split(",")[3])
    assert 0.0 <= overall <= 1.0
    bad = cli("best", "--study", "tiny", "--seeds", "1", f"paths.output_dir={output_dir}")
    assert bad.returncode == 2 and "at least 2 seeds" in bad.stderr
