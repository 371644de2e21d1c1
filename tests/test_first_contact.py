"""First contact (issue 10): a new user's commands never create or damage a database by
accident, say what to type next, take options before or after the command, and start fast."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agenda.cli import build_parser, main
from agenda.collect import FetchResult
from agenda.extract import Article
from agenda.link import Linker
from agenda.sources import Source
from agenda.store import Store, open_database

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Source(id="diario", name="Diario", url="https://d.cl/feed", kind="rss", region_code="05")


@pytest.fixture
def db(tmp_path: Path, linker: Linker) -> Path:
    path = tmp_path / "made.db"
    store = Store(open_database(path))
    store.sync_sources([SOURCE])
    article = Article(
        url="https://d.cl/1",
        title="Obras del Hospital de Quilpué siguen paralizadas",
        summary="",
        source_id="diario",
        outlet="Diario",
        source_region="05",
        published_at_utc=datetime(2026, 11, 24, 12, tzinfo=UTC),
    )
    store.record_fetch(FetchResult(SOURCE, "ok"), [article], [linker.link(article.link_text())])
    store.db.close()
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["search", "hospital"],
        ["digest", "--date", "2026-11-24"],
        ["send", "--date", "2026-11-24"],
        ["feedback", "1", "--not", "05"],
        ["backup", "copia.db"],
        ["prune", "--older-than", "400d"],
    ],
)
def test_reading_commands_refuse_a_missing_database_and_create_none(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # a fresh clone's root: no agenda.db yet
    code = main([*command, "--keywords", str(ROOT / "keywords")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert (
        "--db agenda.db: no database there" in err
        and "agenda collect" in err
        and "--db PATH" in err
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no agenda.db, no digests, no lock


def test_options_before_the_command_and_after_it(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(db), "search", "--json", "Quilpué"]) == 0
    assert [row["id"] for row in json.loads(capsys.readouterr().out)] == [1]
    # after the command wins over before it
    assert main(["--db", str(tmp_path / "none.db"), "search", "Quilpué", "--db", str(db)]) == 0
    assert "Hospital de Quilpué" in capsys.readouterr().out
    assert main(["-v", "--db", str(db), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == []


def leaf_commands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> dict[str, argparse.ArgumentParser]:
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                inner = leaf_commands(sub, f"{prefix}{name} ")
                found.update(inner or {f"{prefix}{name}": sub})
    return found


def test_each_command_lists_its_own_options_first_then_the_common_ones() -> None:
    commands = leaf_commands(build_parser())
    assert {"status", "search", "send", "backup", "sources check", "sources add"} <= set(commands)
    for name, parser in commands.items():
        text = parser.format_help()
        own, _, common = text.partition("common options:")
        assert "--db DB" in common and "--config CONFIG" in common, name
        assert "--db" not in own.split("options:", 1)[-1], name
    assert "--json" in commands["search"].format_help().partition("common options:")[0]
    assert "--force" in commands["backup"].format_help().partition("common options:")[0]


@pytest.mark.parametrize("query", ['"', "AND (", "hospital AND", "(salud", "nada:hospital"])
def test_a_malformed_search_is_an_error_not_no_results(
    query: str, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", query, "--db", str(db)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "cannot read the search" in err and len(err.strip().splitlines()) == 1


def test_search_plain_words_phrases_and_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "quilpue", "--db", str(db), "--json"]) == 0  # folded accents
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["title"].startswith("Obras del Hospital") and set(rows[0]) >= {
        "id",
        "url",
        "outlet",
        "published_at_utc",
    }
    assert main(["search", '"hospital de quilpué"', "--db", str(db), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert main(["search", "Hospital-Quilpué", "--db", str(db)]) == 0  # a hyphen is no syntax error
    assert main(["search", "colegio", "--db", str(db)]) == 0
    assert capsys.readouterr().out.strip().endswith("no results")


HEAVY = ("spacy", "trafilatura", "weasyprint")
PROBE = """
import sys
from agenda.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(code, ",".join(m for m in {heavy!r} if m in sys.modules))
"""


@pytest.mark.parametrize(
    "command",
    [["status"], ["search", "hospital"], ["sources", "check"], ["--help"], ["status", "--help"]],
)
def test_light_commands_do_not_import_heavy_libraries(
    command: list[str], db: Path, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {id: d, name: D, url: 'https://d.cl/feed', "
        "kind: rss, region: '05', enabled: false}\n",
        encoding="utf-8",
    )
    args = (
        [*command, "--db", str(db), "--sources", str(sources)]
        if "--help" not in command[-1:]
        else command
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    code, _, loaded = done.stdout.strip().splitlines()[-1].partition(" ")
    assert code == "0", done.stderr
    assert loaded == "", f"{command} imported {loaded}"


def test_the_demo_says_what_to_type_next_with_the_demo_database() -> None:
    from agenda.demo import next_steps

    lines = next_steps(Path(".demo"))
    commands = [line.strip() for line in lines if line.strip().startswith(".venv/bin/agenda")]
    assert len(commands) >= 3 and all("--db .demo/agenda.db" in c for c in commands)
    assert any("escrito en el outbox" in line for line in lines)
    clean = subprocess.run(
        ["make", "-n", "clean"], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    assert "digests/*.html" in clean and "digests/*.txt" in clean
