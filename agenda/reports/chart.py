"""The web edition's one picture: notes per region, north to south, regions with critical
commitments in red. Rendered to PNG bytes with matplotlib's Agg backend (no display). Pure.

Drawn for a phone: 360 px wide at twice the pixel density (720 px PNG), labels of 13 px at that
width (at least 12 px when the page shrinks it to 343 px), each bar labelled with its count so
no axis and no table beside it are needed. A day without news has no chart (``write_digest``).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display on the overnight machine
import matplotlib.pyplot as plt

from agenda.reports.spanish import NORTH_TO_SOUTH, spanish_number

if TYPE_CHECKING:
    from agenda.reports.digest import Digest

BLUE, RED, GREY = "#4a78c2", "#c5221f", "#5f6368"
WIDTH_PX = 360  # CSS pixels the web edition shows it at (max-width)
ROW_PX = 24  # per region: a 13 px label and its gap
DPI = 100  # 1 inch = 100 CSS px while drawing ...
SCALE = 2  # ... saved at twice that: sharp on phones' 2x screens
LABEL_PT = 9.5  # 13.2 px at 100 dpi: >= 12 px even at 343 px
TITLE_PT = 10.5


def render_chart(digest: Digest) -> bytes:
    """The chart as PNG bytes (720 px wide)."""
    ordered = sorted(digest.coverage, key=lambda row: NORTH_TO_SOUTH.index(row.code))
    height_px = ROW_PX * len(ordered) + 70
    figure, axes = plt.subplots(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI)
    try:
        positions = list(range(len(ordered)))
        axes.barh(
            positions,
            [row.articles for row in ordered],
            color=[RED if row.critical else BLUE for row in ordered],
            height=0.65,
        )
        axes.set_yticks(positions, [row.name for row in ordered], fontsize=LABEL_PT)
        axes.tick_params(axis="y", length=0, pad=4)
        axes.invert_yaxis()  # north on top
        largest = max([row.articles for row in ordered] + [1])
        for position, row in zip(positions, ordered, strict=True):
            axes.text(
                row.articles + largest * 0.02,
                position,
                spanish_number(row.articles),
                va="center",
                fontsize=LABEL_PT,
                color=RED if row.critical else GREY,
            )
        axes.set_xlim(0, largest * 1.18)
        axes.set_xticks([])  # each bar carries its number: no axis of 0, 0,2, 0,4 …
        axes.set_title("Notas por región", fontsize=TITLE_PT, loc="left", color="#1d1d1f")
        for side in ("top", "right", "bottom"):
            axes.spines[side].set_visible(False)
        figure.tight_layout(pad=0.4)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI * SCALE, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(figure)
