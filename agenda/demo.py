"""``make demo``: the whole pipeline on the bundled offline sample.

Starts the loopback sample server over ``sample/``, writes ``.demo/sources.yaml`` pointing at it,
and runs ``agenda run`` for the sample's day with the outbox as mailer. Run from the repository.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from agenda import cli
from agenda.sampleserver import serve, write_sources

SAMPLE_DAY = "2026-11-24"  # the day the sample news were written for
SAMPLE_WEEK = ("2026-11-23", "2026-11-29")


def next_steps(work: Path) -> list[str]:
    """What to type next, exactly: every command names the demo's database with --db (without
    it, agenda would look for ./agenda.db, which the demo does not make)."""
    db = f"--db {work / 'agenda.db'}"
    return [
        f"Digest:   digests/{SAMPLE_DAY}.html  and  digests/{SAMPLE_DAY}.txt",
        f"E-mail:   {work / 'outbox'}/*.eml (escrito en el outbox: no SMTP host, nothing was sent)",
        f"Database: {work / 'agenda.db'}",
        "",
        "Explore what the demo made:",
        f"  .venv/bin/agenda status {db}",
        f"  .venv/bin/agenda search {db} Quilpué",
        f"  .venv/bin/agenda search {db} --json hospital",
        f"  .venv/bin/agenda digest {db} --date {SAMPLE_DAY}   (writes the day's digest again)",
        f"  .venv/bin/agenda feedback {db} ARTICLE_ID --not CODE   (ids from search)",
        f"  .venv/bin/agenda report {db} --region 05 --from 2026-11-18 --to {SAMPLE_DAY}"
        "   (a brief: HTML, PDF, CSV)",
        f"  .venv/bin/agenda commitments report {db} --from 2026-11-23 --to 2026-11-29",
        f"  .venv/bin/agenda commitments show {db} hospital-marga-marga",
    ]


def main() -> int:
    root = Path.cwd()
    sample = root / "sample"
    work = root / ".demo"
    # Start clean: the sample server's port changes per run, and so would the HTML page's URLs.
    shutil.rmtree(work, ignore_errors=True)
    with serve(sample, slow_seconds=1.0) as server:
        sources = write_sources(sample / "sources.yaml", server.base_url, work / "sources.yaml")
        print(
            f"sample feeds served at {server.base_url} (loopback);"
            f" sources: {sources.relative_to(root)}"
        )
        code = cli.main(
            [
                "run",
                "--sources",
                str(sources),
                "--keywords",
                str(root / "keywords"),
                "--db",
                str(work / "agenda.db"),
                "--digests",
                str(root / "digests"),
                "--date",
                SAMPLE_DAY,
                "--config",
                str(sample / "agenda.yaml"),
            ]
        )
        # the commitment follow-up for the sample's week (Monday 23 to Sunday 29 November)
        cli.main(
            [
                "commitments",
                "report",
                "--keywords",
                str(root / "keywords"),
                "--db",
                str(work / "agenda.db"),
                "--digests",
                str(root / "digests"),
                "--from",
                SAMPLE_WEEK[0],
                "--to",
                SAMPLE_WEEK[1],
            ]
        )
    print()
    for line in next_steps(work.relative_to(root)):
        print(line)
    print(f"exit code {code}: 1 is expected, the sample has one deliberately broken source")
    return 0 if code in (0, 1) else code


if __name__ == "__main__":
    sys.exit(main())
