from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agenda.cli import main
from agenda.errors import ConfigErrors
from agenda.sources import load_sources, normalise_region

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
sources:
  - id: diario-uno
    name: Diario Uno
    url: https://diario-uno.cl/feed
    kind: rss
    region: "16"
    enabled: true
    tags: [diario]
  - id: listado
    name: Listado
    url: https://listado.cl/noticias
    kind: html
    region: national
    selectors:
      item: article
      link: a
      title: h2
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    sources = load_sources(write(tmp_path, GOOD))
    assert [s.id for s in sources.sources] == ["diario-uno", "listado"]
    assert sources.sources[0].region_code == "16"
    assert sources.sources[1].selectors is not None and sources.sources[1].selectors.title == "h2"


def test_repository_sources_file_is_valid() -> None:
    sources = load_sources(ROOT / "sources.yaml")
    assert len(sources.sources) >= 15
    assert all(s.url.startswith("https://") for s in sources.sources)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        # bad indentation
        (GOOD.replace("    name: Diario Uno", "   name: Diario Uno"), 3, None, "YAML syntax error"),
        # missing url
        (GOOD.replace("    url: https://diario-uno.cl/feed\n", ""), 2, "url", "missing"),
        # unknown kind
        (GOOD.replace("kind: rss", "kind: rdf"), 5, "kind", "unknown kind 'rdf'"),
        # unknown region code
        (GOOD.replace('region: "16"', 'region: "17"'), 6, "region", "unknown region code '17'"),
        # not http
        (GOOD.replace("https://diario-uno.cl/feed", "file:///etc/passwd"), 4, "url", "http"),
        # html without selectors
        (
            GOOD.replace(
                "    selectors:\n      item: article\n      link: a\n      title: h2\n", ""
            ),
            9,
            "selectors",
            "needs selectors",
        ),
        # typo in a field name
        (GOOD.replace("    enabled: true", "    enabeld: true"), 7, "enabeld", "unknown field"),
    ],
)
def test_broken_file_names_file_line_and_field(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    line: int,
    field: str | None,
    words: str,
) -> None:
    path = write(tmp_path, text)
    code = main(["sources", "check", "--sources", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:{line}" in err
    if field:
        assert f"field '{field}'" in err
    assert words in err
    assert "Traceback" not in err


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("kind: rss", "kind: rdf").replace('region: "16"', "region: 99")
    with pytest.raises(ConfigErrors) as info:
        load_sources(write(tmp_path, text))
    assert {e.field for e in info.value.errors} == {"kind", "region"}


def test_duplicate_ids_rejected(tmp_path: Path) -> None:
    text = GOOD.replace("id: listado", "id: diario-uno")
    with pytest.raises(ConfigErrors, match="duplicate id 'diario-uno'"):
        load_sources(write(tmp_path, text))


def test_installed_command_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("kind: rss", "kind: rdf"))
    agenda = Path(sys.executable).parent / "agenda"
    done = subprocess.run(
        [str(agenda), "collect", "--sources", str(path), "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert f"{path}:5: field 'kind'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("08", "08"),
        (8, "08"),
        ("8", "08"),
        ("national", "national"),
        ("17", None),
        (True, None),
        ("x", None),
    ],
)
def test_normalise_region(value: object, expected: str | None) -> None:
    assert normalise_region(value) == expected
