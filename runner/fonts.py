"""A CJK-capable font for matplotlib plots, so Chinese topic words do not render as boxes.

Plot code calls :func:`use_cjk_font` before drawing; without such a font it warns once.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)

_PROBE = "中文"  # characters a CJK font must cover, with distinct glyphs


@functools.cache
def cjk_font_family() -> str | None:
    """Family name of an installed font (as matplotlib knows them) that covers Chinese, or None.

    Warns once, naming a font to install, when there is none.
    """
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    for entry in sorted(font_manager.fontManager.ttflist, key=lambda e: (e.name, e.fname)):
        try:
            with TTFont(entry.fname, fontNumber=0, lazy=True) as font:
                cmap = font.getBestCmap() or {}
        except Exception:  # noqa: BLE001, S112 - an unreadable or unsupported font file is no candidate
            continue
        glyphs = {cmap.get(ord(char)) for char in _PROBE}
        # a "last resort" font (matplotlib ships one) maps a whole Unicode block to one placeholder glyph
        if None not in glyphs and len(glyphs) == len(_PROBE):
            return str(entry.name)
    log.warning("no installed font covers Chinese characters, so Chinese plot labels will show as boxes; "
                "install one (e.g. apt install fonts-noto-cjk) and delete matplotlib's font cache")
    return None


def use_cjk_font(rc: Any = None) -> str | None:
    """Put the CJK font first in matplotlib's sans-serif list (``rc``: rcParams or a dict); its name or None."""
    family = cjk_font_family()
    if family is not None:
        if rc is None:
            import matplotlib

            rc = matplotlib.rcParams
        rc["font.sans-serif"] = [family, *[name for name in rc.get("font.sans-serif", []) if name != family]]
        rc["font.family"] = ["sans-serif"]
        rc["axes.unicode_minus"] = False  # many CJK fonts lack the Unicode minus sign
    return family
