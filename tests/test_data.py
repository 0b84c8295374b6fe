"""Loading corpora: formats, columns, cleaning, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from runner.data import load_corpus, load_lee_background
from runner.errors import UserError


def test_lee_background_is_the_bundled_demo_corpus() -> None:
    corpus = load_lee_background()
    assert len(corpus) == 300
    assert corpus.labels is None
    assert corpus.texts[0].startswith("Hundreds of people have been forced")
    assert corpus.content_hash == load_lee_background().content_hash


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
def test_table_formats_read_text_label_and_timestamp(tmp_path: Path, fmt: str) -> None:
    frame = pd.DataFrame({"body": ["first doc", "  ", "third, doc"], "cat": ["a", "b", "c"],
                          "when": ["2020", "2021", "2022"]})
    path = tmp_path / f"corpus.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(row) for row in frame.to_dict("records")), encoding="utf-8")
    else:
        frame.to_parquet(path)
    corpus = load_corpus(str(path), text_column="body", label_column="cat", timestamp_column="when")
    assert corpus.texts == ["first doc", "third, doc"]
    assert corpus.labels == ["a", "c"]
    assert corpus.timestamps == ["2020", "2022"]
    assert corpus.dropped == 1
    assert corpus.name == "corpus"


def test_positional_columns_mean_no_header_row(tmp_path: Path) -> None:
    path = tmp_path / "corpus.tsv"
    path.write_text("alpha beta\ttrain\tsport\ngamma \"quoted\tval\tpolitics\n", encoding="utf-8")
    corpus = load_corpus(str(path), format="tsv", text_column=0, label_column=2)
    assert corpus.texts == ["alpha beta", 'gamma "quoted']
    assert corpus.labels == ["sport", "politics"]


def test_txt_is_one_document_per_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.txt"
    path.write_text("one\n\ntwo three\n", encoding="utf-8")
    corpus = load_corpus(str(path), format="txt", text_column=None)
    assert corpus.texts == ["one", "two three"]
    assert corpus.dropped == 1


def test_min_chars_drops_short_documents(tmp_path: Path) -> None:
    path = tmp_path / "docs.txt"
    path.write_text("ok\na much longer document\n", encoding="utf-8")
    assert load_corpus(str(path), min_chars=5).texts == ["a much longer document"]


def test_content_hash_changes_with_the_texts(tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("one\ntwo\n", encoding="utf-8")
    second.write_text("one\ntwo!\n", encoding="utf-8")
    assert load_corpus(str(first)).content_hash != load_corpus(str(second)).content_hash


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"dataset file not found: .*nope\.csv"):
        load_corpus(str(tmp_path / "nope.csv"))


def test_missing_column_lists_the_available_ones(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("text,label\nhello,a\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"column 'body' \(dataset.text_column\) not found .* text, label"):
        load_corpus(str(path), text_column="body")
    with pytest.raises(UserError, match=r"dataset.label_column=5 is out of range: .* 2 columns"):
        load_corpus(str(path), format="csv", text_column=0, label_column=5, header=True)


def test_non_utf8_file_suggests_an_encoding(tmp_path: Path) -> None:
    path = tmp_path / "zh.csv"
    path.write_bytes("text\n中文新闻标题\n".encode("gb18030"))
    with pytest.raises(UserError, match=r"not valid utf-8 .*dataset.encoding=gb18030"):
        load_corpus(str(path))
    assert load_corpus(str(path), encoding="gb18030").texts == ["中文新闻标题"]


def test_empty_corpus_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(UserError, match="no documents in"):
        load_corpus(str(path))


def test_unknown_format_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "corpus.xlsx"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(UserError, match="cannot tell the format"):
        load_corpus(str(path))
    with pytest.raises(UserError, match="unknown dataset.format 'xml'"):
        load_corpus(str(path), format="xml")


def test_html_entities_double_escapes_bare_remnants_and_tags_are_cleaned(tmp_path: Path) -> None:
    path = tmp_path / "news.txt"
    path.write_text("Microsoft&#39;s &lt;b&gt;profit&lt;/b&gt; rose\n"
                    "Wall Street&amp;#39;s &amp;quot;bears&amp;quot;\n"
                    "Oil at #36;46 a barrel, Dell#39;s lt;a href=\"http://x\"&gt;Reuters&lt;/a&gt;\n"
                    "<p><!-- ad --></p>\n"
                    "R&D at AT&T: 3 < 4 and salt; pepper\n", encoding="utf-8")
    corpus = load_corpus(str(path))
    assert corpus.texts == ["Microsoft's  profit  rose", "Wall Street's \"bears\"",
                            "Oil at $46 a barrel, Dell's  Reuters", "R&D at AT&T: 3 < 4 and salt; pepper"]
    assert corpus.dropped == 1  # the line that was only markup
    raw = load_corpus(str(path), clean={"html": False})
    assert raw.texts[0] == "Microsoft&#39;s &lt;b&gt;profit&lt;/b&gt; rose" and raw.dropped == 0
    assert raw.content_hash != corpus.content_hash


@pytest.mark.parametrize("urls, emails", [(False, False), (True, False), (False, True), (True, True)])
def test_urls_and_emails_are_removed_only_when_asked(tmp_path: Path, urls: bool, emails: bool) -> None:
    path = tmp_path / "web.txt"
    path.write_text("see https://example.com/a?b=1, www.example.org or write to desk@news.example.co.uk.\n",
                    encoding="utf-8")
    text = load_corpus(str(path), clean={"urls": urls, "emails": emails}).texts[0]
    assert ("https://example.com/a?b=1" in text and "www.example.org" in text) is not urls
    assert ("desk@news.example.co.uk" in text) is not emails
    assert text.startswith("see") and text.endswith(".")


def test_bad_clean_options_are_user_errors(tmp_path: Path) -> None:
    path = tmp_path / "docs.txt"
    path.write_text("one\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"unknown key dataset.clean.tags; use html, urls, emails"):
        load_corpus(str(path), clean={"tags": True})
    with pytest.raises(UserError, match=r"dataset.clean.urls must be true or false, not 'yes please'"):
        load_corpus(str(path), clean={"urls": "yes please"})


def test_file_datasets_are_named_after_the_file_stem(tmp_path: Path) -> None:
    from runner.build import instantiate
    from runner.config import compose, resolve
    from runner.data import dataset_name

    path = tmp_path / "ag_news_sample.tsv"
    path.write_text("text\nfirst &amp; second\n", encoding="utf-8")
    cfg = resolve(compose(["dataset=tsv", f"dataset.path={path}"]))
    assert cfg.dataset.name is None and cfg.dataset.clean.html is True
    assert dataset_name(cfg.dataset) == "ag_news_sample"
    corpus = instantiate(cfg.dataset)
    assert corpus.name == "ag_news_sample" and corpus.texts == ["first & second"]
    named = resolve(compose(["dataset=tsv", f"dataset.path={path}", "dataset.name=agnews"]))
    assert dataset_name(named.dataset) == "agnews" and instantiate(named.dataset).name == "agnews"
    assert instantiate(resolve(compose([])).dataset).name == "lee"
