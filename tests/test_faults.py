"""The collector against a loopback server that misbehaves on purpose (tests/faultserver.py).

No internet: every byte comes from 127.0.0.1. The retry waits are real but short (the limits
below), except where a fake ``sleep`` records them; the backoff across nights uses a fake clock.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import httpx
import pytest
from sqlite_utils import Database

from agenda.collect import Collector, FetchLimits, make_client
from agenda.errors import ParseError
from agenda.extract import extract
from agenda.link import Linker
from agenda.pipeline import CollectSummary, collect_and_store
from agenda.settings import Settings
from agenda.sources import Source, SourceList
from agenda.store import Store
from tests.faultserver import RunningFaultServer, quadratic_blowup, serve_faults

CORPUS = Path(__file__).resolve().parent / "fixtures" / "feedparser-corpus"
SANTIAGO = ZoneInfo("America/Santiago")
FAST_TIMEOUT = httpx.Timeout(connect=1.0, read=1.0, write=1.0, pool=10.0)
# One loopback server stands in for hundreds of outlets: the per-host gate is tested on its own.
MANY_OUTLETS = FetchLimits(
    total_seconds=10.0,
    per_host=64,
    host_interval_seconds=0,
    retry_base_seconds=0.05,
    allow_private_networks=True,
)
# The 200-source run: a generous per-source limit (20 s) and 96 slots (under httpx's pool of 100
# connections). A source's clock runs from its first slot and a retry queues again for one: with
# 64 slots held by slow faults on a busy machine, a retried source ran out of time waiting. The
# drip (one byte every 50 ms, 53 s in all, see the fixture) still always runs out.
ALL_AT_ONCE = FetchLimits(
    total_seconds=20.0,
    concurrency=96,
    per_host=96,
    host_interval_seconds=0,
    retry_base_seconds=0.05,
    allow_private_networks=True,
)
# Connecting may wait while the one test server accepts 96 connections on a busy machine (an
# attempt that never arrives would spoil the request counts); reading gives up at 2.5 s, before
# the "timeout" route's 3 s answer, and long after any other route's.
PATIENT_CONNECT = httpx.Timeout(connect=10.0, read=2.5, write=10.0, pool=30.0)


@pytest.fixture
def faults() -> Iterator[RunningFaultServer]:
    with serve_faults(
        files_root=CORPUS, slow_seconds=3.0, drip_seconds=0.05, drip_limit_seconds=120.0
    ) as server:
        yield server


def source(source_id: str, url: str, **kwargs: object) -> Source:
    return Source(
        id=source_id,
        name=source_id,
        url=url,
        kind=str(kwargs.pop("kind", "rss")),
        region_code="08",
        **kwargs,
    )  # type: ignore[arg-type]


def collect(
    sources: list[Source],
    store: Store,
    linker: Linker,
    limits: FetchLimits = MANY_OUTLETS,
    timeout: httpx.Timeout = FAST_TIMEOUT,
    **kwargs: object,
) -> CollectSummary:
    async def go() -> CollectSummary:
        async with make_client(timeout=timeout) as client:
            return await collect_and_store(
                SourceList(Path("sources.yaml"), sources),
                linker,
                client,
                store,
                Settings(fetch=limits),
                **kwargs,
            )  # type: ignore[arg-type]

    return asyncio.run(go())


def rows(store: Store) -> dict[str, dict[str, object]]:
    return {row["id"]: row for row in store.source_health()}


def stored_per_source(store: Store) -> dict[str, int]:
    return dict(
        store.db.execute(
            "select source_id, count(*) from article_sources group by source_id"
        ).fetchall()
    )


# What each fault must leave on the source's row: a phrase an analyst understands (None: the
# source still delivers its articles).
FAULTS: list[tuple[str, str | None]] = [
    ("timeout", "no respondió en"),
    ("drip", "bytes (demasiado lento)"),
    ("500", "el servidor respondió con un error (500); se reintentó 3 veces"),
    ("503", "el servidor respondió con un error (503); se reintentó"),
    ("404", "la página no existe (404)"),
    ("429-long", "el servidor pidió esperar 7.200 s, se intentará en otra pasada"),
    ("redirect-loop", "redirecciones en círculo: tras 2 vuelve a"),
    ("redirect-chain/9", "más de 5 redirecciones"),
    (
        "redirect-file",
        "redirigió a file:///etc/passwd, rechazado: solo se siguen direcciones http y https",
    ),
    ("huge", "la respuesta pesa 52.428.800 bytes, más que el límite de 5.242.880; no se descargó"),
    ("huge-chunked", "la respuesta supera el límite de 5.242.880 bytes; se cortó"),
    (
        "gzip-bomb",
        "la respuesta supera el límite de 5.242.880 bytes una vez descomprimida (gzip); se cortó",
    ),
    ("billion-laughs", "feed rechazado: declara una entidad XML propia"),
    ("quadratic-blowup", "feed rechazado: declara una entidad XML propia"),
    ("external-entity", "feed rechazado: declara la entidad XML externa 'secret'"),
    ("html", "la dirección no entrega un feed legible: devolvió una página web (HTML)"),
    ("garbage", "la dirección no entrega un feed legible"),
    ("cp1252-as-utf8", None),
    ("utf8-as-cp1252", None),
    ("bom", None),
    ("malformed", None),
    ("flaky", None),
]


@pytest.mark.slow
def test_200_sources_a_third_misbehaving(faults: RunningFaultServer, linker: Linker) -> None:
    sources, expected = [], {}
    for i in range(200):
        if i % 3 == 0:
            route, phrase = FAULTS[(i // 3) % len(FAULTS)]
            route = f"flaky/s{i:03d}" if route == "flaky" else route
            sources.append(source(f"s{i:03d}", f"{faults.base_url}/fault/{route}"))
            expected[f"s{i:03d}"] = (route, phrase)
        else:
            sources.append(source(f"s{i:03d}", f"{faults.base_url}/feed/good-{i}.xml"))
    store = Store(Database(memory=True))
    summary = collect(
        sources, store, linker, ALL_AT_ONCE, PATIENT_CONNECT
    )  # each source has its own limit

    failing = {sid for sid, (_, phrase) in expected.items() if phrase}
    assert {sid for sid, _ in summary.failures} == failing
    assert summary.sources_ok == 200 - len(failing)
    health, stored = rows(store), stored_per_source(store)
    run_at = datetime.fromisoformat(str(health["s001"]["last_fetched_at_utc"]))
    for sid, (route, phrase) in expected.items():
        row = health[sid]
        if phrase is None:
            assert row["error_count"] == 0 and stored.get(sid, 0) >= 1, (route, row["last_error"])
            continue
        assert phrase in str(row["last_error"]), (route, row["last_error"])
        assert row["error_count"] == 1 and row["last_error_at_utc"]
        rest = datetime.fromisoformat(str(row["next_attempt_at_utc"])) - run_at
        assert rest == (timedelta(hours=2) if route == "429-long" else timedelta(hours=1)), route
    good = [s.id for s in sources if s.id not in expected]
    assert all(stored[sid] == 3 and health[sid]["last_item_count"] == 3 for sid in good)
    # accents survive wrong encoding declarations; malformed XML keeps what was recovered and
    # a warning
    titles = {
        r["title"]
        for r in store.db.query("select title from articles where url like 'https://encoding.cl/%'")
    }
    assert titles == {"Temporal en Ñuble y Biobío: “alerta” en Curicó"}
    malformed = next(sid for sid, (route, _) in expected.items() if route == "malformed")
    assert stored[malformed] == 2 and "se guardó lo que se pudo leer" in str(
        health[malformed]["last_warning"]
    )
    # no retry for a 404; three for a 500; the project's User-Agent on every request
    assert faults.stats.requests["/fault/404"] == sum(1 for r, _ in expected.values() if r == "404")
    assert faults.stats.requests["/fault/500"] == 4 * sum(
        1 for r, _ in expected.values() if r == "500"
    )
    assert faults.stats.user_agents and all(
        ua.startswith("agenda/") and "Agenda Regional" in ua for ua in faults.stats.user_agents
    )
    # 50 MB bodies were cut while streaming, never taken whole
    assert faults.stats.bytes_by_path["/fault/huge-chunked"] < 0.5 * 50 * 1024 * 1024 * sum(
        1 for r, _ in expected.values() if r == "huge-chunked"
    )


@pytest.mark.parametrize("route", ["huge-chunked", "gzip-bomb"])
def test_big_bodies_and_bombs_never_sit_in_memory(faults: RunningFaultServer, route: str) -> None:
    limit = 1_000_000

    async def go():  # noqa: ANN202
        async with make_client(timeout=FAST_TIMEOUT) as client:
            return await Collector(
                client, FetchLimits(max_bytes=limit, allow_private_networks=True)
            ).fetch(source("big", f"{faults.base_url}/fault/{route}"))

    tracemalloc.start()
    result = asyncio.run(go())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (
        result.status == "error"
        and "supera el límite de 1.000.000 bytes" in str(result.error)
        and result.error.endswith("; se cortó")
    )
    assert peak < 4 * limit, f"peak {peak:,} bytes for a {limit:,}-byte cap"


def test_feedparser_alone_expands_entities_so_we_refuse_them_first() -> None:
    """Why extract refuses DOCTYPE entities: feedparser's fallback parser expands them itself."""
    small_bomb = quadratic_blowup(entity_bytes=10_000, references=1_000)  # 13 KB in, 10 MB out
    parsed = feedparser.parse(small_bomb)
    assert (
        len(parsed.entries[0].summary) == 10_000_000
    )  # expat said no; the loose parser did it anyway
    started = time.monotonic()
    with pytest.raises(ParseError, match="feed rechazado"):
        extract(source("bomb", "https://x.cl/feed"), quadratic_blowup())
    # generous (both cores may be busy): expanding it would take minutes and gigabytes
    assert time.monotonic() - started < 10


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


RETRYING = FetchLimits(retry_base_seconds=1.0, host_interval_seconds=0, allow_private_networks=True)


def fetch_with(
    faults: RunningFaultServer,
    route: str,
    sleep: FakeSleep,
    limits: FetchLimits = RETRYING,
):  # noqa: ANN201
    async def go():  # noqa: ANN202
        async with make_client(timeout=FAST_TIMEOUT) as client:
            collector = Collector(client, limits, sleep=sleep, jitter=lambda: 0.5)
            return await collector.fetch(source("s", f"{faults.base_url}/fault/{route}"))

    return asyncio.run(go())


def test_retries_back_off_exponentially_with_jitter(faults: RunningFaultServer) -> None:
    sleep = FakeSleep()
    result = fetch_with(faults, "500", sleep)
    # ceilings 1, 2, 4 s; "equal jitter" waits half of each plus jitter (0.5 here) of the other half
    assert sleep.delays == [0.75, 1.5, 3.0]
    assert (
        result.attempts == 4
        and result.error == "el servidor respondió con un error (500); se reintentó 3 veces"
    )


def test_retry_after_is_honoured_and_4xx_is_not_retried(faults: RunningFaultServer) -> None:
    sleep = FakeSleep()
    busy = fetch_with(faults, "503", sleep)
    assert sleep.delays == [1.0, 1.0, 1.0]  # the server's Retry-After: 1, not our schedule
    assert busy.error == "el servidor respondió con un error (503); se reintentó 3 veces"
    gone = fetch_with(faults, "404", sleep)
    assert (
        gone.attempts == 1 and gone.error == "la página no existe (404)" and len(sleep.delays) == 3
    )
    slow_down = fetch_with(faults, "429-long", sleep)
    assert (
        slow_down.attempts == 1 and slow_down.retry_after_seconds == 7200 and len(sleep.delays) == 3
    )


def test_network_errors_are_retried_and_named() -> None:
    sleep = FakeSleep()

    async def go():  # noqa: ANN202
        async with make_client(timeout=FAST_TIMEOUT) as client:
            return await Collector(
                client,
                FetchLimits(host_interval_seconds=0, allow_private_networks=True),
                sleep=sleep,
                jitter=lambda: 0.0,
            ).fetch(source("down", "http://127.0.0.1:9/feed"))

    result = asyncio.run(go())
    assert (
        result.error is not None
        and result.error.startswith("no se pudo conectar")
        and result.error.endswith("se reintentó 3 veces")
    )
    assert sleep.delays == [0.25, 0.5, 1.0]


def test_flaky_source_recovers_within_the_run(faults: RunningFaultServer, linker: Linker) -> None:
    store = Store(Database(memory=True))
    summary = collect([source("flaky", f"{faults.base_url}/fault/flaky/uno")], store, linker)
    assert summary.failures == [] and summary.articles_new == 3
    assert rows(store)["flaky"]["last_attempts"] == 2


def test_per_host_cap_and_minimum_delay_on_a_real_server(
    linker: Linker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spacing is read on the gate's own clock when it grants a turn, not from arrival times
    at the server (which a busy machine compresses or stretches); each answer takes 1 s, far
    longer than the 0.15 s spacing, so two requests are always in flight together."""
    from contextlib import asynccontextmanager

    import agenda.collect

    granted: list[float] = []

    class RecordingGate(agenda.collect.HostGate):
        @asynccontextmanager
        async def turn(self):  # noqa: ANN202
            async with super().turn():
                granted.append(self._next_start - self._interval)  # no await since the grant
                yield

    monkeypatch.setattr(agenda.collect, "HostGate", RecordingGate)
    with serve_faults(latency_seconds=1.0) as server:
        store = Store(Database(memory=True))
        sources = [source(f"f{i}", f"{server.base_url}/feed/f{i}.xml") for i in range(6)]
        limits = FetchLimits(
            per_host=2,
            host_interval_seconds=0.15,
            delay_loopback=True,
            total_seconds=60.0,
            allow_private_networks=True,
        )

        async def go() -> CollectSummary:
            async with make_client() as client:  # default timeouts: 1 s answers are no timeout
                return await collect_and_store(
                    SourceList(Path("sources.yaml"), sources),
                    linker,
                    client,
                    store,
                    Settings(fetch=limits),
                )

        assert not asyncio.run(go()).failures
        starts = [t for path, t in server.stats.starts if path.startswith("/feed/")]
    assert server.stats.peak_in_flight == 2
    assert len(starts) == 6 and len(granted) == 6
    # 1e-3: the loop's clock resolution
    assert min(b - a for a, b in pairwise(granted)) >= 0.15 - 1e-3


def test_same_story_from_two_feeds_is_stored_once_with_both_sources(
    faults: RunningFaultServer, linker: Linker
) -> None:
    # one story: tracking parameters, a fragment, a trailing slash and an AMP variant apart
    one = (
        "https://www.diario.cl/2026/11/24/plan-hidrico/?utm_source=rss&utm_medium=feed#comentarios"
    )
    other = "https://amp.www.diario.cl/2026/11/24/plan-hidrico/amp/?fbclid=abc"
    store = Store(Database(memory=True))
    collect(
        [
            source("a", f"{faults.base_url}/feed/a.xml?shared={one}"),
            source("b", f"{faults.base_url}/feed/b.xml?shared={other}"),
        ],
        store,
        linker,
    )
    shared = list(
        store.db.query("select a.id, a.url from articles a where a.title like 'Gobierno regional%'")
    )
    assert [row["url"] for row in shared] == ["https://www.diario.cl/2026/11/24/plan-hidrico"]
    sources_of = [
        r["source_id"]
        for r in store.db.query(
            "select source_id from article_sources where article_id = ? order by source_id",
            [shared[0]["id"]],
        )
    ]
    assert sources_of == ["a", "b"]
    assert store.count("articles") == 3 + 3 + 1


def test_full_text_is_fetched_once_with_canonical_address(
    faults: RunningFaultServer, linker: Linker
) -> None:
    store = Store(Database(memory=True))
    with_text = source("ft", f"{faults.base_url}/feed/ft.xml", fulltext=True)
    first = collect([with_text], store, linker)
    articles = list(store.db.query("select url, summary, text from articles order by url"))
    assert first.failures == [] and len(articles) == 3
    for article in articles:
        assert "calendario de trabajos" in article["text"]  # main text, beyond the summary
        assert (
            "derechos reservados" not in article["text"] and "Horóscopo" not in article["text"]
        )  # no page chrome
        assert article["url"].startswith(f"{faults.base_url}/article/ft/")
    second = collect([with_text], store, linker)
    assert second.sources_not_modified == 1
    assert (
        faults.stats.requests["/article/ft/1.html"] == 1
    )  # pages of stored articles are not fetched again


def test_html_listing_source_and_a_selector_that_matches_nothing(
    faults: RunningFaultServer, linker: Linker
) -> None:
    from agenda.sources import Selectors

    good = Selectors(
        item="article.nota", link="a.titulo", title="a.titulo", date="time", summary="p.bajada"
    )
    changed = Selectors(item="div.noticia", link="a", title="a")
    store = Store(Database(memory=True))
    summary = collect(
        [
            source("listado", f"{faults.base_url}/listing/uno.html", kind="html", selectors=good),
            source(
                "rediseno", f"{faults.base_url}/listing/dos.html", kind="html", selectors=changed
            ),
        ],
        store,
        linker,
    )
    assert stored_per_source(store) == {"listado": 4}
    assert summary.failures == [
        ("rediseno", "el selector de noticias 'div.noticia' no encontró nada (¿cambió el sitio?)")
    ]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://diario.cl/feed.xml",
        "data:text/xml,<rss/>",
        "javascript:alert(1)",
    ],
)
def test_non_http_url_in_the_yaml_is_a_configuration_error(tmp_path: Path, url: str) -> None:
    from agenda.errors import ConfigErrors
    from agenda.sources import load_sources

    path = tmp_path / "sources.yaml"
    path.write_text(
        f'sources:\n  - id: x\n    name: X\n    url: "{url}"\n    kind: rss\n    region: "08"\n',
        encoding="utf-8",
    )
    with pytest.raises(
        ConfigErrors,
        match=r"sources.yaml:4: field 'url': .* must be an http:// or https:// address",
    ):
        load_sources(path)


# -- backoff across runs: three nights of a broken source, on a fake clock -----------------------
NIGHT_HOURS = range(0, 7)  # the default schedule: collect hourly 00:00-06:00, America/Santiago


def santiago(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=SANTIAGO).astimezone(UTC)


def test_backoff_over_three_failing_nights_then_full_recovery(
    faults: RunningFaultServer, linker: Linker
) -> None:
    store = Store(Database(memory=True))
    sources = [
        source("steady", f"{faults.base_url}/feed/steady.xml"),
        source("broken", f"{faults.base_url}/fault/switch/broken"),
    ]
    limits = FetchLimits(host_interval_seconds=0, retries=0, allow_private_networks=True)
    faults.server.broken.add("broken")
    attempted, deferred = [], []
    for day in (24, 25, 26):
        for hour in NIGHT_HOURS:
            before = faults.stats.requests["/fault/switch/broken"]
            summary = collect(
                sources, store, linker, limits, clock=lambda day=day, hour=hour: santiago(day, hour)
            )
            if faults.stats.requests["/fault/switch/broken"] > before:
                attempted.append((day, hour))
                assert summary.failures and summary.failures[0][0] == "broken"
            else:
                deferred.append((day, hour))
                assert summary.failures == [] and [d[0] for d in summary.deferred] == ["broken"]
    # the rule: rest 1 h, 2 h, 4 h, 8 h, 16 h … (at most 48 h) after the 1st, 2nd, 3rd … failure
    assert attempted == [(24, 0), (24, 1), (24, 3), (25, 0), (26, 0)]
    row = rows(store)["broken"]
    assert (
        row["error_count"] == 5 and row["last_error"] == "el servidor respondió con un error (503)"
    )
    assert datetime.fromisoformat(str(row["next_attempt_at_utc"])) == santiago(26, 0) + timedelta(
        hours=16
    )
    assert rows(store)["steady"]["error_count"] == 0  # the healthy source was collected every hour
    assert faults.stats.requests["/feed/steady.xml"] == 21

    faults.server.broken.clear()  # the outlet fixed its site
    recovered = collect(sources, store, linker, limits, clock=lambda: santiago(27, 0))
    assert recovered.failures == [] and recovered.deferred == [] and recovered.articles_new == 3
    row = rows(store)["broken"]
    assert (
        row["error_count"] == 0 and row["last_error"] is None and row["next_attempt_at_utc"] is None
    )
    assert row["etag"] and row["last_item_count"] == 3
    following = collect(sources, store, linker, limits, clock=lambda: santiago(27, 1))
    assert (
        following.deferred == [] and following.sources_not_modified == 2
    )  # back on the hourly schedule


def test_backoff_is_capped_at_48_hours(faults: RunningFaultServer, linker: Linker) -> None:
    store = Store(Database(memory=True))
    broken = [source("broken", f"{faults.base_url}/fault/404")]
    moment = santiago(24, 0)
    rests = []
    for _ in range(9):
        collect(
            broken,
            store,
            linker,
            FetchLimits(host_interval_seconds=0, allow_private_networks=True),
            clock=lambda moment=moment: moment,
        )
        next_attempt = datetime.fromisoformat(str(rows(store)["broken"]["next_attempt_at_utc"]))
        rests.append((next_attempt - moment) / timedelta(hours=1))
        moment = next_attempt
    assert rests == [1, 2, 4, 8, 16, 32, 48, 48, 48]


# -- feedparser's own corpus of broken feeds, served with the headers each file asks for ---------
def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*.xml"))


def test_corpus_is_complete() -> None:
    assert len(corpus_files()) == 101 and (CORPUS / "LICENSE").exists()


@pytest.mark.slow
def test_collector_never_crashes_on_feedparsers_corpus(
    faults: RunningFaultServer, linker: Linker
) -> None:
    files = corpus_files()
    sources = [
        source(f"c{i:03d}", f"{faults.base_url}/files/{path.relative_to(CORPUS).as_posix()}")
        for i, path in enumerate(files)
    ]
    store = Store(Database(memory=True))
    summary = collect(sources, store, linker)
    assert summary.sources_ok + len(summary.failures) == len(files)
    health = rows(store)
    for item in sources:
        row = health[item.id]
        # either it was read (items, possibly none: an empty feed is not an error) or the reason
        # is recorded
        assert row["last_status"] == "ok" or (
            row["last_status"] == "error" and row["last_error"]
        ), (item.url, row)
        assert "internal error" not in str(row["last_error"] or ""), (item.url, row["last_error"])
    assert summary.sources_ok >= 80  # feedparser recovers most of them; we keep what it recovers


def test_fixing_a_resting_sources_address_gets_it_tried_at_once(
    faults: RunningFaultServer, linker: Linker
) -> None:
    store = Store(Database(memory=True))
    limits = FetchLimits(retries=0, allow_private_networks=True)
    collect(
        [source("movido", f"{faults.base_url}/fault/404")],
        store,
        linker,
        limits,
        clock=lambda: santiago(24, 0),
    )
    assert rows(store)["movido"]["next_attempt_at_utc"]
    fixed = collect(
        [source("movido", f"{faults.base_url}/feed/movido.xml")],
        store,
        linker,
        limits,
        clock=lambda: santiago(24, 0),
    )
    assert fixed.deferred == [] and fixed.articles_new == 3
    assert rows(store)["movido"]["error_count"] == 0
