"""dossiers, clerks, rating links, one rating per dossier, complaints, comment reviews

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Made in parallel with 0004–0006: the revision chain is re-linked when the branches are merged.
The rating of a dossier lives in ``dossier_rating`` (dossier ↔ overall answer ↔ response), apart
from ``response``, which holds no dossier (README: "Dossiers and the official 766 figures").
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clerk_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("service_point_id", sa.Integer(), nullable=True),
        sa.Column("active_from", sa.Date(), nullable=True),
        sa.Column("active_to", sa.Date(), nullable=True),
        _when("created_at", nullable=False),
        sa.CheckConstraint(
            "active_to IS NULL OR active_from IS NULL OR active_to > active_from",
            name=op.f("ck_staff_active_dates"),
        ),
        sa.ForeignKeyConstraint(
            ["service_point_id"],
            ["service_point.id"],
            name=op.f("fk_staff_service_point_id_service_point"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("clerk_code", name=op.f("uq_staff_clerk_code")),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_service_point_id"), ["service_point_id"], unique=False
        )

    op.create_table(
        "dossier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("service_point_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("procedure", sa.String(length=300), nullable=False),
        _when("received_at", nullable=False),
        sa.Column("received_month", sa.Date(), nullable=False),
        _when("due_at"),
        _when("returned_at"),
        sa.Column("status", sa.String(length=12), nullable=False),
        _when("status_changed_at", nullable=False),
        _when("imported_at", nullable=False),
        sa.CheckConstraint(
            "status IN ('received', 'processing', 'returned', 'cancelled')",
            name=op.f("ck_dossier_status"),
        ),
        sa.CheckConstraint(
            "returned_at IS NULL OR returned_at >= received_at", name=op.f("ck_dossier_returned")
        ),
        sa.ForeignKeyConstraint(
            ["service_point_id"],
            ["service_point.id"],
            name=op.f("fk_dossier_service_point_id_service_point"),
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_dossier_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier")),
        sa.UniqueConstraint("code", name=op.f("uq_dossier_code")),
    )
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dossier_received_at"), ["received_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dossier_service_point_id"), ["service_point_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dossier_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "dossier_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _when("created_at", nullable=False),
        _when("slip_printed_at"),
        _when("sent_at"),
        sa.Column("channel", sa.String(length=10), nullable=True),
        _when("first_opened_at"),
        sa.Column("open_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("used", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint(
            "channel IS NULL OR channel IN ('sms', 'zalo')",
            name=op.f("ck_dossier_invitation_channel"),
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_dossier_invitation_dossier_id_dossier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_invitation")),
        sa.UniqueConstraint("dossier_id", name=op.f("uq_dossier_invitation_dossier_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_dossier_invitation_token_hash")),
    )

    op.create_table(
        "dossier_rating",
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("overall", sa.SmallInteger(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "overall >= 1 AND overall <= 5", name=op.f("ck_dossier_rating_overall_scale")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_dossier_rating_dossier_id_dossier")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_dossier_rating_response_id_response")
        ),
        sa.PrimaryKeyConstraint("dossier_id", name=op.f("pk_dossier_rating")),
        sa.UniqueConstraint("response_id", name=op.f("uq_dossier_rating_response_id")),
    )

    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("service_point_id", sa.Integer(), nullable=True),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _when("opened_at", nullable=False),
        _when("due_at", nullable=False),
        _when("closed_at"),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("handling_rating", sa.SmallInteger(), nullable=True),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "source IN ('low_rating', 'comment', 'staff')", name=op.f("ck_complaint_source")
        ),
        sa.CheckConstraint(
            "closed_at IS NULL OR closed_at >= opened_at", name=op.f("ck_complaint_closed")
        ),
        sa.CheckConstraint(
            "handling_rating IS NULL OR (handling_rating >= 1 AND handling_rating <= 5)",
            name=op.f("ck_complaint_handling_rating_scale"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_complaint_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["app_user.id"], name=op.f("fk_complaint_closed_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"], ["dossier.id"], name=op.f("fk_complaint_dossier_id_dossier")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["app_user.id"], name=op.f("fk_complaint_opened_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["service_point_id"],
            ["service_point.id"],
            name=op.f("fk_complaint_service_point_id_service_point"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_opened_at"), ["opened_at"], unique=False)

    op.create_table(
        "complaint_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        _when("occurred_at", nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('opened', 'note', 'closed', 'rated', 'reopened')",
            name=op.f("ck_complaint_event_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_complaint_event_actor_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_event_complaint_id_complaint"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_event")),
    )
    with op.batch_alter_table("complaint_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_event_complaint_id"), ["complaint_id"], unique=False
        )

    op.create_table(
        "comment_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        _when("created_at", nullable=False),
        _when("reviewed_at"),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=12), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_comment_review_response_id_response")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["app_user.id"],
            name=op.f("fk_comment_review_reviewed_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_review")),
        sa.UniqueConstraint("response_id", name=op.f("uq_comment_review_response_id")),
    )


def downgrade() -> None:
    op.drop_table("comment_review")
    with op.batch_alter_table("complaint_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_event_complaint_id"))
    op.drop_table("complaint_event")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_opened_at"))
        batch_op.drop_index(batch_op.f("ix_complaint_dossier_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_agency_id"))
    op.drop_table("complaint")
    op.drop_table("dossier_rating")
    op.drop_table("dossier_invitation")
    with op.batch_alter_table("dossier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_staff_id"))
        batch_op.drop_index(batch_op.f("ix_dossier_service_point_id"))
        batch_op.drop_index(batch_op.f("ix_dossier_received_at"))
    op.drop_table("dossier")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_service_point_id"))
    op.drop_table("staff")
