#!/usr/bin/env python3
"""A 30-day brief for one region (Valparaíso) over the 1,000,000-article bench database.

Uses bench_digest's database (built once, cached in bench/results/). In a fresh process: the
brief (query, grouping by story, ranking, attention, commitments, HTML and CSV), then its PDF,
against a bare read of the same rows: one plain SELECT of the matching articles joined with
their links. Each is run three times, alternating, and the best of each is kept (a shared,
noisy machine). Prints ``report time / bare read of the period's rows: N.NNx``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

REGION = "05"
DAYS = 30
ROUNDS = 3


def measure() -> dict[str, float]:
    """Runs in its own process."""
    from bench_digest import DAY, DB_PATH, ROOT

    from agenda.keywords import load_keywords
    from agenda.reports.brief_files import render_brief_html, render_csv, render_pdf
    from agenda.reports.briefs import BriefRequest, build_brief, check_request
    from agenda.store import Store, open_database

    keywords = load_keywords(ROOT / "keywords")
    store = Store(open_database(DB_PATH))
    request = BriefRequest(DAY - timedelta(days=DAYS - 1), DAY, (REGION,))
    check_request(request, keywords)
    bare_sql = (
        "select a.*, l.* from articles a join links l on l.article_id = a.id"
        " where a.local_date between ? and ?"
        " and a.id in (select article_id from links where kind = 'region' and code = ?)"
    )
    bare_params = [request.date_from.isoformat(), request.date_to.isoformat(), REGION]
    bare, report, pdf = [], [], []
    rows = 0
    html = ""
    for _ in range(ROUNDS):
        started = time.perf_counter()
        rows = len(store.db.execute(bare_sql, bare_params).fetchall())
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        brief = build_brief(store, keywords, request)
        html = render_brief_html(brief)
        csv_text = render_csv(brief)
        report.append(time.perf_counter() - started)
    for _ in range(2):
        started = time.perf_counter()
        document = render_pdf(html)
        pdf.append(time.perf_counter() - started)
    return {
        "articles": brief.article_count,
        "stories": brief.story_count,
        "bare_rows": rows,
        "bare_seconds": min(bare),
        "report_seconds": min(report),
        "pdf_seconds": min(pdf),
        "html_kb": len(html) / 1024,
        "csv_kb": len(csv_text) / 1024,
        "pdf_kb": len(document) / 1024,
    }


def main() -> int:
    from bench_digest import DAY, DB_PATH, ROOT, build_database

    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        print(json.dumps(measure()))
        return 0
    if not DB_PATH.exists():
        print(f"building {DB_PATH.relative_to(ROOT)} (once; several minutes)...", flush=True)
        build_database()
    done = subprocess.run(
        [sys.executable, __file__, "--measure"], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"30-day brief for region {REGION} ending {DAY}: {result['articles']:,} articles in "
        f"{result['stories']:,} stories (bare read: {result['bare_rows']:,} article-link rows)"
    )
    print(
        f"bare read {result['bare_seconds']:.2f} s; report (data, HTML {result['html_kb']:.0f} KB, "
        f"CSV {result['csv_kb']:.0f} KB) {result['report_seconds']:.2f} s; "
        f"PDF {result['pdf_seconds']:.2f} s ({result['pdf_kb']:.0f} KB)"
    )
    print(
        "report time / bare read of the period's rows: "
        f"{result['report_seconds'] / result['bare_seconds']:.2f}x"
    )
    print(
        f"report + PDF / bare read of the period's rows: "
        f"{(result['report_seconds'] + result['pdf_seconds']) / result['bare_seconds']:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
