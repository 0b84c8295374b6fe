"""The jieba vectorizer: token filters, stop words, user dictionaries, cache key, n-grams, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import UserError
from runner.stages.jieba_tokens import JiebaVectorizer, load_stop_words

TEXTS = [
    "我们在学习自然语言处理技术，2012年的NBA总决赛！",
    "北京大学的研究生正在研究区块链金融。 3.5%  １２ ……(组图)",
    "李小福是创新办主任也是云计算方面的专家",
]


@pytest.fixture
def user_dict(tmp_path: Path) -> Path:
    path = tmp_path / "terms.txt"
    path.write_text("自然语言处理\n区块链金融 10 n\n创新办 3 i\n", encoding="utf-8")
    return path


def test_filters_punctuation_whitespace_numbers_and_short_tokens() -> None:
    tokens = JiebaVectorizer(stop_words=None).tokenize(TEXTS)
    flat = [token for doc in tokens for token in doc]
    for dropped in ("，", "！", "。", "……", "(", ")", " ", "2012", "3.5%", "１", "２", "年", "的"):
        assert dropped not in flat
    assert all(len(token) >= 2 and token.strip() == token for token in flat)
    assert tokens[0] == ["我们", "学习", "自然语言", "处理", "技术", "nba", "总决赛"]  # Latin lower-cased
    single = JiebaVectorizer(stop_words=None, min_length=1, lowercase=False).tokenize(TEXTS)[0]
    assert single == ["我们", "在", "学习", "自然语言", "处理", "技术", "年", "的", "NBA", "总决赛"]


def test_chinese_stop_words_come_from_stopwordsiso() -> None:
    import stopwordsiso

    with_stop_words = JiebaVectorizer(stop_words="zh").tokenize(TEXTS)
    flat = {token for doc in with_stop_words for token in doc}
    assert not flat & stopwordsiso.stopwords("zh")
    assert "我们" not in flat and "学习" in flat and "专家" in flat
    identity = JiebaVectorizer(stop_words="zh").token_settings()["stop_words"]
    assert identity["sources"] == [{"stopwordsiso": "zh", "version": stopwordsiso.__version__}]


def test_stop_word_file_and_combined_lists(tmp_path: Path) -> None:
    words = tmp_path / "my_stop_words.txt"
    words.write_text("组图\n专家\n\n", encoding="utf-8")
    tokens = JiebaVectorizer(stop_words=["zh", str(words)]).tokenize(TEXTS)
    flat = {token for doc in tokens for token in doc}
    assert "专家" not in flat and "我们" not in flat and "主任" in flat
    before = load_stop_words(str(words))
    assert before.words == {"组图", "专家"}
    words.write_text("组图\n", encoding="utf-8")
    assert load_stop_words(str(words)).identity["sha256"] != before.identity["sha256"]


def test_user_dictionary_changes_segmentation_and_cache_key_without_leaking(user_dict: Path) -> None:
    plain = JiebaVectorizer()
    custom = JiebaVectorizer(user_dict=str(user_dict))
    custom_tokens = custom.tokenize(TEXTS)
    assert "自然语言处理" in custom_tokens[0] and "区块链金融" in custom_tokens[1] and "创新办" in custom_tokens[2]
    assert "自然语言处理" not in plain.tokenize(TEXTS)[0]  # the other tokenizer never saw the user dictionary
    assert plain.token_settings() != custom.token_settings()
    edited = user_dict.read_text(encoding="utf-8") + "云计算\n"
    user_dict.write_text(edited, encoding="utf-8")
    assert JiebaVectorizer(user_dict=str(user_dict)).token_settings() != custom.token_settings()


def test_token_settings_hold_everything_that_changes_tokens() -> None:
    import jieba

    base = JiebaVectorizer().token_settings()
    assert base["jieba"] == jieba.__version__ and base["hmm"] is True
    for changed in ({"hmm": False}, {"min_length": 1}, {"stop_words": None}, {"lowercase": False}):
        assert JiebaVectorizer(**changed).token_settings() != base, changed
    # n-grams and df limits act on the cached tokens, so they do not invalidate them
    assert JiebaVectorizer(ngram_range=[1, 2], min_df=2).token_settings() == base


def test_ngram_range_counts_jieba_token_ngrams() -> None:
    vectorizer = JiebaVectorizer(ngram_range=[1, 2])
    documents = [" ".join(doc) for doc in vectorizer.tokenize(TEXTS)]
    features = set(vectorizer.count_vectorizer().fit(documents).get_feature_names_out())
    assert {"自然语言", "处理", "自然语言 处理", "处理 技术"} <= features
    assert all(len(feature.split()) <= 2 for feature in features)


def test_bad_input_is_a_one_line_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"jieba user dictionary not found: .*nope\.txt \(vectorizer\.user_dict\)"):
        JiebaVectorizer(user_dict=str(tmp_path / "nope.txt"))
    with pytest.raises(UserError, match=r"unknown stop-word list 'klingon' \(vectorizer\.stop_words\)"):
        JiebaVectorizer(stop_words="klingon")
    with pytest.raises(UserError, match=r"stop-word file not found: .*missing\.txt"):
        JiebaVectorizer(stop_words=str(tmp_path / "missing.txt"))
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9 1\n".encode("latin-1"))
    with pytest.raises(UserError, match="cannot read jieba user dictionary"):
        JiebaVectorizer(user_dict=str(latin1)).tokenize(["咖啡"])
    with pytest.raises(UserError, match="vectorizer.min_length must be at least 1"):
        JiebaVectorizer(min_length=0)
