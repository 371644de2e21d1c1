"""The digest's files: digests/YYYY-MM-DD.html (web edition, its chart drawn inline), .txt
(the e-mail's text) and the archive's index.html, each written atomically.
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
    index: Path


def write_digest(
    digest: Digest, directory: Path, settings: DigestSettings | None = None
) -> DigestFiles:
    """Write digests/YYYY-MM-DD.html (web edition) and .txt (the e-mail's text) atomically, and
    refresh digests/index.html."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = digest.day.isoformat()
    files = DigestFiles(
        directory / f"{stem}.html", directory / f"{stem}.txt", directory / "index.html"
    )
    write_atomically(files.html, render_html(digest, settings).encode("utf-8"))
    write_atomically(files.text, render_text(digest, settings).encode("utf-8"))
    write_atomically(files.index, render_index(_archive_entries(directory)).encode("utf-8"))
    return files


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
