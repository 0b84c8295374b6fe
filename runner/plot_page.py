"""One self-contained HTML page holding several Plotly figures, with plotly.js inlined once.

MLflow's artifact preview shows an ``.html`` artifact in a sandboxed iframe loaded from a blob URL,
so the page can only run scripts it contains: no relative ``<script src>``, and a CDN would not
work offline. Inlining plotly.js once per page (about 4.7 MB) instead of once per figure keeps a
sweep's plots in one file that previews and works anywhere.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

_STYLE = ("body{font-family:system-ui,sans-serif;margin:1rem 2rem;color:#222}"
          "nav a{margin-right:1rem}section{margin:1.5rem 0}h2{font-size:1.1rem;margin:0 0 .3rem}")


def figures_page(title: str, figures: Sequence[tuple[str, Any]]) -> str:
    """An HTML document with a heading, a table of contents and one section per ``(heading, figure)``.

    Args:
        title: Page title and top heading.
        figures: Section headings with their ``plotly.graph_objects.Figure``.
    """
    sections, links = [], []
    for index, (heading, figure) in enumerate(figures):
        body = figure_div(figure, f"figure-{index}")
        sections.append(f'<section id="plot-{index}"><h2>{html.escape(heading)}</h2>{body}</section>')
        links.append(f'<a href="#plot-{index}">{html.escape(heading)}</a>')
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style>{plotly_script()}</head>\n"
            f"<body><h1>{html.escape(title)}</h1><nav>{''.join(links)}</nav>\n" + "\n".join(sections)
            + "\n</body></html>\n")


def plotly_script() -> str:
    """plotly.js inlined in one ``<script>`` element (put it once in a page's head)."""
    from plotly.offline import get_plotlyjs

    return f'<script type="text/javascript">{get_plotlyjs()}</script>'


def figure_div(figure: Any, div_id: str, height: str = "520px") -> str:
    """A figure as a ``<div>`` and the script that draws it (needs :func:`plotly_script` earlier in the page)."""
    return figure.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, default_width="100%",
                          default_height=height, config={"responsive": True, "displaylogo": False})
