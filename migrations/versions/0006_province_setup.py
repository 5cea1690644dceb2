"""province set-up: service point codes and successors, planned volumes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

``service_point.code`` is the province's own code for a point (organisation, volume and paper
response files); existing points get their public code as their code. ``service_point.successor_id``
is where a closed point's QR sends citizens. ``service_volume.planned`` marks a month entered before
it happened. ``questionnaire.state`` is ``draft`` until a version is published;
``questionnaire_translation`` holds a questionnaire's texts in further languages.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_point", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("successor_id", sa.Integer(), nullable=True))
    op.execute("UPDATE service_point SET code = public_code")
    with op.batch_alter_table("service_point", schema=None) as batch_op:
        batch_op.alter_column("code", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_service_point_code"), ["code"])
        batch_op.create_foreign_key(
            batch_op.f("fk_service_point_successor_id_service_point"),
            "service_point",
            ["successor_id"],
            ["id"],
        )
    with op.batch_alter_table("service_volume", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("planned", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("questionnaire", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=10), server_default="published", nullable=False)
        )
    op.create_table(
        "questionnaire_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_questionnaire_translation_questionnaire_id_questionnaire"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_translation")),
        sa.UniqueConstraint(
            "questionnaire_id",
            "language",
            "key",
            name=op.f("uq_questionnaire_translation_questionnaire_id_language_key"),
        ),
    )
    with op.batch_alter_table("questionnaire_translation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_translation_questionnaire_id"),
            ["questionnaire_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("questionnaire_translation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_translation_questionnaire_id"))
    op.drop_table("questionnaire_translation")
    with op.batch_alter_table("questionnaire", schema=None) as batch_op:
        batch_op.drop_column("state")
    with op.batch_alter_table("service_volume", schema=None) as batch_op:
        batch_op.drop_column("planned")
    with op.batch_alter_table("service_point", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_service_point_successor_id_service_point"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_service_point_code"), type_="unique")
        batch_op.drop_column("successor_id")
        batch_op.drop_column("code")
