"""The schema is made by the migrations alone, from empty to head and back, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from survey.storage.database import downgrade_database, upgrade_database
from survey.storage.models import Base


def test_migrations_from_empty_to_head_match_the_models(database_url: str):
    downgrade_database(database_url, "base")
    engine = create_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade_database(database_url)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
        assert {"agency", "service_point", "response", "answer", "target"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        upgrade_database(database_url)
        engine.dispose()
