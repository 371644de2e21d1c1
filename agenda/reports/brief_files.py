"""A brief as files: HTML (jinja2), PDF (the same HTML through WeasyPrint, A4 print CSS), CSV
(one row per matching article), and its attention chart as inline SVG (no image files to lose
when the HTML is forwarded, and sharp in the PDF).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from agenda.common import write_atomically
from agenda.reports.briefs import Brief, DayAttention
from agenda.reports.spanish import WEEKDAYS, spanish_date
from agenda.reports.svg import BLUE, GREY, ORANGE, svg_chart, svg_text
from agenda.reports.templating import template_environment
from agenda.textnorm import fold

CSV_COLUMNS = ["fecha", "medio", "titulo", "url", "regiones", "comunas", "compromisos"]
# Chart geometry (SVG user units; the chart scales to the page's width)
CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, CHART_BOTTOM, CHART_TOP = 640, 220, 36, 28, 14

_environment = template_environment()
_environment.filters["spanish_date"] = spanish_date
_environment.filters["short_date"] = lambda day: f"{WEEKDAYS[day.weekday()][:3]} {day:%d/%m}"
_environment.filters["percent"] = lambda share: f"{share * 100:.1f}".replace(".", ",") + " %"
_environment.globals["bar_width"] = lambda value, largest: (
    max(2, round(100 * value / largest)) if value and largest else 0
)


@dataclass
class BriefFiles:
    html: Path
    pdf: Path
    csv: Path


def attention_svg(attention: list[DayAttention]) -> Markup:
    """Matching articles per day (bars, left scale) and their share of all that day's articles
    (line, right scale): a busy news day does not look like a surge."""
    if not attention:
        return Markup("")
    plot_width = CHART_WIDTH - 2 * CHART_LEFT
    plot_height = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    most = max(d.matching for d in attention) or 1
    top_share = max(d.share for d in attention) or 1.0
    step = plot_width / len(attention)
    label_every = max(1, round(len(attention) / 10))
    baseline = CHART_HEIGHT - CHART_BOTTOM
    parts = [
        (
            f'<line x1="{CHART_LEFT}" y1="{baseline}" x2="{CHART_WIDTH - CHART_LEFT}" '
            f'y2="{baseline}" stroke="{GREY}" stroke-width="1"/>'
        ),
        svg_text(CHART_LEFT - 4, CHART_TOP + 4, str(most), fill=BLUE, anchor="end"),
        svg_text(
            CHART_WIDTH - CHART_LEFT + 4, CHART_TOP + 4, f"{top_share * 100:.0f} %", fill=ORANGE
        ),
    ]
    points = []
    for index, day in enumerate(attention):
        x = CHART_LEFT + index * step
        height = plot_height * day.matching / most
        y = CHART_HEIGHT - CHART_BOTTOM - height
        if day.matching:
            parts.append(
                f'<rect x="{x + step * 0.15:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
                f'height="{height:.1f}" fill="{BLUE}">'
                f"<title>{day.day:%d/%m}: {day.matching}</title></rect>"
            )
        if day.total:  # a day with nothing stored has no share (not a share of zero)
            share_y = baseline - plot_height * day.share / top_share
            points.append(f"{x + step / 2:.1f},{share_y:.1f}")
        if index % label_every == 0:
            parts.append(svg_text(x + step / 2, baseline + 16, f"{day.day:%d/%m}", anchor="middle"))
    parts.append(
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{ORANGE}" stroke-width="2"/>'
    )
    for point in points:  # dots: one day alone still shows
        dot_x, dot_y = point.split(",")
        parts.append(f'<circle cx="{dot_x}" cy="{dot_y}" r="3" fill="{ORANGE}"/>')
    return svg_chart(CHART_WIDTH, CHART_HEIGHT, "Noticias por día y porcentaje del total", parts)


def render_brief_html(brief: Brief) -> str:
    """The brief's HTML: the web page and, through WeasyPrint, the PDF (print CSS for A4)."""
    busiest = max(brief.attention, key=lambda d: (d.matching, d.share), default=None)
    highest = max(brief.attention, key=lambda d: (d.share, d.matching), default=None)
    return _environment.get_template("brief.html.j2").render(
        b=brief,
        chart=attention_svg(brief.attention),
        busiest=busiest if busiest and busiest.matching else None,
        highest=highest if highest and highest != busiest and highest.matching else None,
    )


def render_pdf(html: str, base_url: Path | None = None) -> bytes:
    """The same HTML as an A4 PDF. WeasyPrint loads only here (it takes a second to import)."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    # Nothing is fetched: the page has no external resources, and a feed's image URL must not
    # make the office's machine call out while printing.
    def no_fetch(url: str) -> dict[str, object]:
        raise ValueError(f"briefs load no external resources: {url}")

    return bytes(HTML(string=html, base_url=str(base_url or "."), url_fetcher=no_fetch).write_pdf())


def render_csv(brief: Brief) -> str:
    """Every matching article, one row each (lists joined with "; ")."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for article in brief.articles:
        writer.writerow(
            [
                article.day,
                "; ".join(article.outlets),
                article.title,
                article.url,
                "; ".join(article.regions),
                "; ".join(article.communes),
                "; ".join(article.commitments),
            ]
        )
    return buffer.getvalue()


def file_stem(brief: Brief) -> str:
    """informe-2026-11-18-2026-11-24-region-de-valparaiso: sortable, readable, no accents."""
    words = "-".join(
        w
        for w in "".join(c if c.isalnum() else " " for c in fold(brief.title.split(",")[0])).split()
    )
    return (
        f"informe-{brief.date_from.isoformat()}-{brief.date_to.isoformat()}-{words[:60].strip('-')}"
    )


def write_brief(brief: Brief, directory: Path) -> BriefFiles:
    """Write the brief's HTML, PDF and CSV (atomically each) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = file_stem(brief)
    files = BriefFiles(
        directory / f"{stem}.html", directory / f"{stem}.pdf", directory / f"{stem}.csv"
    )
    html = render_brief_html(brief)
    write_atomically(files.html, html.encode("utf-8"))
    write_atomically(files.pdf, render_pdf(html, directory))
    # utf-8-sig: a spreadsheet opened by double-click reads the accents right
    write_atomically(files.csv, render_csv(brief).encode("utf-8-sig"))
    return files
