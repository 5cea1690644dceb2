"""element roll-ups: the element indices' per-respondent sums per service point and month

Revision ID: 0012
Revises: 0011
Create Date: 2027-03-01

``element_month(service_point_id, month, shape, responses, answers, sums)``: what a report's
details (element indices, composite, comprehensive satisfaction) need from one point and month,
for one element structure, rolled up from the answers by ``flask roll-up-reports`` (cron) and
after the demo is loaded. A row is read only while its ``responses`` and ``answers`` still equal
the monthly summaries' (migration 0010), so a report is exact whether or not the roll-up ran; the
roll-up only makes it fast.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "element_month",
        sa.Column("service_point_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("shape", sa.String(length=32), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("sums", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_point_id"],
            ["service_point.id"],
            name=op.f("fk_element_month_service_point_id_service_point"),
        ),
        sa.PrimaryKeyConstraint(
            "service_point_id", "month", "shape", name=op.f("pk_element_month")
        ),
    )
    op.create_index("ix_element_month_month", "element_month", ["month", "shape"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_element_month_month", table_name="element_month")
    op.drop_table("element_month")
