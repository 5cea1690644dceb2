"""Engine and sessions. Views get a request-scoped session; services receive it as an argument."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class ReadOnlySessionError(RuntimeError):
    """Something tried to write through a read-only (report) session."""


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """Create the engine; SQLite gets WAL and foreign keys so it behaves like the server engine.

    ``read_only``: every transaction is ``REPEATABLE READ, READ ONLY`` on PostgreSQL (one snapshot
    for all the queries of a report, and a write fails even on a primary), ``PRAGMA query_only``
    on SQLite. For ``REPORTS_DATABASE_URL`` (a streaming replica).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            if read_only:
                cursor.execute("PRAGMA query_only=ON")
            cursor.close()

        return engine
    if read_only and url.startswith("postgresql"):
        return create_engine(
            url,
            pool_pre_ping=True,
            isolation_level="REPEATABLE READ",
            execution_options={"postgresql_readonly": True},
        )
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions on the engine; ``read_only`` sessions refuse to flush anything."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    if read_only:
        event.listen(factory, "before_flush", _refuse_to_flush)
    return factory


def _refuse_to_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySessionError(
            "This session reads reports (REPORTS_DATABASE_URL) and never writes; "
            "use the request's main session for changes."
        )


@contextmanager
def all_or_nothing(session: Session) -> Iterator[None]:
    """A block whose writes all stay or all go, inside the caller's transaction (a SAVEPOINT).

    An exception in the block undoes what the block wrote, restores the objects it changed, and
    goes on to the caller, whose own earlier writes stay in its transaction: an import refused
    with its report leaves nothing behind even when the page that shows the report goes on to
    read the database. Nothing is committed here (the request or command commits).
    """
    _begin_on_sqlite(session)
    with session.begin_nested():
        yield


def _begin_on_sqlite(session: Session) -> None:
    """Python's sqlite3 opens a transaction only before an INSERT, UPDATE or DELETE, and a
    SAVEPOINT outside one would start one of its own, committed when it is released. So begin
    the transaction first — IMMEDIATE, taking the write lock the block is about to need, so that
    what it read cannot go stale before it writes (SQLite would refuse the write at once)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


@contextmanager
def separate_transaction(session: Session) -> Iterator[Session]:
    """A short transaction of its own, on another connection, committed when the block ends.

    Services never commit: the request or command that called them does, once, and rolls back
    when it fails (survey/extensions.py). This is the deliberate exception, for a record that
    must survive the caller's rollback — a failed sign-in's back-off counter and audit event,
    written while the request itself answers 401 or 429. Say at each use why it is one.

    Use it before the caller's transaction has written anything (a sign-in's failure is its
    request's first write): the caller would hold the rows, and on SQLite the whole database,
    that the block waits for.
    """
    own = Session(bind=session.get_bind(), expire_on_commit=False)
    try:
        with own.begin():
            yield own
    finally:
        own.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Create or upgrade the schema by running the Alembic migrations."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


def downgrade_database(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
