"""The schema is made by the migrations alone, from empty to head and back, on both engines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

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


def test_0009_empties_made_up_english_names_and_keeps_real_ones(database_url: str):
    """Copies of the Vietnamese name, with or without diacritics and in any case, were made up
    (the demo's "Truong Thpt Chuyen Le Quy Don"): they become NULL; real English names stay."""
    downgrade_database(database_url, "0008")
    engine = create_engine(database_url)
    agencies = {
        "A1": ("Trường THPT Chuyên Lê Quý Đôn", "Truong Thpt Chuyen Le Quy Don"),
        "A2": ("Tỉnh Điện Biên", "Tỉnh Điện Biên"),
        "A3": ("Sở Y tế", "Department of Health"),
        "A4": ("Sở Lao động – Thương binh và Xã hội", "So Lao Dong   Thuong Binh Va Xa Hoi"),
    }
    try:
        with engine.begin() as connection:
            for number, (code, (name_vi, name_en)) in enumerate(agencies.items(), start=1):
                connection.execute(
                    text(
                        "INSERT INTO agency (id, code, name_vi, name_en, sector, level, valid_from)"
                        " VALUES (:id, :code, :vi, :en, 'administrative', 'province', '2020-01-01')"
                    ),
                    {"id": number, "code": code, "vi": name_vi, "en": name_en},
                )
            connection.execute(
                text(
                    "INSERT INTO service_point (id, agency_id, public_code, code, name_vi, name_en,"
                    " active) VALUES (1, 3, 'QR1', 'P1', 'Quầy số 1', 'Quay so 1', :yes),"
                    " (2, 3, 'QR2', 'P2', 'Quầy số 2', 'Counter 2', :yes)"
                ),
                {"yes": True},
            )
        upgrade_database(database_url, "0009")
        with engine.connect() as connection:
            names = dict(connection.execute(text("SELECT code, name_en FROM agency")).all())
            points = dict(connection.execute(text("SELECT code, name_en FROM service_point")).all())
        assert names == {"A1": None, "A2": None, "A3": "Department of Health", "A4": None}
        assert points == {"P1": None, "P2": "Counter 2"}

        downgrade_database(database_url, "0008")
        with engine.connect() as connection:
            names = dict(connection.execute(text("SELECT code, name_en FROM agency")).all())
        assert names["A1"] == "Trường THPT Chuyên Lê Quý Đôn"
        assert names["A3"] == "Department of Health"
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM service_point"))
            connection.execute(text("DELETE FROM agency"))
        engine.dispose()
        upgrade_database(database_url)
