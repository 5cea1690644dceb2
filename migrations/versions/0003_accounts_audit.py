"""accounts (scopes, lockout, password change) and the append-only audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

``audit_event`` refuses UPDATE at the database itself (a trigger on SQLite and PostgreSQL).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROLES = "'province_admin', 'sector_admin', 'agency_manager', 'viewer'"
SECTORS = "'administrative', 'health', 'education'"

SQLITE_TRIGGER = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END
"""
POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only';
END
$$
"""
POSTGRESQL_TRIGGER = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event
FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
"""


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sector", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("scope_agency_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_app_user_scope_agency_id_agency"), "agency", ["scope_agency_id"], ["id"]
        )
        batch_op.create_check_constraint(op.f("ck_app_user_role"), f"role IN ({ROLES})")
        batch_op.create_check_constraint(
            op.f("ck_app_user_sector"), f"sector IS NULL OR sector IN ({SECTORS})"
        )

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_audit_event_actor_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_action"), ["action"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_event_occurred_at"), ["occurred_at"], unique=False
        )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(SQLITE_TRIGGER)
    elif dialect == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_TRIGGER)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_action"))
    op.drop_table("audit_event")

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_app_user_sector"), type_="check")
        batch_op.drop_constraint(op.f("ck_app_user_role"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_app_user_scope_agency_id_agency"), type_="foreignkey"
        )
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_sign_ins")
        batch_op.drop_column("scope_agency_id")
        batch_op.drop_column("sector")
