"""security hardening: sessions that can be revoked, sign-in back-off, usernames in lower case,
and an audit log the database refuses to delete from

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-12

* ``app_user.session_epoch`` (revokes every session of a user) and ``must_change_password``;
  ``failed_sign_ins`` and ``locked_until`` go: nobody can lock another's account any more.
* ``sign_in_throttle``: failed sign-ins per (username, client address) and per username.
* Usernames are stored in lower case, and a CHECK refuses any other: with the unique constraint
  on ``username`` that makes them unique regardless of case (a CHECK rather than an index on
  ``lower(username)``: SQLite cannot reflect expression indexes, so a later batch migration of
  ``app_user`` would silently drop one). The upgrade stops, changing nothing, when two existing
  usernames differ only in case (rename one first).
* ``audit_event`` refuses DELETE (SQLite and PostgreSQL) and TRUNCATE (PostgreSQL), as it already
  refuses UPDATE (0003). Only a database superuser working around the triggers on purpose (as the
  test suite's cleanup does, see tests/conftest.py) can remove events.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE_NO_DELETE = """
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END
"""
# The function audit_event_append_only() comes from 0003 and raises for any statement.
POSTGRESQL_NO_DELETE = """
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
"""
POSTGRESQL_NO_TRUNCATE = """
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
"""


def _usernames_to_lower_case() -> None:
    connection = op.get_bind()
    users = connection.execute(sa.text("SELECT id, username FROM app_user ORDER BY id")).all()
    first_with: dict[str, str] = {}
    for _id, username in users:
        lower = username.strip().lower()
        if lower in first_with:
            raise RuntimeError(
                f"The usernames {first_with[lower]!r} and {username!r} differ only in case; "  # noqa: S608 — a message to the operator, not a query
                "rename one of them (UPDATE app_user SET username = ... WHERE id = ...) and run "
                "the upgrade again."
            )
        first_with[lower] = username
    for user_id, username in users:
        if username != username.strip().lower():
            connection.execute(
                sa.text("UPDATE app_user SET username = :name WHERE id = :id"),
                {"name": username.strip().lower(), "id": user_id},
            )


def upgrade() -> None:
    _usernames_to_lower_case()
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_sign_ins")
        batch_op.create_check_constraint(
            op.f("ck_app_user_username_lower_case"), "username = lower(username)"
        )

    op.create_table(
        "sign_in_throttle",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", "address", name=op.f("pk_sign_in_throttle")),
    )
    op.create_index(
        op.f("ix_sign_in_throttle_updated_at"), "sign_in_throttle", ["updated_at"], unique=False
    )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(SQLITE_NO_DELETE)
    elif dialect == "postgresql":
        op.execute(POSTGRESQL_NO_DELETE)
        op.execute(POSTGRESQL_NO_TRUNCATE)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_event")

    op.drop_index(op.f("ix_sign_in_throttle_updated_at"), table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_app_user_username_lower_case"), type_="check")
        batch_op.add_column(
            sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("session_epoch")
