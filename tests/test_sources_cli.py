"""`agenda sources check` and `agenda sources add` against the loopback fault server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from agenda.cli import main
from agenda.collect import FetchLimits, make_client
from agenda.link import Linker
from agenda.pipeline import collect_and_store
from agenda.settings import Settings
from agenda.sources import load_sources
from agenda.store import Store, open_database
from tests.faultserver import RunningFaultServer, serve_faults

SOURCES = """\
# Fuentes de prueba: los comentarios y el orden deben sobrevivir a `sources add`.
sources:
  - id: uno          # el que funciona
    name: Diario Uno
    url: "{base}/feed/uno.xml"
    kind: rss
    region: "08"

  - id: roto
    name: Roto
    url: "{base}/fault/404"
    kind: rss
    region: "05"
  - id: pagina
    name: Página en vez de feed
    url: "{base}/fault/html"
    kind: rss
    region: national
  - id: apagado
    name: Apagado
    url: "{base}/feed/apagado.xml"
    kind: rss
    region: national
    enabled: false
"""


@pytest.fixture
def server() -> Iterator[RunningFaultServer]:
    with serve_faults() as running:
        yield running


@pytest.fixture
def sources_file(tmp_path: Path, server: RunningFaultServer) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES.format(base=server.base_url), encoding="utf-8")
    # the fault server is on loopback, which the collector refuses unless told otherwise
    (tmp_path / "agenda.yaml").write_text(
        "fetch:\n  allow_private_networks: true\n", encoding="utf-8"
    )
    return path


def loopback_config(sources_file: Path) -> list[str]:
    return ["--config", str(sources_file.parent / "agenda.yaml")]


def check(sources_file: Path, *extra: str) -> int:
    return main(
        [
            "sources",
            "check",
            "--sources",
            str(sources_file),
            "--db",
            str(sources_file.parent / "agenda.db"),
            *loopback_config(sources_file),
            *extra,
        ]
    )


def test_check_prints_a_table_and_exits_1_when_a_source_is_unhealthy(
    sources_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(sources_file) == 1
    out, err = capsys.readouterr()
    lines = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert lines["uno"].split()[1:3] == ["ok", "3"] and "2026-11-24T16:00:00+00:00" in lines["uno"]
    assert "failed" in lines["roto"] and "la página no existe (404)" in lines["roto"]
    assert "devolvió una página web (HTML)" in lines["pagina"]
    assert "disabled" in lines["apagado"]
    assert out.splitlines()[-1] == "1 ok, 2 failed, 1 disabled"
    assert err == ""  # no progress bar when stderr is not a terminal (cron, CI)
    assert not (sources_file.parent / "agenda.db").exists()  # a probe creates no database


def test_check_json_and_exit_0_when_all_are_healthy(
    sources_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = sources_file.read_text(encoding="utf-8")
    sources_file.write_text(text[: text.index("  - id: roto")], encoding="utf-8")
    assert check(sources_file, "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"], r["items"]) for r in rows] == [("uno", "ok", 3)]
    assert set(rows[0]) >= {
        "newest",
        "latency_seconds",
        "error",
        "error_count",
        "next_attempt_at_utc",
    }


def test_check_shows_progress_on_a_terminal(
    sources_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    check(sources_file)
    assert "probing sources" in capsys.readouterr().err


def test_check_shows_a_resting_source_and_uses_conditional_get(
    sources_file: Path,
    server: RunningFaultServer,
    linker: Linker,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db_path = sources_file.parent / "agenda.db"

    async def night() -> None:
        async with make_client() as client:
            settings = Settings(
                fetch=FetchLimits(host_interval_seconds=0, allow_private_networks=True)
            )
            await collect_and_store(
                load_sources(sources_file), linker, client, Store(open_database(db_path)), settings
            )

    asyncio.run(night())
    feed_bytes = server.stats.bytes_by_path["/feed/uno.xml"]
    assert check(sources_file, "--json") == 1
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["uno"]["not_modified"] and rows["uno"]["items"] == 3 and rows["uno"]["newest"]
    assert server.stats.bytes_by_path["/feed/uno.xml"] == feed_bytes  # the probe got a 304
    assert (
        rows["roto"]["error_count"] == 1 and rows["roto"]["next_attempt_at_utc"]
    )  # resting after a failed night
    assert check(sources_file) == 1
    assert "resting after 1 failure in a row; next nightly attempt" in capsys.readouterr().out
    assert Database(db_path)["sources"].get("uno")["last_status"] == "ok"  # untouched by the probe


def add(sources_file: Path, url: str, *extra: str) -> int:
    return main(
        [
            "sources",
            "add",
            url,
            "--sources",
            str(sources_file),
            *loopback_config(sources_file),
            *extra,
        ]
    )


def test_add_discovers_the_announced_feed_and_keeps_the_file_as_it_was(
    sources_file: Path, server: RunningFaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sources_file.read_text(encoding="utf-8")
    assert add(sources_file, f"{server.base_url}/home/el-austral/", "--region", "11") == 0
    out = capsys.readouterr().out
    assert f"announced {server.base_url}/feed/el-austral.xml: ok, 3 items" in out
    assert (
        f"announced {server.base_url}/fault/404: la página no existe (404)" in out
    )  # the comments feed, broken
    after = sources_file.read_text(encoding="utf-8")
    assert after.startswith(before)  # comments, blank lines, order and quoting untouched
    assert after[len(before) :] == (
        "  - id: el-austral\n"
        "    name: Diario el-austral\n"
        f"    url: {server.base_url}/feed/el-austral.xml\n"
        "    kind: rss\n"
        '    region: "11"\n'
        "    enabled: true\n"
    )
    added = load_sources(sources_file).by_id("el-austral")
    assert added.region_code == "11" and added.enabled and added.kind == "rss"


def test_add_accepts_a_feed_address_and_refuses_a_duplicate(
    sources_file: Path, server: RunningFaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        add(
            sources_file,
            f"{server.base_url}/feed/directo.xml",
            "--id",
            "directo",
            "--name",
            "Directo",
        )
        == 0
    )
    assert load_sources(sources_file).by_id("directo").region_code == "national"
    before = sources_file.read_text(encoding="utf-8")
    assert add(sources_file, f"{server.base_url}/feed/directo.xml?utm_source=x") == 1
    assert "is already in" in (err := capsys.readouterr().err) and "as 'directo' (line 25)" in err
    assert sources_file.read_text(encoding="utf-8") == before


def test_add_without_a_working_feed_changes_nothing(
    sources_file: Path, server: RunningFaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sources_file.read_text(encoding="utf-8")
    assert add(sources_file, f"{server.base_url}/fault/html") == 1
    out, err = capsys.readouterr()
    assert f"guessed   {server.base_url}/feed/: la página no existe (404)" in out
    assert "no working feed found" in err
    assert sources_file.read_text(encoding="utf-8") == before


def test_add_dry_run_and_bad_region(
    sources_file: Path, server: RunningFaultServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sources_file.read_text(encoding="utf-8")
    assert add(sources_file, f"{server.base_url}/home/tres/", "--dry-run") == 0
    assert '"id": "tres"' in capsys.readouterr().out
    assert add(sources_file, f"{server.base_url}/home/tres/", "--region", "17") == 2
    assert "unknown region code '17'" in capsys.readouterr().err
    assert sources_file.read_text(encoding="utf-8") == before


def test_add_to_a_file_with_unindented_items(tmp_path: Path, server: RunningFaultServer) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n- id: a\n  name: A\n  url: https://a.cl/feed\n  kind: rss\n  region: national\n",
        encoding="utf-8",
    )
    (tmp_path / "agenda.yaml").write_text(
        "fetch:\n  allow_private_networks: true\n", encoding="utf-8"
    )
    assert add(path, f"{server.base_url}/home/b/") == 0
    assert path.read_text(encoding="utf-8").endswith(
        "- id: b\n  name: Diario b\n"
        + f"  url: {server.base_url}/feed/b.xml\n  kind: rss\n  region: national\n  enabled: true\n"
    )
