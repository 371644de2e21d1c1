"""The web edition's one picture: notes per region, north to south, regions with critical
commitments in red, as inline SVG in the "Cobertura" section. Pure.

Drawn for a phone: 320 units wide, shown at 320 CSS px (its max-width in web.html.j2, which
fits the 331 px a 375 px screen leaves inside a section: not scaled down there), labels of
13 px, each bar labelled with its count in Chilean style so no axis and no table beside it are
needed. A day without news has no chart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from agenda.reports.spanish import NORTH_TO_SOUTH, count_words, spanish_number
from agenda.reports.svg import BLUE, GREY, INK, RED, svg_chart, svg_text

if TYPE_CHECKING:
    from agenda.reports.digest import Digest

TITLE = "Notas por región"
WIDTH = 320  # user units = CSS px at the width it is shown (web.html.j2: .chart max-width)
LABEL_PX, TITLE_PX = 13, 14
ROW, BAR = 24, 15  # per region: a 13 px label and its gap; the bar inside the row
TOP = 26  # the title's line
GAP = 6  # between a name and the axis, and between a bar and its count
# Width of a character as a share of the font size: DejaVu Sans, Chromium's fallback here, runs
# about 0.58 on region names; the margin keeps "Arica y Parinacota" clear of the axis.
CHAR_EM = 0.62
NAMES_AT_MOST = 0.45  # of the width: the bars keep the rest


def region_chart(digest: Digest) -> Markup:
    """One horizontal bar per region of the edition, north on top, its count at its end."""
    rows = sorted(digest.coverage, key=lambda row: NORTH_TO_SOUTH.index(row.code))
    if digest.empty or not rows:
        return Markup("")  # no chart of zeros
    largest = max(row.articles for row in rows) or 1
    names = min(max(len(row.name) for row in rows) * LABEL_PX * CHAR_EM, WIDTH * NAMES_AT_MOST)
    axis = round(names + GAP)
    counts = len(spanish_number(largest)) * LABEL_PX * CHAR_EM + GAP
    longest_bar = WIDTH - axis - counts
    height = TOP + ROW * len(rows) + 4
    parts = [
        svg_text(0, TITLE_PX, TITLE, TITLE_PX, INK),
        (
            f'<line x1="{axis}" y1="{TOP}" x2="{axis}" y2="{TOP + ROW * len(rows)}" '
            f'stroke="{GREY}" stroke-width="1"/>'
        ),
    ]
    described = []
    for index, row in enumerate(rows):
        middle = TOP + ROW * index + ROW / 2
        baseline = middle + LABEL_PX * 0.35  # a line of text is centred on the bar
        colour = RED if row.critical else BLUE
        length = longest_bar * row.articles / largest
        what = count_words(row.articles, "nota")
        if row.critical:
            what += ", " + count_words(row.critical, "compromiso crítico", "compromisos críticos")
        described.append(f"{row.name}: {what}")
        parts.append(svg_text(names, baseline, row.name, LABEL_PX, INK, anchor="end"))
        if row.articles:
            parts.append(
                f'<rect x="{axis}" y="{middle - BAR / 2:.1f}" width="{length:.1f}" '
                f'height="{BAR}" fill="{colour}"><title>{escape(described[-1])}</title></rect>'
            )
        parts.append(
            svg_text(
                axis + length + GAP,
                baseline,
                spanish_number(row.articles),
                LABEL_PX,
                RED if row.critical else GREY,
            )
        )
    label = f"{TITLE}, de norte a sur. {'; '.join(described)}."
    return svg_chart(WIDTH, height, label, parts, title=f"{TITLE}, de norte a sur")
