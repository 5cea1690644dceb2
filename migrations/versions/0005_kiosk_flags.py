"""kiosk flags: ``implausible_time`` and the kiosk's first pairing

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

* ``response_flag.kind`` may be ``implausible_time``: a kiosk answer whose device time lies
  outside what the tablet can have queued (before its first pairing, older than
  ``KIOSK_MAX_OFFLINE_DAYS``, or ahead of the server's clock); it is stored with its arrival time.
* ``kiosk.first_paired_at``: a tablet paired again keeps its earlier answers' times valid.

Written in parallel with another 0004; the merge re-points ``down_revision`` to "0004".
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_KINDS = "'too_fast', 'identical_burst', 'implausible_rate'"
NEW_KINDS = OLD_KINDS + ", 'implausible_time'"


def _kinds(kinds: str) -> None:
    with op.batch_alter_table("response_flag", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint(op.f("ck_response_flag_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_response_flag_kind"), f"kind IN ({kinds})")


def upgrade() -> None:
    _kinds(NEW_KINDS)
    with op.batch_alter_table("kiosk", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_paired_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE kiosk SET first_paired_at = paired_at")


def downgrade() -> None:
    with op.batch_alter_table("kiosk", schema=None) as batch_op:
        batch_op.drop_column("first_paired_at")
    op.execute("DELETE FROM response_flag WHERE kind = 'implausible_time'")
    _kinds(OLD_KINDS)
