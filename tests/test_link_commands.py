"""`agenda eval --mistakes` names what went wrong, and `agenda link` streams (issue 14)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from agenda.evaluate import evaluate, format_mistake
from agenda.link import Linker

ROOT = Path(__file__).resolve().parent.parent
AGENDA = str(Path(sys.executable).parent / "agenda")


def test_mistakes_show_names_and_evidence(linker: Linker) -> None:
    item = {
        "id": "x1",
        "title": "Lluvias en Coquimbo",
        "text": "Vecinos de Ovalle sin luz.",
        "regions": ["04"],
        "communes": ["04301", "04101"],
        "commitments": [],
    }
    mistakes = {m.level: m for m in evaluate(linker, [item]).mistakes}
    shown = format_mistake(mistakes["communes"])
    assert "missing 04101 La Serena" in shown
    assert "extra 04102 Coquimbo" in shown
    assert "Lluvias en [Coquimbo]" in shown  # the evidence, marked in its context


def test_eval_command_prints_names(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        json.dumps(
            {
                "id": "x2",
                "title": "Temporal en Valparaíso",
                "text": "",
                "regions": [],
                "communes": [],
            }
        )
        + "\n"
    )
    done = subprocess.run(
        [AGENDA, "eval", str(gold), "--mistakes", "--keywords", str(ROOT / "keywords")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "x2 communes: extra 05101 Valparaíso" in done.stdout
    assert "Temporal en [Valparaíso]" in done.stdout


def _read_line(stream: IO[str]) -> str:
    """One line, or fail (rather than hang) if none comes while stdin stays open. The wait is a
    guard against hanging the suite, not a speed claim: a linker that waits for EOF never
    answers."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout=300)
    assert lines, "no output before the end of input: agenda link does not stream"
    return lines[0]


def test_link_command_streams(tmp_path: Path) -> None:
    """The first answer comes back while stdin is still open: nothing waits for the end of input."""
    process = subprocess.Popen(
        [AGENDA, "link", "--keywords", str(ROOT / "keywords")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        for title, commune in (("Lluvias en Temuco", "09101"), ("Vecinos de Quilpué", "05801")):
            process.stdin.write(json.dumps({"title": title}) + "\n")
            process.stdin.flush()
            answer = json.loads(_read_line(process.stdout))
            assert answer["title"] == title
            assert [c["code"] for c in answer["communes"]] == [commune]
        process.stdin.close()
        assert process.stdout.read() == ""
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
