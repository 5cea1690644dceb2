"""English names are data: agency.name_en and service_point.name_en may be empty (NULL)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Until now every unit had an English name, made up when none was given: a copy of the Vietnamese
name, or (the demo) the Vietnamese name stripped of its diacritics and title-cased ("Truong Thpt
Chuyen Le Quy Don"). Such made-up names become NULL, and English pages show the Vietnamese name with
its diacritics instead (``EnglishName`` in survey/storage/models.py). A name is made up when,
without diacritics, case and punctuation, it is the Vietnamese name. Downgrading copies the
Vietnamese name into the empty ones.
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("agency", "service_point")


def _plain(text: str) -> str:
    """``Trường THPT Chuyên Lê Quý Đôn`` and ``Truong Thpt Chuyen Le Quy Don`` → the same."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join("".join(c if c.isalnum() else " " for c in ascii_text.lower()).split())


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("name_en", existing_type=sa.String(length=300), nullable=True)
    connection = op.get_bind()
    for table in TABLES:
        rows = connection.execute(sa.text(f"SELECT id, name_vi, name_en FROM {table}")).all()  # noqa: S608 — a fixed table name
        made_up = [row.id for row in rows if _plain(row.name_en or "") == _plain(row.name_vi)]
        for start in range(0, len(made_up), 500):
            connection.execute(
                sa.text(f"UPDATE {table} SET name_en = NULL WHERE id IN :ids").bindparams(  # noqa: S608 — a fixed table name
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": made_up[start : start + 500]},
            )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"UPDATE {table} SET name_en = name_vi WHERE name_en IS NULL")  # noqa: S608 — a fixed table name
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("name_en", existing_type=sa.String(length=300), nullable=False)
