"""CJK font lookup for plots: found when one is installed, one clear warning when none is."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from matplotlib import font_manager

from runner import fonts


def tiny_font(path: Path, family: str, characters: str) -> Path:
    """A TrueType font whose only glyphs (empty squares) cover ``characters``."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef", *[f"uni{ord(char):04X}" for char in characters]]
    pen = TTGlyphPen(None)
    for x, y in ((100, 0), (100, 700), (600, 700), (600, 0)):
        (pen.moveTo if (x, y) == (100, 0) else pen.lineTo)((x, y))
    pen.closePath()
    glyph = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(char): f"uni{ord(char):04X}" for char in characters})
    builder.setupGlyf({name: glyph for name in names})
    builder.setupHorizontalMetrics({name: (700, 100) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))
    return path


@pytest.fixture
def font_list(monkeypatch: pytest.MonkeyPatch) -> list:
    """matplotlib's font list, replaceable per test; the lookup cache is cleared around each test."""
    entries = list(font_manager.fontManager.ttflist)
    monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)
    fonts.cjk_font_family.cache_clear()
    yield entries
    fonts.cjk_font_family.cache_clear()


def test_an_installed_cjk_font_is_found_and_configured(font_list: list, tmp_path: Path) -> None:
    tiny_font(tmp_path / "latin.ttf", "AAA Latin Only", "abc")
    tiny_font(tmp_path / "cjk.ttf", "TopicSweep Test CJK", "中文主题")
    font_manager.fontManager.addfont(str(tmp_path / "latin.ttf"))
    font_manager.fontManager.addfont(str(tmp_path / "cjk.ttf"))
    assert fonts.cjk_font_family() == "TopicSweep Test CJK"
    rc = {"font.sans-serif": ["DejaVu Sans"]}
    assert fonts.use_cjk_font(rc) == "TopicSweep Test CJK"
    assert rc["font.sans-serif"] == ["TopicSweep Test CJK", "DejaVu Sans"] and rc["axes.unicode_minus"] is False


def test_without_a_cjk_font_it_warns_once(font_list: list, caplog: pytest.LogCaptureFixture) -> None:
    font_list[:] = [entry for entry in font_list if "DejaVu" in entry.name]
    rc = {"font.sans-serif": ["DejaVu Sans"]}
    with caplog.at_level(logging.WARNING, logger="runner.fonts"):
        assert fonts.use_cjk_font(rc) is None
        assert fonts.use_cjk_font(rc) is None
    assert rc == {"font.sans-serif": ["DejaVu Sans"]}
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and "no installed font covers Chinese characters" in warnings[0]


def test_topic_overview_figure_uses_the_cjk_font_for_chinese_words(font_list: list, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from runner import plots

    tiny_font(tmp_path / "cjk.ttf", "TopicSweep Test CJK", "中文基金市场期货高考研")
    font_manager.fontManager.addfont(str(tmp_path / "cjk.ttf"))
    chosen = []
    monkeypatch.setattr(plots, "use_cjk_font", lambda rc: chosen.append(fonts.use_cjk_font(rc)))
    topic_overview = plots.topic_overview
    rows = [{"topic": -1, "size": 5, "words": ""}, {"topic": 0, "size": 9, "words": "基金 市场 期货"},
            {"topic": 1, "size": 4, "words": "高考 考研"}]
    path = topic_overview(rows, tmp_path / "topics.png")
    assert path is not None and path.read_bytes().startswith(b"\x89PNG")
    assert chosen == ["TopicSweep Test CJK"]
    assert topic_overview([rows[0]], tmp_path / "none.png") is None and not (tmp_path / "none.png").exists()


@pytest.mark.parametrize("words", ["economy", "telecommunications liberalisation infrastructure regulators broadband",
                                   "counter-terrorism-legislation-amendments"])
@pytest.mark.parametrize("n_topics", [1, 20])
def test_topic_overview_labels_title_and_axis_fit_inside_the_figure(words: str, n_topics: int) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from runner.plots import topic_overview_figure

    figure = topic_overview_figure([{"topic": i, "size": 100 - i, "words": words} for i in range(n_topics)])
    renderer = FigureCanvasAgg(figure).get_renderer()
    (axes,) = figure.axes
    frame = axes.get_window_extent(renderer)
    bounds = figure.bbox
    labels = [label.get_window_extent(renderer) for label in axes.get_yticklabels()]
    assert all(label.x0 >= 0 and label.x1 < frame.x0 for label in labels)  # not clipped, not over the bars
    assert frame.x0 - max(label.x1 for label in labels) < 0.25 * figure.dpi  # and no wide empty margin
    outer = axes.get_tightbbox(renderer)  # title, tick labels, axis label
    assert outer.x0 >= 0 and outer.y0 >= 0 and outer.x1 <= bounds.x1 and outer.y1 <= bounds.y1
