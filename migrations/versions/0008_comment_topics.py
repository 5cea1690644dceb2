"""comments inbox: topics per comment, tagging state, read marks per scope, lexicon overrides

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Written beside 0005–0007 and chained after the migration merged before it (only
``down_revision`` says which).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comment_state",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("lexicon_version", sa.String(length=16), nullable=False),
        sa.Column("tagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("complaint_case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_comment_state_response_id_response")
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_comment_state")),
    )
    op.create_table(
        "comment_topic",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_comment_topic_response_id_response")
        ),
        sa.PrimaryKeyConstraint("response_id", "topic", name=op.f("pk_comment_topic")),
    )
    with op.batch_alter_table("comment_topic", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_topic_topic"), ["topic"], unique=False)
    op.create_table(
        "comment_read",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("scope_key", sa.String(length=40), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["read_by_id"], ["app_user.id"], name=op.f("fk_comment_read_read_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_comment_read_response_id_response")
        ),
        sa.PrimaryKeyConstraint("response_id", "scope_key", name=op.f("pk_comment_read")),
    )
    op.create_table(
        "comment_lexicon_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=20), nullable=False),
        sa.Column("term", sa.String(length=80), nullable=False),
        sa.Column("polarity", sa.String(length=1), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "action IN ('add', 'remove')", name=op.f("ck_comment_lexicon_term_action")
        ),
        sa.CheckConstraint(
            "polarity IN ('-', '+', '=', '0')", name=op.f("ck_comment_lexicon_term_polarity")
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["app_user.id"],
            name=op.f("fk_comment_lexicon_term_changed_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_lexicon_term")),
        sa.UniqueConstraint("topic", "term", name=op.f("uq_comment_lexicon_term_topic_term")),
    )


def downgrade() -> None:
    op.drop_table("comment_lexicon_term")
    op.drop_table("comment_read")
    with op.batch_alter_table("comment_topic", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_topic_topic"))
    op.drop_table("comment_topic")
    op.drop_table("comment_state")
