"""The sources' commands: `agenda sources check` (probe every source, print a table) and
`agenda sources add` (find a homepage's feed and append it to sources.yaml). Thin, like
commands.py; `sources check` starts without spaCy or trafilatura (a test checks).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from agenda.collect import make_client
from agenda.commands import _settings, _store, _TerminalProgress
from agenda.errors import EXIT_OK, EXIT_PARTIAL
from agenda.settings import Settings
from agenda.sources import SourceList, load_sources


def sources_check(args: argparse.Namespace) -> int:
    """Validate sources.yaml, probe every enabled source concurrently and print a table.

    Exit 1 if any source is unhealthy, 2 if the file is invalid. The progress bar goes to stderr,
    and only when it is a terminal (never in cron or CI).
    """
    from agenda.curation import format_table, probe_sources

    settings = _settings(args)
    sources = load_sources(settings.sources_path)
    known = _known_state(settings)

    progress = _TerminalProgress("probing sources")
    probed = 0

    def advance(_: object) -> None:
        nonlocal probed
        probed += 1
        progress(probed, len(sources.enabled))

    async def go() -> list[Any]:
        async with make_client() as client:
            return await probe_sources(client, sources, settings.fetch, known, on_result=advance)

    try:
        rows = asyncio.run(go())
    finally:
        progress.close()
    if args.json:
        print(json.dumps([row.as_dict() for row in rows], ensure_ascii=False, indent=2))
    else:
        print(format_table(rows))
    return EXIT_PARTIAL if any(row.status == "failed" for row in rows) else EXIT_OK


def _known_state(settings: Settings) -> Any:
    """What an existing database remembers about the sources.

    Nothing (and no new file) otherwise.
    """
    from agenda.curation import KnownState

    if not settings.db_path.exists():
        return KnownState()
    store = _store(settings)
    return KnownState(
        store.fetch_states(),
        {row["id"]: row for row in store.source_health()},
        store.newest_article_by_source(),
    )


def sources_add(args: argparse.Namespace) -> int:
    """Find the feeds of a homepage, validate them and append the best one to sources.yaml.

    Exit 0 when added (or shown, with --dry-run), 1 when no working feed was found or the feed
    is already listed, 2 for an invalid sources.yaml or region code.
    """
    from agenda.curation import discover, new_entry
    from agenda.errors import ConfigError
    from agenda.extract import canonical_url
    from agenda.sources import append_source, normalise_region

    settings = _settings(args)
    path = settings.sources_path
    sources = load_sources(path) if path.exists() else SourceList(path)
    region = normalise_region(args.region) if args.region is not None else "national"
    if region is None:
        raise ConfigError(
            "--region",
            None,
            None,
            f"unknown region code '{args.region}' (expected 01..16 or 'national')",
        )
    if args.id and args.id in {s.id for s in sources.sources}:
        raise ConfigError(
            str(path), sources.by_id(args.id).line, "id", f"'{args.id}' is already used"
        )

    async def go() -> Any:
        async with make_client() as client:
            return await discover(client, args.url, settings.fetch)

    discovery = asyncio.run(go())
    for candidate in discovery.candidates:
        verdict = f"ok, {candidate.items} items" if candidate.ok else candidate.reason
        print(f"  {candidate.how:9} {candidate.url}: {verdict}")
    chosen = discovery.chosen
    if chosen is None:
        print(f"no working feed found for {args.url}", file=sys.stderr)
        return EXIT_PARTIAL
    listed = {canonical_url(s.url): s for s in sources.sources}
    if canonical_url(chosen.url) in listed:
        same = listed[canonical_url(chosen.url)]
        print(
            f"{chosen.url} is already in {path} as '{same.id}' (line {same.line})", file=sys.stderr
        )
        return EXIT_PARTIAL
    entry = new_entry(chosen, sources, region, args.id, args.name)
    if args.dry_run:
        print(f"would add to {path}: " + json.dumps(entry, ensure_ascii=False))
        return EXIT_OK
    append_source(path, entry)
    print(
        f"added '{entry['id']}' ({entry['name']}, {entry['kind']}, region {entry['region']})"
        f" to {path}"
    )
    return EXIT_OK
