"""Inline SVG for the reports' charts: drawn as text in the page (no image file to lose when the
HTML is forwarded, sharp on any screen and in the PDF, no plotting library to import). Pure.

Sizes are user units of the ``viewBox``; a chart shown at its viewBox width shows a font size of
13 as 13 CSS px.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape

BLUE, RED, ORANGE, GREY, INK = "#4a78c2", "#c5221f", "#d9730d", "#5f6368", "#1d1d1f"


def svg_chart(
    width: float, height: float, label: str, parts: Iterable[str], title: str | None = None
) -> Markup:
    """An ``<svg class="chart">`` that screen readers take as one image named ``label`` (which
    may spell out the figures), with ``title`` (default: the label) as its tooltip. The parts
    are markup: ``svg_text`` escapes what it writes."""
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width:g} {height:g}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(label)}">'
        f"<title>{escape(title or label)}</title>{''.join(parts)}</svg>"
    )


def svg_text(
    x: float, y: float, content: str, size: float = 11, fill: str = GREY, anchor: str = "start"
) -> str:
    """One escaped ``<text>`` (``y`` is its baseline)."""
    end = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}"{end} fill="{fill}">'
        f"{escape(content)}</text>"
    )
