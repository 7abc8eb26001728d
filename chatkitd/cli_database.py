"""Which database a ``chatkitd`` command works on, and refusing to invent one.

The data dir defaults to ``./.chatkitd``, relative to where the command
runs. Run from another directory, a command used to create an empty database
there and report success while the server never saw the change. Now every
command takes ``--data-dir`` and ``--database-url``; a command that reads or
changes the server's data refuses a database that was never set up, saying
where it looked and how to name the right one, and only ``migrate`` and
``serve`` create one. Commands that write say where they wrote.

Everything heavy (SQLAlchemy, Alembic) is imported when a command runs, not
when the CLI starts, so ``chatkitd --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from chatkitd.settings import Settings
    from chatkitd.store.db import Database

T = TypeVar("T")
_OVERRIDES = "chatkitd.settings_overrides"


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None and param.name is not None:
        ctx.meta.setdefault(_OVERRIDES, {})[param.name] = value


def data_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--data-dir`` and ``--database-url``, on every command (they win over the environment)."""
    command = click.option(
        "--database-url",
        default=None,
        expose_value=False,
        callback=_remember,
        help="The server's database (CHATKITD_DATABASE_URL), e.g. postgresql://user@host/db.",
    )(command)
    return click.option(
        "--data-dir",
        default=None,
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember,
        help="The server's data dir (CHATKITD_DATA_DIR; default ./.chatkitd, relative to here).",
    )(command)


def current_settings(**overrides: Any) -> Settings:
    """The settings for this command: environment, then ``--data-dir``/``--database-url``, then
    ``overrides``. A bad setting is one line naming it, not a traceback."""
    from chatkitd.settings import SettingsError, load_settings

    ctx = click.get_current_context(silent=True)
    given = dict(ctx.meta.get(_OVERRIDES, {})) if ctx is not None else {}
    given.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return load_settings(**given)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def when(timestamp: float | None) -> str:
    """A time as every command prints it: UTC, and saying so (``2026-12-01T13:58:42Z``), as the
    logs do; a local-looking time read on a server in another zone was hours off."""
    if timestamp is None:
        return "-"
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def location(settings: Settings) -> str:
    """Where the data is, as an operator would name it: the SQLite file, or the URL without password."""
    sqlite_file = _sqlite_file(settings)
    if sqlite_file is not None:
        return str(sqlite_file)
    from sqlalchemy.engine import make_url

    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def _sqlite_file(settings: Settings) -> Path | None:
    if settings.database_url is None:
        return (settings.data_dir / "chatkitd.db").resolve()
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve()
    return None


def is_new(settings: Settings) -> bool:
    """Whether the SQLite file is still to be created (PostgreSQL: never known without connecting)."""
    sqlite_file = _sqlite_file(settings)
    return sqlite_file is not None and not sqlite_file.exists()


class NoDatabase(click.ClickException):
    exit_code = 1

    def __init__(self, settings: Settings) -> None:
        if settings.database_url is None:
            where = f"The data dir is {settings.data_dir}"
            if not settings.data_dir.is_absolute():
                where += f", relative to the current directory ({Path.cwd()})"
            where += "."
        else:
            where = "CHATKITD_DATABASE_URL (or --database-url) names it."
        super().__init__(
            f"No chatkitd database at {location(settings)}, so nothing was done. {where}\n"
            "Run this where `chatkitd serve` runs, or name the server's data with --data-dir DIR or "
            "--database-url URL (or CHATKITD_DATA_DIR / CHATKITD_DATABASE_URL). "
            "`chatkitd migrate` creates a new database."
        )


def with_database(
    work: Callable[[Database], Awaitable[T]],
    *,
    create: bool = False,
    settings: Settings | None = None,
    migrate: bool = True,
) -> T:
    """Run ``work`` on the migrated database. Unless ``create``, a database never set up is refused;
    with ``migrate=False``, so is one whose schema is not this chatkitd's (nothing is changed)."""
    settings = settings or current_settings()
    if not (create and migrate) and is_new(settings):
        raise NoDatabase(settings)
    from sqlalchemy.exc import DBAPIError

    from chatkitd.store import migrate as migrations
    from chatkitd.store.db import Database

    async def run() -> T:
        db = Database.from_settings(settings)
        try:
            if not (create and migrate) and not await migrations.is_set_up(db):
                raise NoDatabase(settings)
            if migrate:
                await migrations.upgrade(db)
            else:
                await migrations.check_current(db)
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except migrations.SchemaOutOfDate as error:
        raise click.ClickException(str(error)) from None
    except (OSError, DBAPIError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise click.ClickException(f"Cannot use the database at {location(settings)}: {reason}") from None


async def existing_project_id(
    db: Database, project: str, *, default_may_be_missing: bool = False
) -> str | None:
    """The id of the project named ``project``. A command that reads or changes a project's data
    never creates it, so a mistyped ``--project`` is an error, not a new, empty project. The
    default project is made on first use: with ``default_may_be_missing`` it may not exist yet (None).
    """
    from chatkitd.store.keys import DEFAULT_PROJECT, find_project

    found = await find_project(db, project)
    if found is None and not (default_may_be_missing and project == DEFAULT_PROJECT):
        raise click.ClickException(f"No project named {project!r}.")
    return found
