from __future__ import annotations

import argparse

import pytest

from agenda.cli import build_parser, main


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = sub
                for inner, subsub in subcommands(sub).items():
                    found[f"{name} {inner}"] = subsub
    return found


def test_every_command_has_help_text() -> None:
    commands = subcommands(build_parser())
    assert {
        "collect",
        "link",
        "digest",
        "send",
        "run",
        "schedule",
        "search",
        "sources check",
    } <= set(commands)
    for name, parser in commands.items():
        assert parser.description, name


def test_bad_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["digest", "--date", "24-11-2026"])
    assert info.value.code == 2
    assert "is not a date like 2026-11-24" in capsys.readouterr().err


def test_missing_keywords_folder_is_a_config_error(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    assert (
        main(["digest", "--keywords", str(tmp_path / "nope"), "--db", str(tmp_path / "a.db")]) == 2
    )
    assert "keywords directory not found" in capsys.readouterr().err
