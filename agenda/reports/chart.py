"""The digest's one picture: articles per region, north to south, with critical commitments
marked. Rendered to PNG bytes with matplotlib's Agg backend (no display needed). Pure.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display on the overnight machine
import matplotlib.pyplot as plt  # noqa: E402

from agenda.reports.spanish import NORTH_TO_SOUTH  # noqa: E402

if TYPE_CHECKING:
    from agenda.reports.digest import Digest

BLUE, RED, GREY = "#4a78c2", "#c5221f", "#5f6368"


def render_chart(digest: Digest) -> bytes:
    ordered = sorted(digest.coverage, key=lambda row: NORTH_TO_SOUTH.index(row.code))
    figure, axes = plt.subplots(figsize=(6.12, 5.2), dpi=100)
    try:
        positions = range(len(ordered))
        axes.barh(
            list(positions), [row.articles for row in ordered],
            color=[RED if row.critical else BLUE for row in ordered], height=0.7,
        )
        axes.set_yticks(list(positions), [row.name for row in ordered], fontsize=9)
        axes.invert_yaxis()  # north on top
        largest = max([row.articles for row in ordered] + [1])
        for position, row in zip(positions, ordered):
            label = str(row.articles) + (f"  · {row.critical} crítico{'s' if row.critical != 1 else ''}" if row.critical else "")
            axes.text(row.articles + largest * 0.01, position, label, va="center", fontsize=8, color=RED if row.critical else GREY)
        axes.set_xlim(0, largest * 1.35)
        axes.set_title(f"Noticias por región · {digest.date_words}", fontsize=10, loc="left")
        axes.set_xlabel("noticias (en rojo: regiones con compromisos en situación crítica)", fontsize=8, color=GREY)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(figure)
