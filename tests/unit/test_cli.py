"""The `langlearn` command: argument parsing, exit codes and messages, `packs` on a temp SQLite file.

`main()` runs in-process here (it owns its own event loop, like the real command); each test
works in its own directory so no developer `.env` is read.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bots.cli import SUBCOMMANDS, build_parser, main
from core.config import Settings

SETTING_NAMES = list(Settings.model_fields)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No langlearn setting from the environment, and no ./.env: only what a test sets."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'packs.db'}"


# --- parsing --------------------------------------------------------------------------------------


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for name in ("chat", "migrate", "packs", "doctor"):
        assert name in out


def test_subcommands_are_a_table_ready_for_more_process_kinds() -> None:
    assert set(SUBCOMMANDS) >= {"chat", "migrate", "packs", "doctor"}
    assert all(":" in sub.handler for sub in SUBCOMMANDS.values())


def test_chat_options() -> None:
    args = build_parser().parse_args(["chat", "--user", "bob", "--database", "sqlite+aiosqlite:///x.db"])
    assert (args.command, args.user, args.database, args.files_dir) == (
        "chat",
        "bob",
        "sqlite+aiosqlite:///x.db",
        "data/console",
    )
    defaults = build_parser().parse_args(["chat"])
    assert (defaults.user, defaults.database) == (None, None)


def test_packs_import_options() -> None:
    argv = ["packs", "import", "w.csv", "--slug", "food", "--target", "es", "--native", "en"]
    args = build_parser().parse_args([*argv, "--level", "A1", "--title", "Food", "--publish"])
    assert (args.packs_action, args.file, args.slug, args.target, args.native) == (
        "import",
        Path("w.csv"),
        "food",
        "es",
        "en",
    )
    assert (args.level, args.title, args.publish) == ("A1", "Food", True)


@pytest.mark.parametrize("argv", [[], ["packs"], ["packs", "import", "w.csv"], ["teleport"]])
def test_incomplete_command_lines_exit_2_with_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: langlearn" in capsys.readouterr().err


def test_importing_the_cli_loads_nothing_heavy() -> None:
    """`langlearn --help` must be instant: no SQLAlchemy, settings or services at import time."""
    heavy = {"sqlalchemy", "pydantic", "pydantic_settings", "core", "spacy", "matplotlib", "bots"}
    probe = f"import sys, bots.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['bots', 'bots.cli']"


# --- packs ----------------------------------------------------------------------------------------


def write_csv(path: Path) -> Path:
    path.write_text(
        "term,translation,example\n"
        "perro,dog,El perro come.\n"
        "gato,cat,\n"
        "perro,dog again,\n"  # already earlier in the file: skipped
        ",no term,\n"  # line 5: rejected
        "casa,house,\n",
        encoding="utf-8",
    )
    return path


def import_args(tmp_path: Path, csv: Path, *extra: str) -> list[str]:
    return ["packs", "import", str(csv), "--slug", "animals", "--database", sqlite_url(tmp_path), *extra]


NEW_PACK = ["--target", "es", "--native", "en", "--level", "A1", "--title", "Animals and home"]


def test_packs_import_creates_imports_publishes_and_lists(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_csv(isolated / "words.csv")
    assert main(import_args(isolated, csv, *NEW_PACK, "--publish")) == 0
    out = capsys.readouterr().out
    assert "Created pack animals" in out
    assert "added 3, skipped 1, rejected 1" in out
    assert "line 5:" in out
    assert "Published animals (3 words)" in out

    with sqlite3.connect(isolated / "packs.db") as db:
        rows = db.execute("SELECT term, translation FROM pack_entry ORDER BY position").fetchall()
        published = db.execute("SELECT published FROM pack WHERE slug = 'animals'").fetchone()
    assert rows == [("perro", "dog"), ("gato", "cat"), ("casa", "house")]
    assert published == (1,)

    assert main(["packs", "list", "--database", sqlite_url(isolated)]) == 0
    listing = capsys.readouterr().out
    assert "animals" in listing and "es→en" in listing and "published" in listing and "3 words" in listing


def test_packs_import_into_an_existing_pack_needs_no_languages(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write_csv(isolated / "words.csv")
    assert main(import_args(isolated, csv, *NEW_PACK)) == 0
    capsys.readouterr()
    assert main(import_args(isolated, csv)) == 0
    out = capsys.readouterr().out
    assert "existing pack animals" in out
    assert "added 0, skipped 4, rejected 1" in out


def test_packs_list_when_empty(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["packs", "list", "--database", sqlite_url(isolated)]) == 0
    assert "No packs yet" in capsys.readouterr().out


# --- user errors: one line on stderr, exit 2, no traceback ----------------------------------------


def assert_one_line_error(capsys: pytest.CaptureFixture[str], *fragments: str) -> None:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("langlearn: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in captured.out + captured.err


def test_new_pack_without_its_languages_is_explained(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_csv(isolated / "words.csv")
    assert main(import_args(isolated, csv, "--target", "es")) == 2
    assert_one_line_error(capsys, "does not exist yet", "--native", "--level", "--title")


def test_missing_file(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(import_args(isolated, isolated / "nope.csv", *NEW_PACK)) == 2
    assert_one_line_error(capsys, "no such file", "nope.csv")


def test_domain_error_is_one_line(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_csv(isolated / "words.csv")
    argv = ["packs", "import", str(csv), "--slug", "Not A Slug!", "--database", sqlite_url(isolated), *NEW_PACK]
    assert main(argv) == 2
    assert_one_line_error(capsys)


def test_unsupported_language_names_the_supported_codes(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = write_csv(isolated / "words.csv")
    bad = ["--target", "xx", "--native", "en", "--level", "A1", "--title", "T"]
    assert main(import_args(isolated, csv, *bad)) == 2
    assert_one_line_error(capsys, "xx", "es")


def test_invalid_setting_is_a_user_error(
    isolated: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    assert main(["packs", "list"]) == 2
    assert_one_line_error(capsys, "LOG_FORMAT")


# --- migrate --------------------------------------------------------------------------------------


def test_migrate_creates_the_sqlite_schema(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{isolated / 'sub' / 'fresh.db'}"
    assert main(["migrate", "--database", url]) == 0
    assert "latest schema" in capsys.readouterr().out
    with sqlite3.connect(isolated / "sub" / "fresh.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"learner", "word_bank_entry", "flashcard", "review_event", "pack"} <= tables


def test_migrate_against_an_unreachable_server_hides_the_password(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/langlearn"
    assert main(["migrate", "--database", url]) == 1
    captured = capsys.readouterr()
    assert "cannot reach the database" in captured.err
    assert "hunter2" not in captured.out + captured.err
    assert "Traceback" not in captured.err
