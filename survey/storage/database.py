"""Engine and sessions. Views get a request-scoped session; services receive it as an argument."""

from __future__ import annotations

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
