"""response summaries: responses and answers per service point and local month, kept by triggers

Revision ID: 0010
Revises: 0009
Create Date: 2027-02-01

* ``response_month(service_point_id, month, responses)``: responses not excluded per service
  point and calendar month in Vietnam time (UTC+7, no daylight saving, as every report and
  export); ``month`` is the month's first day.
* ``answer_month(service_point_id, month, item_id, value_1 … value_5)``: how many of them
  answered the item with each value (not applicable, a blank, is not counted).
* Triggers keep both in the transaction of every change, whoever makes it (the public form and
  kiosks, imports through COPY or executemany, the demo, an administrator excluding or including
  a response, a DBA's UPDATE or DELETE): an insert adds, a delete subtracts, an update subtracts
  the old row and adds the new one. PostgreSQL sums an INSERT statement's rows once (statement
  triggers with transition tables: a COPY of a million answers is one upsert); other changes, and
  everything on SQLite, go row by row. Subtractions only update existing summary rows.
* The existing responses are summarised (backfill).

A report then reads one row per service point and month instead of every answer; the days of a
month cut by a custom period are read from the answers (survey/storage/aggregates.py). On SQLite,
a later ``batch_alter_table`` of ``response`` or
``answer`` recreates the table and drops its triggers: such a migration must create them again
(``create_triggers``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# ---------------------------------------------------------------------------------- PostgreSQL
# INSERT statements are summed once per statement (transition table ``added``); other changes
# row by row through answer_month_response / answer_month_changed. Subtractions only UPDATE.

POSTGRESQL = [
    """
CREATE OR REPLACE FUNCTION summary_month(ts timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT date_trunc('month', (ts AT TIME ZONE 'UTC') + interval '7 hours')::date $$
""",
    """
CREATE OR REPLACE FUNCTION response_month_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO response_month AS s (service_point_id, month, responses)
    SELECT service_point_id, summary_month(submitted_at), count(*)
    FROM added WHERE NOT excluded
    GROUP BY 1, 2
    ON CONFLICT (service_point_id, month) DO UPDATE
        SET responses = s.responses + EXCLUDED.responses;
    RETURN NULL;
END $$
""",
    """
CREATE OR REPLACE FUNCTION answer_month_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO answer_month AS s
        (service_point_id, month, item_id, value_1, value_2, value_3, value_4, value_5)
    SELECT r.service_point_id, summary_month(r.submitted_at), a.item_id,
           count(*) FILTER (WHERE a.value = 1), count(*) FILTER (WHERE a.value = 2),
           count(*) FILTER (WHERE a.value = 3), count(*) FILTER (WHERE a.value = 4),
           count(*) FILTER (WHERE a.value = 5)
    FROM added a JOIN response r ON r.id = a.response_id
    WHERE NOT r.excluded AND a.value IS NOT NULL
    GROUP BY 1, 2, 3
    ON CONFLICT (service_point_id, month, item_id) DO UPDATE
        SET value_1 = s.value_1 + EXCLUDED.value_1, value_2 = s.value_2 + EXCLUDED.value_2,
            value_3 = s.value_3 + EXCLUDED.value_3, value_4 = s.value_4 + EXCLUDED.value_4,
            value_5 = s.value_5 + EXCLUDED.value_5;
    RETURN NULL;
END $$
""",
    # one response's answers added (sign 1) or taken away (sign -1) at a point and month
    """
CREATE OR REPLACE FUNCTION answer_month_response(
    response integer, point integer, m date, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF sign > 0 THEN
        INSERT INTO answer_month AS s
            (service_point_id, month, item_id, value_1, value_2, value_3, value_4, value_5)
        SELECT point, m, item_id,
               count(*) FILTER (WHERE value = 1), count(*) FILTER (WHERE value = 2),
               count(*) FILTER (WHERE value = 3), count(*) FILTER (WHERE value = 4),
               count(*) FILTER (WHERE value = 5)
        FROM answer WHERE response_id = response AND value IS NOT NULL
        GROUP BY item_id
        ON CONFLICT (service_point_id, month, item_id) DO UPDATE
            SET value_1 = s.value_1 + EXCLUDED.value_1, value_2 = s.value_2 + EXCLUDED.value_2,
                value_3 = s.value_3 + EXCLUDED.value_3, value_4 = s.value_4 + EXCLUDED.value_4,
                value_5 = s.value_5 + EXCLUDED.value_5;
    ELSE
        UPDATE answer_month AS s
        SET value_1 = s.value_1 - a.n1, value_2 = s.value_2 - a.n2, value_3 = s.value_3 - a.n3,
            value_4 = s.value_4 - a.n4, value_5 = s.value_5 - a.n5
        FROM (SELECT item_id,
                     count(*) FILTER (WHERE value = 1) AS n1,
                     count(*) FILTER (WHERE value = 2) AS n2,
                     count(*) FILTER (WHERE value = 3) AS n3,
                     count(*) FILTER (WHERE value = 4) AS n4,
                     count(*) FILTER (WHERE value = 5) AS n5
              FROM answer WHERE response_id = response AND value IS NOT NULL
              GROUP BY item_id) a
        WHERE s.service_point_id = point AND s.month = m AND s.item_id = a.item_id;
    END IF;
END $$
""",
    """
CREATE OR REPLACE FUNCTION response_month_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND NOT OLD.excluded THEN
        UPDATE response_month SET responses = responses - 1
        WHERE service_point_id = OLD.service_point_id AND month = summary_month(OLD.submitted_at);
        PERFORM answer_month_response(
            OLD.id, OLD.service_point_id, summary_month(OLD.submitted_at), -1);
    END IF;
    IF TG_OP = 'UPDATE' AND NOT NEW.excluded THEN
        INSERT INTO response_month AS s (service_point_id, month, responses)
        VALUES (NEW.service_point_id, summary_month(NEW.submitted_at), 1)
        ON CONFLICT (service_point_id, month) DO UPDATE SET responses = s.responses + 1;
        PERFORM answer_month_response(
            NEW.id, NEW.service_point_id, summary_month(NEW.submitted_at), 1);
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE OR REPLACE FUNCTION answer_month_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.value IS NOT NULL THEN
        UPDATE answer_month AS s
        SET value_1 = s.value_1 - (OLD.value = 1)::int, value_2 = s.value_2 - (OLD.value = 2)::int,
            value_3 = s.value_3 - (OLD.value = 3)::int, value_4 = s.value_4 - (OLD.value = 4)::int,
            value_5 = s.value_5 - (OLD.value = 5)::int
        FROM response r
        WHERE r.id = OLD.response_id AND NOT r.excluded AND s.item_id = OLD.item_id
          AND s.service_point_id = r.service_point_id AND s.month = summary_month(r.submitted_at);
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.value IS NOT NULL THEN
        INSERT INTO answer_month AS s
            (service_point_id, month, item_id, value_1, value_2, value_3, value_4, value_5)
        SELECT r.service_point_id, summary_month(r.submitted_at), NEW.item_id,
               (NEW.value = 1)::int, (NEW.value = 2)::int, (NEW.value = 3)::int,
               (NEW.value = 4)::int, (NEW.value = 5)::int
        FROM response r WHERE r.id = NEW.response_id AND NOT r.excluded
        ON CONFLICT (service_point_id, month, item_id) DO UPDATE
            SET value_1 = s.value_1 + EXCLUDED.value_1, value_2 = s.value_2 + EXCLUDED.value_2,
                value_3 = s.value_3 + EXCLUDED.value_3, value_4 = s.value_4 + EXCLUDED.value_4,
                value_5 = s.value_5 + EXCLUDED.value_5;
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE TRIGGER response_month_inserted AFTER INSERT ON response
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION response_month_inserted()
""",
    """
CREATE TRIGGER answer_month_inserted AFTER INSERT ON answer
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION answer_month_inserted()
""",
    """
CREATE TRIGGER response_month_updated
AFTER UPDATE OF excluded, submitted_at, service_point_id ON response FOR EACH ROW
WHEN (OLD.excluded IS DISTINCT FROM NEW.excluded
      OR OLD.submitted_at IS DISTINCT FROM NEW.submitted_at
      OR OLD.service_point_id IS DISTINCT FROM NEW.service_point_id)
EXECUTE FUNCTION response_month_changed()
""",
    """
CREATE TRIGGER response_month_deleted AFTER DELETE ON response
FOR EACH ROW EXECUTE FUNCTION response_month_changed()
""",
    """
CREATE TRIGGER answer_month_updated AFTER UPDATE OF value, item_id, response_id ON answer
FOR EACH ROW EXECUTE FUNCTION answer_month_changed()
""",
    """
CREATE TRIGGER answer_month_deleted AFTER DELETE ON answer
FOR EACH ROW EXECUTE FUNCTION answer_month_changed()
""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS answer_month_deleted ON answer",
    "DROP TRIGGER IF EXISTS answer_month_updated ON answer",
    "DROP TRIGGER IF EXISTS response_month_deleted ON response",
    "DROP TRIGGER IF EXISTS response_month_updated ON response",
    "DROP TRIGGER IF EXISTS answer_month_inserted ON answer",
    "DROP TRIGGER IF EXISTS response_month_inserted ON response",
    "DROP FUNCTION IF EXISTS answer_month_changed()",
    "DROP FUNCTION IF EXISTS response_month_changed()",
    "DROP FUNCTION IF EXISTS answer_month_response(integer, integer, date, integer)",
    "DROP FUNCTION IF EXISTS answer_month_inserted()",
    "DROP FUNCTION IF EXISTS response_month_inserted()",
    "DROP FUNCTION IF EXISTS summary_month(timestamptz)",
]

# ---------------------------------------------------------------------------------------- SQLite
# UTC is kept as text 'YYYY-MM-DD HH:MM:SS.ffffff'; the fraction is cut off before date(), which
# would round 16:59:59.9999995 up to the next minute (and 23:59 local to the next day).
# ``x IS k`` is 1 or 0 even for a blank x. Subtractions only UPDATE.

SQLITE_ADD_RESPONSE = """
    INSERT INTO response_month (service_point_id, month, responses)
    SELECT {row}.service_point_id,
           date(substr({row}.submitted_at, 1, 19), '+7 hours', 'start of month'), 1
    WHERE NOT {row}.excluded
    ON CONFLICT (service_point_id, month) DO UPDATE SET responses = responses + 1;
    INSERT INTO answer_month
        (service_point_id, month, item_id, value_1, value_2, value_3, value_4, value_5)
    SELECT {row}.service_point_id,
           date(substr({row}.submitted_at, 1, 19), '+7 hours', 'start of month'),
           a.item_id, sum(a.value IS 1), sum(a.value IS 2), sum(a.value IS 3),
           sum(a.value IS 4), sum(a.value IS 5)
    FROM answer a
    WHERE a.response_id = {row}.id AND a.value IS NOT NULL AND NOT {row}.excluded
    GROUP BY a.item_id
    ON CONFLICT (service_point_id, month, item_id) DO UPDATE
        SET value_1 = value_1 + excluded.value_1, value_2 = value_2 + excluded.value_2,
            value_3 = value_3 + excluded.value_3, value_4 = value_4 + excluded.value_4,
            value_5 = value_5 + excluded.value_5;"""
SQLITE_TAKE_RESPONSE = """
    UPDATE response_month SET responses = responses - 1
    WHERE NOT {row}.excluded AND service_point_id = {row}.service_point_id
      AND month = date(substr({row}.submitted_at, 1, 19), '+7 hours', 'start of month');
    UPDATE answer_month
    SET value_1 = value_1 - (SELECT count(*) FROM answer a WHERE a.response_id = {row}.id
                             AND a.item_id = answer_month.item_id AND a.value = 1),
        value_2 = value_2 - (SELECT count(*) FROM answer a WHERE a.response_id = {row}.id
                             AND a.item_id = answer_month.item_id AND a.value = 2),
        value_3 = value_3 - (SELECT count(*) FROM answer a WHERE a.response_id = {row}.id
                             AND a.item_id = answer_month.item_id AND a.value = 3),
        value_4 = value_4 - (SELECT count(*) FROM answer a WHERE a.response_id = {row}.id
                             AND a.item_id = answer_month.item_id AND a.value = 4),
        value_5 = value_5 - (SELECT count(*) FROM answer a WHERE a.response_id = {row}.id
                             AND a.item_id = answer_month.item_id AND a.value = 5)
    WHERE NOT {row}.excluded AND service_point_id = {row}.service_point_id
      AND month = date(substr({row}.submitted_at, 1, 19), '+7 hours', 'start of month')
      AND item_id IN (SELECT item_id FROM answer WHERE response_id = {row}.id);"""
SQLITE_ADD_ANSWER = """
    INSERT INTO answer_month
        (service_point_id, month, item_id, value_1, value_2, value_3, value_4, value_5)
    SELECT r.service_point_id,
           date(substr(r.submitted_at, 1, 19), '+7 hours', 'start of month'), {row}.item_id,
           {row}.value IS 1, {row}.value IS 2, {row}.value IS 3, {row}.value IS 4, {row}.value IS 5
    FROM response r
    WHERE r.id = {row}.response_id AND NOT r.excluded AND {row}.value IS NOT NULL
    ON CONFLICT (service_point_id, month, item_id) DO UPDATE
        SET value_1 = value_1 + excluded.value_1, value_2 = value_2 + excluded.value_2,
            value_3 = value_3 + excluded.value_3, value_4 = value_4 + excluded.value_4,
            value_5 = value_5 + excluded.value_5;"""
SQLITE_TAKE_ANSWER = """
    UPDATE answer_month
    SET value_1 = value_1 - ({row}.value IS 1), value_2 = value_2 - ({row}.value IS 2),
        value_3 = value_3 - ({row}.value IS 3), value_4 = value_4 - ({row}.value IS 4),
        value_5 = value_5 - ({row}.value IS 5)
    WHERE item_id = {row}.item_id AND {row}.value IS NOT NULL
      AND (service_point_id, month) = (
          SELECT r.service_point_id,
                 date(substr(r.submitted_at, 1, 19), '+7 hours', 'start of month')
          FROM response r WHERE r.id = {row}.response_id AND NOT r.excluded);"""

SQLITE = [
    """
CREATE TRIGGER response_month_inserted AFTER INSERT ON response WHEN NOT NEW.excluded
BEGIN
    INSERT INTO response_month (service_point_id, month, responses)
    VALUES (NEW.service_point_id,
            date(substr(NEW.submitted_at, 1, 19), '+7 hours', 'start of month'), 1)
    ON CONFLICT (service_point_id, month) DO UPDATE SET responses = responses + 1;
END
""",
    "CREATE TRIGGER answer_month_inserted AFTER INSERT ON answer WHEN NEW.value IS NOT NULL\n"
    "BEGIN" + SQLITE_ADD_ANSWER.format(row="NEW") + "\nEND",
    "CREATE TRIGGER response_month_updated\n"
    "AFTER UPDATE OF excluded, submitted_at, service_point_id ON response\n"
    "WHEN OLD.excluded IS NOT NEW.excluded OR OLD.submitted_at IS NOT NEW.submitted_at\n"
    "     OR OLD.service_point_id IS NOT NEW.service_point_id\n"
    "BEGIN"
    + SQLITE_TAKE_RESPONSE.format(row="OLD")
    + SQLITE_ADD_RESPONSE.format(row="NEW")
    + "\nEND",
    "CREATE TRIGGER response_month_deleted AFTER DELETE ON response\n"
    "BEGIN" + SQLITE_TAKE_RESPONSE.format(row="OLD") + "\nEND",
    "CREATE TRIGGER answer_month_updated AFTER UPDATE OF value, item_id, response_id ON answer\n"
    "BEGIN" + SQLITE_TAKE_ANSWER.format(row="OLD") + SQLITE_ADD_ANSWER.format(row="NEW") + "\nEND",
    "CREATE TRIGGER answer_month_deleted AFTER DELETE ON answer\n"
    "BEGIN" + SQLITE_TAKE_ANSWER.format(row="OLD") + "\nEND",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "answer_month_deleted",
        "answer_month_updated",
        "response_month_deleted",
        "response_month_updated",
        "answer_month_inserted",
        "response_month_inserted",
    )
]

ANSWER_COUNTS = """
       a.item_id,
       sum(CASE WHEN a.value = 1 THEN 1 ELSE 0 END), sum(CASE WHEN a.value = 2 THEN 1 ELSE 0 END),
       sum(CASE WHEN a.value = 3 THEN 1 ELSE 0 END), sum(CASE WHEN a.value = 4 THEN 1 ELSE 0 END),
       sum(CASE WHEN a.value = 5 THEN 1 ELSE 0 END)
FROM answer a JOIN response r ON r.id = a.response_id
WHERE NOT r.excluded AND a.value IS NOT NULL
GROUP BY 1, 2, 3
"""
BACKFILL = {
    "postgresql": [
        """
INSERT INTO response_month (service_point_id, month, responses)
SELECT service_point_id, summary_month(submitted_at), count(*) FROM response
WHERE NOT excluded GROUP BY 1, 2
""",
        """
INSERT INTO answer_month
    (service_point_id, month, item_id, value_1, value_2, value_3, value_4, value_5)
SELECT r.service_point_id, summary_month(r.submitted_at),"""
        + ANSWER_COUNTS,
    ],
    "sqlite": [
        """
INSERT INTO response_month (service_point_id, month, responses)
SELECT service_point_id, date(substr(submitted_at, 1, 19), '+7 hours', 'start of month'), count(*)
FROM response
WHERE NOT excluded GROUP BY 1, 2
""",
        """
INSERT INTO answer_month
    (service_point_id, month, item_id, value_1, value_2, value_3, value_4, value_5)
SELECT r.service_point_id, date(substr(r.submitted_at, 1, 19), '+7 hours', 'start of month'),"""
        + ANSWER_COUNTS,
    ],
}


def create_triggers(dialect: str) -> None:
    """The summaries' triggers (a later SQLite batch migration of response/answer calls it)."""
    statements = POSTGRESQL[1:] if dialect == "postgresql" else SQLITE
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        "response_month",
        sa.Column("service_point_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_point_id"],
            ["service_point.id"],
            name=op.f("fk_response_month_service_point_id_service_point"),
        ),
        sa.PrimaryKeyConstraint("service_point_id", "month", name=op.f("pk_response_month")),
    )
    op.create_index("ix_response_month_month", "response_month", ["month"], unique=False)
    op.create_table(
        "answer_month",
        sa.Column("service_point_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        *[sa.Column(f"value_{k}", sa.Integer(), nullable=False) for k in range(1, 6)],
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_answer_month_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["service_point_id"],
            ["service_point.id"],
            name=op.f("fk_answer_month_service_point_id_service_point"),
        ),
        sa.PrimaryKeyConstraint(
            "service_point_id", "month", "item_id", name=op.f("pk_answer_month")
        ),
    )
    op.create_index("ix_answer_month_month", "answer_month", ["month", "item_id"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRESQL[0])  # summary_month(), used by the backfill
    for statement in BACKFILL[dialect]:
        op.execute(statement)
    create_triggers(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP:
        op.execute(statement)
    op.drop_index("ix_answer_month_month", table_name="answer_month")
    op.drop_table("answer_month")
    op.drop_index("ix_response_month_month", table_name="response_month")
    op.drop_table("response_month")
