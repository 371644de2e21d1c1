"""Hostile configuration (issue 10): every bad file, path, option or number is one line on stderr
naming the file or option, exit 2, never a traceback; a bad recipient does not stop the others."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agenda.cli import main
from agenda.errors import ConfigError, ConfigErrors
from agenda.keywords import load_keywords
from agenda.store import open_database
from agenda.yamlconf import load_yaml_text

ROOT = Path(__file__).resolve().parent.parent

ALIAS_BOMB = (
    "\n".join(
        [f"a0: &a0 [{', '.join(['lol'] * 9)}]"]
        + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    )
    + "\n"
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str, *names: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for name in names:
        assert name in lines[0], (name, err)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "agenda.db"
    open_database(path).close()
    return path


# -- paths ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "option,command",
    [
        ("--sources", ["sources", "check"]),
        ("--config", ["status"]),
        ("--recipients", ["send"]),
        ("--db", ["status"]),
        ("--keywords", ["digest"]),
    ],
)
def test_a_folder_given_as_a_file_is_named(
    option: str, command: list[str], tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    args = ["--db", str(db), *command, option, str(folder)]
    if option == "--keywords":  # the reverse: a file where a folder is expected
        args[-1] = str(db)
    code, _, err = run(capsys, *args)
    assert code == 2
    assert_one_line(err, option, args[-1])


def test_a_file_given_as_the_digest_folder_is_named(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "digest", "--db", str(db), "--digests", str(db))
    assert code == 2
    assert_one_line(err, "--digests", str(db), "not a folder")


def write_db(path: Path) -> None:
    db = open_database(path)
    db["runs"].insert_all(
        {"started_at_utc": "2026-11-24T00:00:00+00:00", "status": "ok", "errors": "x" * 4000}
        for _ in range(200)
    )
    db.execute("pragma wal_checkpoint(truncate)")
    db.close()


@pytest.mark.parametrize("damage", ["text", "truncated", "foreign", "half-header"])
def test_a_database_that_is_not_ours_is_refused_and_left_alone(
    damage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "agenda.db"
    if damage == "text":
        path.write_text("nombre,comuna\nAna,Temuco\n", encoding="utf-8")
    elif damage == "half-header":
        path.write_bytes(b"SQLite format 3\x00\x10\x00")
    elif damage == "truncated":
        write_db(path)
        with open(path, "r+b") as handle:
            handle.truncate(path.stat().st_size // 2)
    else:
        other = sqlite3.connect(path)
        other.execute("create table clientes (rut text, nombre text)")
        other.commit()
        other.close()
    before = path.read_bytes()
    for command in (
        ["status"],
        ["search", "hospital"],
        ["collect", "--sources", str(ROOT / "sources.yaml")],
    ):
        code, _, err = run(capsys, *command, "--db", str(path))
        assert code == 2, command
        assert_one_line(err, str(path))
    assert path.read_bytes() == before  # no migration, no WAL, no new table in their file
    assert not Path(f"{path}-wal").exists()


def as_nobody(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run agenda as an unprivileged user: root reads and writes whatever the mode bits say."""
    command = [sys.executable, "-m", "agenda.cli", *args]
    if os.geteuid() == 0:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the unprivileged user can enter but not write (pytest's tmp_path is private)."""
    folder = Path(tempfile.mkdtemp(prefix="agenda-ro-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_unreadable_file_and_read_only_database_are_named(shared_dir: Path) -> None:
    db = shared_dir / "agenda.db"
    open_database(db).close()
    db.chmod(0o444)
    config = shared_dir / "private.yaml"
    config.write_text("mail:\n  to: [a@example.cl]\n", encoding="utf-8")
    config.chmod(0o600)
    unreadable = as_nobody(["status", "--db", str(db), "--config", str(config)], shared_dir)
    assert unreadable.returncode == 2
    assert_one_line(unreadable.stderr, str(config), "cannot be read")
    read_only = as_nobody(["status", "--db", str(db)], shared_dir)
    assert read_only.returncode == 2
    assert_one_line(read_only.stderr, str(db), "read-only")


# -- agenda.yaml --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,expected",
    [
        ("? [a, b]\n: 1\n", "keys must be plain words"),
        ("mail: [a, b]\n", "field 'mail': must be a mapping"),
        ("fetch: [1]\n", "field 'fetch': must be a mapping"),
        ("schedule: hourly\n", "field 'schedule': must be a mapping"),
        (ALIAS_BOMB, "aliases expand to more than"),
        ("a: &x [1, *x]\n", "refers to the value that contains it"),
        (
            "mail:\n  first_retry_seconds: 1e20\n",
            "field 'first_retry_seconds': must be a whole number",
        ),
        ("mail:\n  first_retry_seconds: 1.0e+20\n", "field 'first_retry_seconds'"),
        ("mail:\n  first_retry_seconds: 100000000000000000000\n", "out of range"),
        (
            "mail:\n  send_deadline_seconds: -1\n",
            "field 'send_deadline_seconds': -1 is out of range",
        ),
        ("mail:\n  smtp_port: 70000\n", "field 'smtp_port'"),
        ("fetch:\n  timeout_seconds: -3\n", "field 'timeout_seconds': -3 is out of range"),
        ("fetch:\n  timeout_seconds: .nan\n", "field 'timeout_seconds': nan is out of range"),
        ("fetch:\n  timeout_seconds: .inf\n", "field 'timeout_seconds': inf is out of range"),
        (
            "schedule:\n  misfire_grace_seconds: -5\n",
            "field 'misfire_grace_seconds': -5 is out of range",
        ),
        (
            "mail:\n  smpt_host: smtp.example.cl\n",
            "field 'smpt_host': unknown key in mail:; did you mean 'smtp_host'?",
        ),
        (
            "mial:\n  to: [a@example.cl]\n",
            "field 'mial': unknown key in agenda.yaml; did you mean 'mail'?",
        ),
        ("fetch:\n  concurency: 4\n", "did you mean 'concurrency'?"),
        ('mail:\n  from: "a@x.cl\\r\\nBcc: b@y.cl"\n', "field 'from'"),
    ],
)
def test_bad_agenda_yaml_is_one_line_naming_file_and_field(
    text: str, expected: str, tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agenda.yaml"
    config.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "status", "--db", str(db), "--config", str(config))
    assert code == 2
    assert_one_line(err, str(config), expected)


def test_alias_bomb_is_refused_before_anything_walks_it() -> None:
    # refused while composing: the 387 million values are never built or printed
    with pytest.raises(ConfigError, match="aliases expand"):
        load_yaml_text(ALIAS_BOMB, "bomb.yaml")
    small = load_yaml_text("base: &b {x: 1}\none:\n  <<: *b\n  y: 2\nlist: [*b, *b]\n", "ok.yaml")
    assert small["one"] == {"x": 1, "y": 2} and small["list"] == [{"x": 1}, {"x": 1}]


def write_sources(path: Path, entry: str) -> Path:
    path.write_text(
        'sources:\n  - id: diario\n    name: Diario\n    region: "08"\n' + entry, encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    "entry,expected",
    [
        (
            '    url: "http://[::1"\n    kind: rss\n',
            "field 'url': 'http://[::1' is not a valid address",
        ),
        ('    url: "http://diario.cl:99999/"\n    kind: rss\n', "field 'url'"),
        (
            '    url: "https://diario.cl/"\n    kind: html\n'
            '    selectors: {item: "div.nota", link: "a[href", title: h2}\n',
            "field 'selectors.link': 'a[href' is not a valid CSS selector",
        ),
        (
            '    url: "https://diario.cl/"\n    kind: html\n'
            '    selectors: {item: "div >", link: a, title: h2}\n',
            "field 'selectors.item'",
        ),
        (
            '    url: "https://diario.cl/"\n    kind: html\n'
            '    selectors: {item: div, link: a, title: h2, date: "time:nth-child("}\n',
            "field 'selectors.date'",
        ),
        (
            '    url: "https://diario.cl/"\n    kind: html\n'
            "    selectors: {item: div, link: a, title: [h2]}\n",
            "field 'selectors.title': must be a CSS selector in quotes",
        ),
    ],
)
def test_sources_check_rejects_bad_urls_and_selectors(
    entry: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = write_sources(tmp_path / "sources.yaml", entry)
    code, out, err = run(
        capsys, "sources", "check", "--sources", str(sources), "--db", str(tmp_path / "none.db")
    )
    assert code == 2 and out == ""
    assert_one_line(err, str(sources), expected)
    assert not (tmp_path / "none.db").exists()


# -- keyword files of the wrong shape ---------------------------------------------------------
@pytest.fixture
def keywords_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "keywords"
    shutil.copytree(
        ROOT / "keywords", folder, ignore=shutil.ignore_patterns("dpa", "feedback.yaml")
    )
    return folder


@pytest.mark.parametrize(
    "file,text,expected",
    [
        ("aliases.yaml", "- Rapa Nui\n- Chiloé\n", "must be a mapping with communes:"),
        ("aliases.yaml", "places: {name: Chiloé}\n", "field 'places': must be a list"),
        ("disambiguation.yaml", "- Pinto\n", "must be a mapping with ambiguous:"),
        ("disambiguation.yaml", "never: 3\n", "field 'never': must be a list"),
        (
            "feedback.yaml",
            "- name: Temuco\n  code: '09101'\n",
            "must be a mapping with exclusions:",
        ),
        ("feedback.yaml", "exclusions: 7\n", "field 'exclusions': must be a list"),
    ],
)
def test_keyword_files_of_the_wrong_type_are_named(
    file: str, text: str, expected: str, keywords_dir: Path
) -> None:
    (keywords_dir / file).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigErrors) as info:
        load_keywords(keywords_dir)
    assert str(keywords_dir / file) in str(info.value) and expected in str(info.value)


def test_a_list_as_a_commitments_priority_is_named(
    keywords_dir: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = keywords_dir / "commitments.yaml"
    text = path.read_text(encoding="utf-8")
    first = text.index("priority:")
    end = text.index("\n", first)
    path.write_text(text[:first] + "priority: [x]" + text[end:], encoding="utf-8")
    code, _, err = run(
        capsys,
        "digest",
        "--db",
        str(db),
        "--keywords",
        str(keywords_dir),
        "--digests",
        str(db.parent / "d"),
    )
    assert code == 2 and "Traceback" not in err
    assert f"{path}:" in err and "field 'priority': must be one priority id" in err


def test_a_keyword_the_matcher_cannot_search_is_named(
    keywords_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a dash between letters is a place where a blank may stand or not: 2**12 forms to search
    path = keywords_dir / "priorities.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[delincuencia,", "[a-b-c-d-e-f-g-h-i-j-k-l-m,"), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"text": "hola"}\n')))
    code, out, err = run(capsys, "link", "--keywords", str(keywords_dir))
    assert code == 2 and out == ""
    assert_one_line(err, str(path), "a - b - c", "optional")


# -- numbers on the command line ---------------------------------------------------------------
@pytest.mark.parametrize(
    "args,expected",
    [
        (["search", "hospital", "--limit", "1e20"], "'1e20' is not a whole number"),
        (["search", "hospital", "--limit", "100000000000000000000"], "is out of range"),
        (["search", "hospital", "--limit", "0"], "is out of range"),
        (["prune", "--older-than", "99999999999d"], "'99999999999d' is out of range"),
        (["prune", "--older-than", "0d"], "out of range"),
        (["status", "--runs", "-1"], "out of range"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(
    args: list[str], expected: str, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([*args, "--db", str(db)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and expected in err and "Traceback" not in err


# -- recipients -----------------------------------------------------------------------------------
BAD_ADDRESSES = [
    "uno@example.cl\r\nBcc: espia@example.cl",
    "dos@example.cl, tres@example.cl",
    "@",
    "sin-arroba.cl",
]


def test_one_bad_recipient_does_not_stop_the_others(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    recipients = tmp_path / "recipients.yaml"
    entries = (
        [{"address": "bueno@example.cl"}]
        + [{"address": a} for a in BAD_ADDRESSES]
        + [{"address": "otro@example.cl", "regions": ["08"]}]
    )
    recipients.write_text(
        yaml.safe_dump({"recipients": entries}, allow_unicode=True), encoding="utf-8"
    )
    config = tmp_path / "agenda.yaml"
    config.write_text(f"mail:\n  outbox: {tmp_path / 'outbox'}\n", encoding="utf-8")
    code, out, err = run(
        capsys,
        "send",
        "--db",
        str(db),
        "--config",
        str(config),
        "--recipients",
        str(recipients),
        "--digests",
        str(tmp_path / "digests"),
        "--date",
        "2026-11-24",
    )
    assert code == 2  # configuration error, reported; the good addresses still got their mail
    sent = sorted(p.name for p in (tmp_path / "outbox").glob("*.eml"))
    assert (
        len(sent) == 2
        and any("bueno@example.cl" in n for n in sent)
        and any("otro@example.cl" in n for n in sent)
    )
    assert "2 escrito en el outbox" in out
    lines = err.strip().splitlines()
    assert len(lines) == len(BAD_ADDRESSES) and all(str(recipients) in line for line in lines)
    assert (
        "line break" in lines[0]
        and "more than one address" in lines[1]
        and "not an e-mail address" in lines[2]
    )


def test_bad_addresses_in_agenda_yaml_are_reported_and_skipped(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agenda.yaml"
    config.write_text(
        f"mail:\n  outbox: {tmp_path / 'outbox'}\n"
        '  to: ["bueno@example.cl", "@", "a@x.cl b@y.cl"]\n',
        encoding="utf-8",
    )
    code, _, err = run(
        capsys,
        "send",
        "--db",
        str(db),
        "--config",
        str(config),
        "--digests",
        str(tmp_path / "digests"),
        "--date",
        "2026-11-24",
    )
    assert code == 2
    assert [p.name for p in (tmp_path / "outbox").glob("*.eml")] and len(
        err.strip().splitlines()
    ) == 2
    assert f"{config}:3: field 'to'" in err


# -- agenda link -----------------------------------------------------------------------------------
def test_link_reports_each_bad_line_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import json

    good = json.dumps({"title": "Corte de agua en Temuco"}).encode()
    lines = [
        good,
        b'{"title": "Corte en Temuco \xff\xfe"}',  # 2: not UTF-8
        b'{"title": "\\ud800 Temuco"}',  # 3: a lone surrogate
        b"[" * 100_000 + b"]" * 100_000,  # 4: nested 100k deep
        json.dumps({"title": "Temuco " * 200_000}).encode(),  # 5: 1.4 million characters
        b"[1, 2]",  # 6: not an object
        b"",  # 7: blank, skipped silently
        good,  # 8
    ]
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\n".join(lines) + b"\n"), encoding="utf-8")
    )
    code = main(["link", "--keywords", str(ROOT / "keywords")])
    out, err = capsys.readouterr()
    assert code == 1
    outputs = [json.loads(line) for line in out.splitlines()]
    assert len(outputs) == 2 and all(o["communes"] for o in outputs)
    reported = [line.split(":")[0] for line in err.strip().splitlines()]
    assert reported == [f"stdin line {n}" for n in (2, 3, 4, 5, 6)], err
    assert (
        "not UTF-8" in err
        and "surrogate" in err
        and "nested too deeply" in err
        and "the limit is" in err
    )
