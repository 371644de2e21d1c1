"""The digest's files: digests/YYYY-MM-DD.html (web edition), .txt (the e-mail's text), .png
(the chart) and the archive's index.html, each written atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from agenda.common import write_atomically
from agenda.reports.render import render_html, render_index, render_text
from agenda.reports.spanish import spanish_date
from agenda.settings import DigestSettings

if TYPE_CHECKING:
    from agenda.reports.digest import Digest


@dataclass
class DigestFiles:
    html: Path
    text: Path
    chart: Path | None  # no chart on a day without news
    index: Path


def write_digest(
    digest: Digest, directory: Path, settings: DigestSettings | None = None
) -> tuple[DigestFiles, bytes]:
    """Write digests/YYYY-MM-DD.html (web edition), .txt (the e-mail's text) and .png (the
    chart, not on an empty day) atomically, and refresh digests/index.html."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = digest.day.isoformat()
    from agenda.reports.chart import render_chart  # matplotlib: only when a digest is written

    chart = b"" if digest.empty else render_chart(digest)
    files = DigestFiles(
        directory / f"{stem}.html",
        directory / f"{stem}.txt",
        directory / f"{stem}.png" if chart else None,
        directory / "index.html",
    )
    if files.chart:
        write_atomically(files.chart, chart)
    chart_src = files.chart.name if files.chart else None
    write_atomically(
        files.html, render_html(digest, chart_src=chart_src, settings=settings).encode("utf-8")
    )
    write_atomically(files.text, render_text(digest, settings).encode("utf-8"))
    write_atomically(files.index, render_index(_archive_entries(directory)).encode("utf-8"))
    return files, chart


def _archive_entries(directory: Path) -> list[tuple[str, str, str]]:
    entries = []
    for path in sorted(directory.glob("????-??-??.html"), reverse=True):
        try:
            day = date.fromisoformat(path.stem)
        except ValueError:
            continue
        text_path = path.with_suffix(".txt")
        lines = (
            text_path.read_text(encoding="utf-8").splitlines()[3:5] if text_path.exists() else []
        )
        entries.append((path.name, spanish_date(day), " · ".join(line for line in lines if line)))
    return entries
