"""The `langlearn` command: one entry point, one subcommand per process kind.

Start-up matters here (`langlearn --help` and the console's first prompt), so this module imports
only the standard library; each subcommand's handler is named as "module:function" and imported
when it runs. A new process kind (`telegram`, `discord`, `worker`) is one more `Subcommand` in
`SUBCOMMANDS`.

Exit codes: 0 ok, 1 an unexpected failure or an unreachable database, 2 a user error (bad
arguments, a missing file, a domain error), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import socket
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.bootstrap import Services
    from core.config import Settings

logger = logging.getLogger("langlearn.cli")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]


class UserError(Exception):
    """A mistake the user can fix; printed as one line, exit code 2."""


@dataclass(frozen=True)
class Subcommand:
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    handler: str  # "module:function", imported only when the subcommand runs


# --- argument parsing -------------------------------------------------------------------------


def _database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy async URL; overrides DATABASE_URL (default: the embedded SQLite file)",
    )


def _configure_chat(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", metavar="NAME", help="the learner to be (default: $USER, else 'local')")
    _database_option(parser)
    parser.add_argument(
        "--files-dir",
        metavar="DIR",
        default="data/console",
        help="where charts, exports and audio are written (default: ./data/console)",
    )


def _configure_packs(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="packs_action", metavar="ACTION", required=True)
    importer = actions.add_parser(
        "import",
        help="import a CSV/TSV file (term, translation, optional example) into a pack",
        description="Create the pack when it does not exist yet, then import FILE into it.",
    )
    importer.add_argument("file", metavar="FILE", type=Path, help="CSV or TSV file, UTF-8")
    importer.add_argument("--slug", required=True, help="the pack's slug, e.g. spanish-food")
    importer.add_argument("--target", help="language learned, e.g. es (needed to create the pack)")
    importer.add_argument("--native", help="language of the translations, e.g. en (needed to create the pack)")
    importer.add_argument("--level", help="CEFR level A1–C2 (needed to create the pack)")
    importer.add_argument("--title", help="title shown to learners (needed to create the pack)")
    importer.add_argument("--publish", action="store_true", help="publish the pack after importing")
    _database_option(importer)
    lister = actions.add_parser("list", help="list every pack, drafts included")
    _database_option(lister)


def _configure_worker(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="health check: exit 0 when a worker on REDIS_URL reported in the last minute, else 1",
    )


def _configure_nothing(parser: argparse.ArgumentParser) -> None:
    """Subcommands without options."""


SUBCOMMANDS: dict[str, Subcommand] = {
    "chat": Subcommand("chat with the bot in this terminal (embedded default)", _configure_chat, "bots.console:run"),
    "telegram": Subcommand(
        "run the Telegram bot (long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set)",
        _database_option,
        "bots.telegram:run",
    ),
    "migrate": Subcommand(
        "upgrade the database schema to the latest version", _database_option, "bots.cli:run_migrate"
    ),
    "packs": Subcommand("import and list word packs", _configure_packs, "bots.cli:run_packs"),
    "worker": Subcommand(
        "run the background worker (arq on REDIS_URL): articles, speech, reminders",
        _configure_worker,
        "bots.cli:run_worker",
    ),
    "doctor": Subcommand(
        "show which platforms and providers are configured (never prints a secret)",
        _configure_nothing,
        "bots.cli:run_doctor",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="langlearn",
        description="langlearn: a language-learning bot. Settings come from the environment and ./.env.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, sub in SUBCOMMANDS.items():
        sub.configure(commands.add_parser(name, help=sub.help, description=sub.help))
    return parser


# --- shared helpers for handlers --------------------------------------------------------------


def load_settings(database: str | None = None) -> Settings:
    """Settings from the environment and ./.env; `--database` wins over DATABASE_URL."""
    from pydantic import ValidationError

    from core.config import Settings

    overrides: dict[str, Any] = {"DATABASE_URL": database} if database else {}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UserError(f"invalid settings: {problems}") from None


def display_url(url: str) -> str:
    """The database URL with any password masked, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        raise UserError(f"not a database URL: {url.split('@')[-1]!r}") from None


def configure_logging(settings: Settings, *, quiet: bool = False) -> None:
    """Logs go to stderr (secrets redacted) so stdout stays the command's output.

    `quiet` (the console, `packs`): unless LOG_LEVEL was set explicitly, only warnings, since
    stderr is usually the same terminal and Alembic's or spaCy's INFO lines would cut through
    the conversation or the report. `langlearn migrate` keeps LOG_LEVEL's default, INFO.
    """
    from core.logging import configure_logging as configure_core_logging

    configure_core_logging(settings)
    if quiet and "LOG_LEVEL" not in settings.model_fields_set:
        logging.getLogger().setLevel(logging.WARNING)


async def open_services(settings: Settings) -> Services:
    """Bootstrap the services, failing early and clearly on an unusable database.

    The embedded SQLite file is migrated by bootstrap itself; any other database must already be
    migrated, and that is checked now rather than at the first message.
    """
    from core.bootstrap import bootstrap

    if not settings.is_sqlite:
        await _require_current_schema(settings.DATABASE_URL)
    return await bootstrap(settings)


async def _require_current_schema(url: str) -> None:
    from alembic.script import ScriptDirectory

    from core.outbound.postgres.migrate import alembic_config, current_revision

    current = await current_revision(url)  # also the first connection: unreachable fails here
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if current != head:
        state = "has no langlearn tables yet" if current is None else f"is at schema {current}, not {head}"
        raise UserError(f"the database {display_url(url)} {state}: run `langlearn migrate` first")


async def with_services(settings: Settings, work: Callable[[Services], Coroutine[Any, Any, int]]) -> int:
    """Open the services, run `work`, and always close them."""
    services = await open_services(settings)
    try:
        return await work(services)
    finally:
        await services.aclose()


# --- migrate ----------------------------------------------------------------------------------


def run_migrate(args: argparse.Namespace) -> int:
    """`langlearn migrate`: upgrade the database to the newest migration."""
    import asyncio

    from core.outbound.postgres.migrate import upgrade_to_head

    settings = load_settings(args.database)
    configure_logging(settings)
    url = settings.DATABASE_URL
    shown = display_url(url)
    asyncio.run(upgrade_to_head(url))
    print(f"Database {shown} is at the latest schema.")
    return EXIT_OK


# --- packs ------------------------------------------------------------------------------------


def run_packs(args: argparse.Namespace) -> int:
    """`langlearn packs import|list`."""
    import asyncio

    settings = load_settings(args.database)
    configure_logging(settings, quiet=True)
    if args.packs_action == "import":
        data = _read_pack_file(args.file)
        return asyncio.run(with_services(settings, lambda services: _import_pack(services, args, data)))
    return asyncio.run(with_services(settings, _list_packs))


def _read_pack_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder, not a CSV/TSV file") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None


async def _import_pack(services: Services, args: argparse.Namespace, data: bytes) -> int:
    from core.domain.errors import NotFound

    try:
        pack, _ = await services.packs.show(args.slug, limit=1)
        print(f"Importing into existing pack {pack.slug} ({pack.target}→{pack.native}, {pack.level}).")
    except NotFound:
        missing = [f"--{name}" for name in ("target", "native", "level", "title") if not getattr(args, name)]
        if missing:
            raise UserError(f"pack {args.slug!r} does not exist yet; give {', '.join(missing)} to create it") from None
        pack = await services.packs.create_pack(args.slug, args.target, args.native, args.level, args.title)
        print(f"Created pack {pack.slug} ({pack.target}→{pack.native}, {pack.level}): {pack.title}")
    report = await services.packs.import_file(pack.slug, data, filename=args.file.name)
    print(f"added {report.added}, skipped {report.skipped}, rejected {report.rejected}")
    for line in report.first_rejected:
        print(f"  line {line.line_no}: {line.reason} — {line.text}")
    if args.publish:
        pack = await services.packs.publish(pack.slug)
        print(f"Published {pack.slug} ({pack.entry_count} words).")
    return EXIT_OK


async def _list_packs(services: Services) -> int:
    packs = await services.packs.list_all()
    if not packs:
        print("No packs yet. Create one with: langlearn packs import FILE --slug … --target … --native … --title …")
        return EXIT_OK
    for pack in packs:
        state = "published" if pack.published else "draft"
        languages = f"{pack.target}→{pack.native}"
        print(f"{pack.slug:<24} {languages}  {pack.level}  {pack.entry_count:>6} words  {state:<9}  {pack.title}")
    return EXIT_OK


# --- worker ---------------------------------------------------------------------------------


def run_worker(args: argparse.Namespace) -> int:
    """`langlearn worker`: arq's worker with worker.main.WorkerSettings; `--check`: arq's health check."""
    import asyncio

    from arq.worker import async_check_health
    from arq.worker import run_worker as run_arq_worker

    from worker.main import HEALTH_CHECK_INTERVAL_S, WorkerSettings, redis_settings_from, worker_options

    settings = load_settings()
    try:
        redis = redis_settings_from(settings)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if args.check:
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
        redis.conn_retries = 0
        try:
            return asyncio.run(async_check_health(redis))
        except Exception as exc:  # Redis unreachable: unhealthy, said in one line without the URL
            print(f"langlearn: worker health check failed: Redis unreachable ({type(exc).__name__})", file=sys.stderr)
            return EXIT_FAILURE
    configure_logging(settings)
    logger.info("worker starting (health check every %d s)", HEALTH_CHECK_INTERVAL_S)
    run_arq_worker(WorkerSettings, **worker_options(settings))  # type: ignore[arg-type]
    return EXIT_OK


# --- doctor -----------------------------------------------------------------------------------


def run_doctor(args: argparse.Namespace) -> int:
    """`langlearn doctor`: what is configured, what is missing and which setting enables it."""
    from core.diagnostics import doctor_report, render_doctor

    print(render_doctor(doctor_report(load_settings())))
    return EXIT_OK


# --- entry point ------------------------------------------------------------------------------


def _resolve(handler: str) -> Handler:
    module_name, _, function = handler.partition(":")
    resolved: Handler = getattr(importlib.import_module(module_name), function)
    return resolved


def _fail(message: str, code: int) -> int:
    print(f"langlearn: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand; user errors never show a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return _resolve(SUBCOMMANDS[args.command].handler)(args)
    except KeyboardInterrupt:
        print(file=sys.stderr)  # the shell's prompt starts on a line of its own, after "^C"
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `langlearn … | head`: the reader left; nothing to say to anyone
        _silence_stdout()
        return EXIT_FAILURE
    except UserError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except Exception as exc:  # mapped to a one-line message here, the only place
        return _handle_failure(exc)


def _silence_stdout() -> None:
    """Python flushes stdout at exit; into a closed pipe that would raise once more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _handle_failure(exc: Exception) -> int:
    """Domain errors and an unreachable database are user-facing; anything else is a bug."""
    from core.domain.errors import DomainError, InvalidInput

    if isinstance(exc, InvalidInput):
        # Examples written for the chat ("/pack_new …") would mislead on a command line.
        example = f" (example: {exc.example})" if exc.example and not exc.example.startswith("/") else ""
        return _fail(f"{exc.message}{example}", EXIT_USAGE)
    if isinstance(exc, DomainError):
        return _fail(str(exc), EXIT_USAGE)
    if _is_connection_error(exc):
        return _fail(f"cannot reach the database: {_first_line(exc)}", EXIT_FAILURE)
    logger.exception("unexpected error")
    return _fail(f"unexpected error ({type(exc).__name__}); the traceback is above", EXIT_FAILURE)


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    errors = sys.modules.get("sqlalchemy.exc")  # only loaded if the database was used at all
    return errors is not None and isinstance(exc, errors.OperationalError | errors.InterfaceError)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
