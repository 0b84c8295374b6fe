"""English text hygiene: HTML artefacts, hyphenated words, corpus stop words, datasets named by file stem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from runner.build import instantiate
from runner.config import compose, resolve
from runner.errors import UserError
from runner.pipeline import Session
from runner.stages.jieba_tokens import JiebaVectorizer
from runner.stages.topics import ctfidf_clean
from runner.stages.vectorize import RegexVectorizer
from tests.conftest import CliRunner

RAW_NEWS = "third-quarter profits at peer-to-peer firms &lt;b&gt;rose&lt;/b&gt; #39;s"
ARTEFACTS = {"thirdquarter", "peertopeer", "lta", "ltbgt", "ltbgtroseltbgt", "39s", "quot", "amp", "lt", "gt", "href"}


def pipeline_tokens(tmp_path: Path, *overrides: str) -> list[str]:
    """Tokens of RAW_NEWS as a run computes them: loaded (cleaned) from a tsv, then the pipeline's tokenization."""
    path = tmp_path / "news.tsv"
    path.write_text(f"text\n{RAW_NEWS}\n", encoding="utf-8")
    cfg = resolve(compose(["dataset=tsv", f"dataset.path={path}", "embedding=hashing", "tracking=none", *overrides]))
    corpus = instantiate(cfg.dataset)
    tokens, _ = Session(tmp_path / "cache")._tokens(cfg, instantiate(cfg.vectorizer), corpus.texts,
                                                     corpus.content_hash)
    return tokens[0]


def test_hyphenated_words_split_and_markup_is_gone_from_the_tokens(tmp_path: Path) -> None:
    tokens = pipeline_tokens(tmp_path, "vectorizer.stop_words=null")
    assert {"third", "quarter", "peer", "profits", "firms", "rose"} <= set(tokens)
    assert not ARTEFACTS & set(tokens)
    with_stop_words = pipeline_tokens(tmp_path)  # "third" is an English stop word
    assert {"quarter", "peer", "rose"} <= set(with_stop_words) and not ARTEFACTS & set(with_stop_words)


def test_the_hyphen_rule_is_english_only_and_part_of_the_token_cache_key(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert ctfidf_clean(["新冠-疫情 A/B 测试"], "chinese") == ["新冠-疫情 A/B 测试"]
    assert ctfidf_clean(["U.S.-China trade/tariff talks--again"], "english") == ["USChina trade tariff talks again"]
    cfg = resolve(compose(["embedding=hashing", "tracking=none"]))
    session, vectorizer = Session(tmp_path / "cache"), instantiate(cfg.vectorizer)
    _, key = session._tokens(cfg, vectorizer, ["a-b c"], "hash")
    monkeypatch.setattr("runner.pipeline.CLEAN_RULES", {"english": "another-rule"})
    assert session._tokens(cfg, vectorizer, ["a-b c"], "hash")[1] != key


def test_extra_stop_words_from_a_list_or_a_file(tmp_path: Path) -> None:
    words = tmp_path / "corpus_stop_words.txt"
    words.write_text("Reuters\n\nsaid\n", encoding="utf-8")
    text = ["Reuters said profits at REUTERS rose"]
    for extra in (["reuters", "Said"], str(words)):
        vectorizer = RegexVectorizer(extra_stop_words=extra)
        assert vectorizer.tokenize(text) == [["profits", "rose"]]
        assert vectorizer.token_settings() != RegexVectorizer().token_settings()
    assert RegexVectorizer(extra_stop_words=str(words)).token_settings() == \
        RegexVectorizer(extra_stop_words=["reuters", "said"]).token_settings()
    assert RegexVectorizer().tokenize(text) == [["reuters", "said", "profits", "reuters", "rose"]]

    headline = ["新华社报道经济增长"]
    plain = JiebaVectorizer(stop_words=None).tokenize(headline)[0]
    assert "新华社" in plain
    chinese_words = tmp_path / "zh_extra.txt"
    chinese_words.write_text("新华社\n", encoding="utf-8")
    jieba = JiebaVectorizer(stop_words=None, extra_stop_words=str(chinese_words))
    assert jieba.tokenize(headline)[0] == [token for token in plain if token != "新华社"]
    assert jieba.token_settings() != JiebaVectorizer(stop_words=None).token_settings()


def test_a_missing_extra_stop_word_file_is_a_user_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope_stop_words.txt"
    cfg = resolve(compose([f"vectorizer.extra_stop_words={missing}"]))
    with pytest.raises(UserError, match=r"extra stop-word file not found: .*nope_stop_words\.txt "
                                        r"\(vectorizer\.extra_stop_words"):
        instantiate(cfg.vectorizer)


def news_corpus(path: Path) -> Path:
    """60 short news texts in three themes, carrying hyphenated words, entities, tags and agency boilerplate."""
    themes = [
        ("third-quarter profits at the peer-to-peer lender rose, Reuters said. &lt;b&gt;Shares&lt;/b&gt; of "
         "Microsoft#39;s rival jumped", ["earnings", "revenue", "investors", "dividend", "forecast"]),
        ("the world-class striker scored twice as the home-grown side won the cup-tie, AP said &amp;quot;great"
         "&amp;quot;", ["goal", "league", "coach", "stadium", "season"]),
        ("the long-range probe sent close-up images of the ice-covered moon &lt;a href=\"http://nasa.gov\"&gt;"
         "Reuters&lt;/a&gt;", ["orbit", "telescope", "astronauts", "mission", "rocket"]),
    ]
    rows = [f"{text} {' '.join(extra[i % 5:] + extra[:i % 5])} {extra[(i * 3) % 5]}"
            for i in range(20) for text, extra in themes]
    path.write_text("text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_run_on_raw_news_gives_clean_topic_words_and_names_the_dataset_by_its_file(
        cli: CliRunner, tmp_path: Path, output_dir: Path) -> None:
    path = news_corpus(tmp_path / "raw_news_sample.tsv")
    done = cli("run", "dataset=tsv", f"dataset.path={path}", "embedding=hashing", "reducer=pca", "clusterer=kmeans",
               "clusterer.n_clusters=3", "vectorizer.extra_stop_words=[reuters,ap,said]")
    assert done.returncode == 0, done.stderr
    assert "dataset=raw_news_sample" in done.stderr
    run_dir = Path(next(line for line in done.stdout.splitlines()
                        if line.startswith("run directory:")).split(":", 1)[1].strip())
    assert run_dir.name.startswith("raw_news_sample-")
    words = {word for topic in json.loads((run_dir / "topic_words.json").read_text()).values() for word in topic}
    assert {"peer", "cup", "tie", "long", "range"} <= words  # parts of peer-to-peer, cup-tie, long-range
    glued = {"thirdquarter", "peertopeer", "worldclass", "homegrown", "cuptie", "longrange", "closeup", "icecovered"}
    assert not words & (ARTEFACTS | glued | {"reuters", "ap", "said", "microsoft39s", "nasagov"})

    client = MlflowClient(tracking_uri=f"sqlite:///{output_dir / 'mlflow.db'}")
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    (run,) = client.search_runs(experiments)
    assert run.info.run_name == run_dir.name and run.data.tags["dataset"] == "raw_news_sample"
