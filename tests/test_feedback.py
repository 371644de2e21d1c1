from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from agenda.cli import main
from agenda.collect import FetchResult
from agenda.extract import Article
from agenda.keywords import load_keywords
from agenda.link import Linker
from agenda.sources import Source
from agenda.store import Store, open_database

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Source(
    id="diario", name="Diario", url="https://d.cl/feed", kind="rss", region_code="national"
)
TEXT = "Vecinos de la población Los Cóndores en Temuco reclaman por la basura"


@pytest.fixture
def setup(tmp_path: Path):  # noqa: ANN201
    keywords_dir = tmp_path / "keywords"
    shutil.copytree(ROOT / "keywords", keywords_dir, ignore=shutil.ignore_patterns("feedback.yaml"))
    db_path = tmp_path / "agenda.db"
    store = Store(open_database(db_path))
    store.sync_sources([SOURCE])
    linker = Linker(load_keywords(keywords_dir))
    article = Article(
        url="https://d.cl/1",
        title="Corte de luz en Temuco y Lautaro",
        summary="El alcalde de Temuco pidió explicaciones.",
        source_id="diario",
        outlet="Diario",
        source_region="national",
        published_at_utc=datetime(2026, 11, 24, 12, tzinfo=UTC),
    )
    store.record_fetch(FetchResult(SOURCE, "ok"), [article], [linker.link(article.link_text())])
    return keywords_dir, db_path, store, linker, article


def codes(store: Store, kind: str) -> set[str]:
    return {row["code"] for row in store.db.query("select code from links where kind = ?", [kind])}


def test_not_removes_link_at_once_and_writes_a_rule(
    setup, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    keywords_dir, db_path, store, linker, article = setup
    assert codes(store, "commune") == {"09101", "09108"}
    args = ["--db", str(db_path), "--keywords", str(keywords_dir)]
    assert main(["feedback", "1", "--not", "09108", *args]) == 0
    out = capsys.readouterr().out
    assert "removed commune 09108" in out
    assert codes(store, "commune") == {"09101"}
    assert codes(store, "region") == {"09"}  # Temuco still supports the region
    rules = yaml.safe_load((keywords_dir / "feedback.yaml").read_text(encoding="utf-8"))[
        "exclusions"
    ]
    assert [(r["name"], str(r["code"]), r["before"], r["article"]) for r in rules] == [
        ("Lautaro", "09108", "y", 1)
    ]
    # the rule applies to the linker from then on, in that context only
    fresh = Linker(load_keywords(keywords_dir))
    assert {commune.code for commune in fresh.link("Lluvias en Temuco y Lautaro").communes} == {
        "09101"
    }
    assert "09108" in {
        commune.code for commune in fresh.link("Lluvias en Lautaro y Temuco").communes
    }
    # a re-fetch that re-links the article keeps the correction
    store.record_fetch(FetchResult(SOURCE, "ok"), [article], [linker.link(article.link_text())])
    assert codes(store, "commune") == {"09101"}


def test_not_region_takes_its_communes_and_add_puts_one_back(
    setup, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    keywords_dir, db_path, store, linker, article = setup
    args = ["--db", str(db_path), "--keywords", str(keywords_dir)]
    assert main(["feedback", "1", "--not", "09", *args]) == 0
    assert codes(store, "region") == set() and codes(store, "commune") == set()
    assert main(["feedback", "1", "--add", "09101", *args]) == 0
    assert codes(store, "commune") == {"09101"} and codes(store, "region") == {"09"}


def test_feedback_errors_are_clear(setup, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    keywords_dir, db_path, store, linker, article = setup
    args = ["--db", str(db_path), "--keywords", str(keywords_dir)]
    assert main(["feedback", "99", "--not", "09", *args]) == 1
    assert "no article with id 99" in capsys.readouterr().err
    assert main(["feedback", "1", "--not", "77777", *args]) == 1
    assert "is not a region" in capsys.readouterr().err
    assert main(["feedback", "1", "--not", "05", *args]) == 1
    assert "is not linked to 05" in capsys.readouterr().err


def _reply(
    subject: str, message_id: str | None, body: str = "La nota no es sobre esa comuna."
) -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "subsecretaria@example.cl"
    message["To"] = "analistas@example.cl"
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    return message.as_bytes()


def _digest_subject(store: Store, keywords_dir: Path) -> str:
    """The subject a reader's mail client fills in from the digest's "¿Error?" link."""
    import re
    from datetime import date
    from urllib.parse import parse_qs, urlsplit

    from agenda.reports.digest import make_digest, render_email
    from agenda.settings import DigestSettings

    _, digest = make_digest(store, load_keywords(keywords_dir), date(2026, 11, 24))
    html = render_email(digest, DigestSettings(feedback_to="analistas@example.cl"))
    link = re.search(r'href="(mailto:[^"]+)"', html).group(1).replace("&amp;", "&")
    return parse_qs(urlsplit(link).query)["subject"][0]


def test_feedback_mailbox_is_applied_once(
    setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    import mailbox

    keywords_dir, db_path, store, linker, article = setup
    subject = _digest_subject(store, keywords_dir)
    assert subject.startswith("Error en la nota 1: Corte de luz en Temuco y Lautaro")
    command = subject.rsplit("— ", 1)[1]
    code = command.split("--not ")[1]
    assert code in {"09101", "09108"} and command == f"agenda feedback 1 --not {code}"
    box_path = tmp_path / "respuestas.mbox"
    box = mailbox.mbox(box_path)
    box.add(_reply("Re: " + subject, "<r1@example.cl>"))
    box.add(_reply("Gracias por el resumen", "<r2@example.cl>"))  # no command: read, never applied
    box.add(_reply("Re: " + subject, "<r1@example.cl>"))  # the same message delivered twice
    box.flush()
    box.close()
    args = ["--db", str(db_path), "--keywords", str(keywords_dir)]

    assert main(["feedback", "inbox", str(box_path), "--dry-run", *args]) == 0
    out = capsys.readouterr().out
    assert "would apply  <r1@example.cl>" in out and f"remove commune {code}" in out
    assert code in codes(store, "commune")  # a dry run changes nothing
    assert store.processed_feedback_messages(["<r1@example.cl>"]) == set()

    assert main(["feedback", "inbox", str(box_path), *args]) == 0
    out = capsys.readouterr().out
    assert "3 messages: 1 applied, 1 no command, 1 already read" in out
    assert code not in codes(store, "commune")
    assert len(store.feedback_for(1)) == 1
    rules = (keywords_dir / "feedback.yaml").read_text(encoding="utf-8")

    assert main(["feedback", "inbox", str(box_path), *args]) == 0  # read again: nothing new
    assert "3 messages: 3 already read" in capsys.readouterr().out
    assert len(store.feedback_for(1)) == 1
    assert (keywords_dir / "feedback.yaml").read_text(
        encoding="utf-8"
    ) == rules  # rules written once
    assert {str(r["code"]) for r in yaml.safe_load(rules)["exclusions"]} == {code}


def test_feedback_maildir_add_and_errors(
    setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    import mailbox

    keywords_dir, db_path, store, linker, article = setup
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    folder.add(_reply("Falta un lugar", None, body="Corregir con: agenda feedback 1 --add 09111\n"))
    folder.add(_reply("Error en la nota 99: — agenda feedback 99 --not 09101", "<r3@example.cl>"))
    args = ["--db", str(db_path), "--keywords", str(keywords_dir)]
    assert (
        main(["feedback", "inbox", str(tmp_path / "Maildir"), *args]) == 1
    )  # one could not be applied
    out = capsys.readouterr().out
    assert "no article with id 99" in out and "1 applied" in out
    assert "09111" in codes(store, "commune")  # Nueva Imperial, from the body; no Message-ID needed
    assert main(["feedback", "inbox", str(tmp_path / "Maildir"), *args]) == 0
    assert "2 messages: 2 already read" in capsys.readouterr().out
    assert main(["feedback", "inbox", str(tmp_path / "nowhere"), *args]) == 1
    assert "no such mbox file or Maildir folder" in capsys.readouterr().err
