"""monthly partitions of ``response`` on PostgreSQL (SQLite is unchanged)

Revision ID: 0011
Revises: 0010
Create Date: 2027-02-15

National deployment: ``response`` grows by millions of rows a year, and reports read months.
On PostgreSQL it becomes a table partitioned by ``submitted_at``, one partition per calendar month
in Vietnam time (UTC+7, the months of every report, export and of ``response_month``), named
``response_pYYYY_MM``, plus ``response_default`` for a row no month partition takes (a safety
net, normally empty). The upgrade makes the months of the existing responses up to 24 months after
the current one; ``flask --app wsgi create-partitions --months 24`` (monthly from cron) keeps
making them, and moves rows out of the default partition when it makes their month. SQLite (tests,
a single office) keeps one plain table: the upgrade and downgrade do nothing there.

Decisions (PostgreSQL's rules for partitioned tables force each one):

* The primary key is ``(id, submitted_at)`` and the unique key ``uq_response_idempotency_key`` is
  ``(idempotency_key, submitted_at)``: every unique index of a partitioned table must hold the
  partition key. The ORM still maps ``id`` alone as the primary key (``session.get(Response, id)``
  works unchanged): ``id`` stays unique (``response_key``'s primary key, below), drawn from the
  same sequence ``response_id_seq``, which keeps its value (new ids go on increasing).
* One stored response per idempotency key, across all months, is kept by ``response_key``
  (``response_id`` primary key, ``idempotency_key`` unique): a plain table with one narrow row per
  response, filled by a BEFORE INSERT trigger on ``response``. An INSERT whose key is already
  registered to a stored response inserts nothing and returns no row, exactly what the form's
  ``ON CONFLICT DO NOTHING`` did (the form's statement now names no conflict target, which a
  partitioned table could not satisfy for ``idempotency_key`` alone); two concurrent inserts of
  one key wait on the unique index as before. This holds for every insert, bulk ones too (imports
  filter stored keys first, so a repeated key skipped there is the same response).
* The foreign keys that pointed at ``response.id`` (answer, response_flag, response_decision,
  dossier_rating, comment_review, comment_state, comment_topic, comment_read) cannot: a foreign
  key to a partitioned table must name its whole partition key, and carrying ``submitted_at`` into
  ``answer`` (and partitioning it too) would change every writer of answers. They point at
  ``response_key.response_id`` instead — real foreign keys, checked by PostgreSQL with its row
  locks. Deleting a response deletes its ``response_key`` row (AFTER DELETE trigger, named to run
  after the summaries' ``response_month_deleted`` has read the answers), which deletes its
  answers, flags, decisions, comment topics, read marks, state and review (ON DELETE CASCADE) and
  unlinks a dossier rating (ON DELETE SET NULL: the dossier keeps its rating, as after
  ``unlink-dossier-ratings``). Nothing in the application deletes responses today (retention
  blanks comments, ``purge-comments``); a DBA's DELETE now takes the dependants with it instead
  of failing. On SQLite the old foreign keys stay (a DELETE with answers is refused).
* An UPDATE that changes ``submitted_at`` to another month moves the row to another partition,
  which PostgreSQL performs as a DELETE and an INSERT (AFTER UPDATE row triggers and INSERT
  statement triggers do not fire). The triggers recognise the move (the id is still stored):
  ``response_key`` keeps the row, nothing cascades, and ``response_month_deleted`` subtracts the
  old row and adds the moved one, as the update trigger of 0010 would have.
* 0010's ``answer_month_inserted()`` now plans its join to ``response`` per statement
  (``EXECUTE``): a plan cached on a pooled connection by a large import read every partition at
  each later form submission.
* Dropping a month's partition (retention by ``DROP TABLE``) bypasses the triggers: delete the
  month's responses first (``DELETE … WHERE submitted_at …`` keeps the summaries and dependants
  right), then drop the empty partition.

The downgrade restores the plain table (rows, sequence, indexes, foreign keys to ``response.id``
and the triggers and functions of 0010) and drops ``response_key``.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FUTURE_MONTHS = 24
VIETNAM = "+07"

COLUMNS = (
    "id, idempotency_key, service_point_id, questionnaire_id, channel, language, submitted_at, "
    "comment, kiosk_id, device_time, excluded"
)
INDEXES = {
    "ix_response_service_point_id": "service_point_id",
    "ix_response_submitted_at": "submitted_at",
    "ix_response_kiosk_id": "kiosk_id",
}
# table → what deleting its response does to its rows
DEPENDANTS = {
    "answer": "CASCADE",
    "response_flag": "CASCADE",
    "response_decision": "CASCADE",
    "dossier_rating": "SET NULL",
    "comment_review": "CASCADE",
    "comment_state": "CASCADE",
    "comment_topic": "CASCADE",
    "comment_read": "CASCADE",
}


def _response_table(partitioned: bool) -> str:
    key = "id, submitted_at" if partitioned else "id"
    unique = "idempotency_key, submitted_at" if partitioned else "idempotency_key"
    return f"""
CREATE TABLE response (
    id integer NOT NULL DEFAULT nextval('response_id_seq'::regclass),
    idempotency_key varchar(64) NOT NULL,
    service_point_id integer NOT NULL,
    questionnaire_id integer NOT NULL,
    channel varchar(10) NOT NULL,
    language varchar(5) NOT NULL,
    submitted_at timestamp with time zone NOT NULL,
    comment text,
    kiosk_id integer,
    device_time timestamp with time zone,
    excluded boolean NOT NULL DEFAULT false,
    CONSTRAINT pk_response PRIMARY KEY ({key}),
    CONSTRAINT uq_response_idempotency_key UNIQUE ({unique}),
    CONSTRAINT ck_response_channel CHECK (channel IN ('qr', 'kiosk', 'paper', 'import')),
    CONSTRAINT fk_response_kiosk_id_kiosk FOREIGN KEY (kiosk_id) REFERENCES kiosk (id),
    CONSTRAINT fk_response_questionnaire_id_questionnaire
        FOREIGN KEY (questionnaire_id) REFERENCES questionnaire (id),
    CONSTRAINT fk_response_service_point_id_service_point
        FOREIGN KEY (service_point_id) REFERENCES service_point (id)
){" PARTITION BY RANGE (submitted_at)" if partitioned else ""}
"""


def _set_old_table_aside(new_name: str) -> None:
    """Rename ``response`` and its index names (global in a schema) out of the way; release the
    id sequence so that it outlives the old table."""
    op.execute(f"ALTER TABLE response RENAME TO {new_name}")
    for index in ("pk_response", "uq_response_idempotency_key", *INDEXES):
        op.execute(f"ALTER INDEX {index} RENAME TO {index}_{new_name}")
    op.execute("ALTER SEQUENCE response_id_seq OWNED BY NONE")


def _new_table(partitioned: bool) -> None:
    op.execute(_response_table(partitioned))
    op.execute("ALTER SEQUENCE response_id_seq OWNED BY response.id")
    for index, column in INDEXES.items():
        op.execute(f"CREATE INDEX {index} ON response ({column})")


def partition_name(month: dt.date) -> str:
    return f"response_p{month.year:04d}_{month.month:02d}"


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _create_partition(month: dt.date) -> None:
    op.execute(
        f"CREATE TABLE {partition_name(month)} PARTITION OF response FOR VALUES "
        f"FROM ('{month.isoformat()} 00:00:00{VIETNAM}') "
        f"TO ('{_next_month(month).isoformat()} 00:00:00{VIETNAM}')"
    )


def _months_to_partition(table: str) -> list[dt.date]:
    """Vietnam months from the earliest stored response (or this month) to 24 months ahead."""
    first, last, now = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT min(summary_month(submitted_at)), max(summary_month(submitted_at)), "  # noqa: S608 — a fixed table name
                f"summary_month(now()) FROM {table}"
            )
        )
        .one()
    )
    end = now
    for _ in range(FUTURE_MONTHS):
        end = _next_month(end)
    start = min(first or now, now)
    end = max(last or end, end)
    months = [start]
    while months[-1] < end:
        months.append(_next_month(months[-1]))
    return months


# ------------------------------------------------------------------------ functions and triggers

FUNCTIONS = [
    # One registered response per idempotency key, whatever the month.
    """
CREATE OR REPLACE FUNCTION response_key_register() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    holder integer;
BEGIN
    INSERT INTO response_key (response_id, idempotency_key)
    VALUES (NEW.id, NEW.idempotency_key)
    ON CONFLICT (idempotency_key) DO NOTHING;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    SELECT response_id INTO holder FROM response_key
    WHERE idempotency_key = NEW.idempotency_key FOR UPDATE;
    IF holder = NEW.id THEN
        RETURN NEW;  -- this very response, moved to another month by an UPDATE of submitted_at
    END IF;
    IF EXISTS (SELECT 1 FROM response WHERE id = holder) THEN
        RETURN NULL;  -- the key is stored: insert nothing, as ON CONFLICT DO NOTHING
    END IF;
    -- left behind by a response removed with triggers switched off: the key is free again
    DELETE FROM response_key WHERE response_id = holder;
    INSERT INTO response_key (response_id, idempotency_key)
    VALUES (NEW.id, NEW.idempotency_key);
    RETURN NEW;
END $$
""",
    """
CREATE OR REPLACE FUNCTION response_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE response_key SET response_id = NEW.id, idempotency_key = NEW.idempotency_key
    WHERE response_id = OLD.id;
    RETURN NEW;
END $$
""",
    # A deleted response takes its dependants along (the foreign keys to response_key cascade);
    # a response moved to another month's partition is still there and keeps them.
    """
CREATE OR REPLACE FUNCTION response_key_unregister() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM response WHERE id = OLD.id) THEN
        DELETE FROM response_key WHERE response_id = OLD.id;
    END IF;
    RETURN NULL;
END $$
""",
    # 0010's response_month_changed() for a DELETE, aware of rows moved between partitions.
    """
CREATE OR REPLACE FUNCTION response_month_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved response%ROWTYPE;
BEGIN
    SELECT * INTO moved FROM response WHERE id = OLD.id;
    IF NOT OLD.excluded THEN
        UPDATE response_month SET responses = responses - 1
        WHERE service_point_id = OLD.service_point_id AND month = summary_month(OLD.submitted_at);
        PERFORM answer_month_response(
            OLD.id, OLD.service_point_id, summary_month(OLD.submitted_at), -1);
    END IF;
    IF moved.id IS NOT NULL AND NOT moved.excluded THEN
        INSERT INTO response_month AS s (service_point_id, month, responses)
        VALUES (moved.service_point_id, summary_month(moved.submitted_at), 1)
        ON CONFLICT (service_point_id, month) DO UPDATE SET responses = s.responses + 1;
        PERFORM answer_month_response(
            moved.id, moved.service_point_id, summary_month(moved.submitted_at), 1);
    END IF;
    RETURN NULL;
END $$
""",
]
# 0010's answer_month_inserted() joins the inserted answers to response. PL/pgSQL keeps a
# statement's plan for the connection's life, planned for the first transition table it saw: after
# an import of 100,000 answers (a hash join reading every partition), each form submission on that
# pooled connection read every partition again (35 ms instead of 3 ms per answer insert measured
# after a 50,000-response import). Planned per statement here (EXECUTE), for the rows at hand.
ANSWER_MONTH_INSERTED = """
CREATE OR REPLACE FUNCTION answer_month_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE $sql$
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
            value_5 = s.value_5 + EXCLUDED.value_5
    $sql$;
    RETURN NULL;
END $$
"""
# ... and as 0010 made it (the downgrade puts it back)
ANSWER_MONTH_INSERTED_0010 = """
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
"""
FUNCTION_NAMES = (
    "response_key_register",
    "response_key_change",
    "response_key_unregister",
    "response_month_removed",
)

# 0010's triggers on response, as 0010 made them (the downgrade puts them back).
SUMMARY_TRIGGERS_0010 = [
    """
CREATE TRIGGER response_month_inserted AFTER INSERT ON response
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION response_month_inserted()
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
]
# Row triggers on a partitioned table are cloned onto every partition, present and future.
# AFTER triggers of one row fire in name order: response_month_deleted reads the answers before
# response_unregistered deletes them.
TRIGGERS = [
    SUMMARY_TRIGGERS_0010[0],
    SUMMARY_TRIGGERS_0010[1],
    """
CREATE TRIGGER response_month_deleted AFTER DELETE ON response
FOR EACH ROW EXECUTE FUNCTION response_month_removed()
""",
    """
CREATE TRIGGER response_key_registered BEFORE INSERT ON response
FOR EACH ROW EXECUTE FUNCTION response_key_register()
""",
    """
CREATE TRIGGER response_key_changed BEFORE UPDATE OF id, idempotency_key ON response
FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id
                   OR OLD.idempotency_key IS DISTINCT FROM NEW.idempotency_key)
EXECUTE FUNCTION response_key_change()
""",
    """
CREATE TRIGGER response_unregistered AFTER DELETE ON response
FOR EACH ROW EXECUTE FUNCTION response_key_unregister()
""",
]
TRIGGER_NAMES = (
    "response_month_inserted",
    "response_month_updated",
    "response_month_deleted",
    "response_key_registered",
    "response_key_changed",
    "response_unregistered",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in DEPENDANTS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_response_id_response")
    for trigger in TRIGGER_NAMES[:3]:
        op.execute(f"DROP TRIGGER {trigger} ON response")
    _set_old_table_aside("response_unpartitioned")
    _new_table(partitioned=True)
    for month in _months_to_partition("response_unpartitioned"):
        _create_partition(month)
    op.execute("CREATE TABLE response_default PARTITION OF response DEFAULT")
    # The summaries already count these rows: their triggers come after the copy.
    op.execute(
        f"INSERT INTO response ({COLUMNS}) SELECT {COLUMNS} FROM response_unpartitioned"  # noqa: S608 — fixed names
    )
    op.execute("DROP TABLE response_unpartitioned")

    op.execute("DROP TABLE IF EXISTS response_key")  # rebuilt from response, the source of truth
    op.execute(
        """
CREATE TABLE response_key (
    response_id integer NOT NULL CONSTRAINT pk_response_key PRIMARY KEY,
    idempotency_key varchar(64) NOT NULL
        CONSTRAINT uq_response_key_idempotency_key UNIQUE
)
"""
    )
    op.execute("INSERT INTO response_key SELECT id, idempotency_key FROM response")
    for table, action in DEPENDANTS.items():
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_response_id_response_key "
            f"FOREIGN KEY (response_id) REFERENCES response_key (response_id) ON DELETE {action}"
        )
    for statement in [*FUNCTIONS, ANSWER_MONTH_INSERTED, *TRIGGERS]:
        op.execute(statement)
    op.execute("ANALYZE response")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for trigger in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON response")
    for table in DEPENDANTS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_response_id_response_key")
    op.execute("DROP TABLE response_key")
    _set_old_table_aside("response_partitioned")
    _new_table(partitioned=False)
    op.execute(
        f"INSERT INTO response ({COLUMNS}) SELECT {COLUMNS} FROM response_partitioned"  # noqa: S608 — fixed names
    )
    op.execute("DROP TABLE response_partitioned")  # and its partitions
    for table in DEPENDANTS:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_response_id_response "
            "FOREIGN KEY (response_id) REFERENCES response (id)"
        )
    for statement in [ANSWER_MONTH_INSERTED_0010, *SUMMARY_TRIGGERS_0010]:
        op.execute(statement)
    for function in FUNCTION_NAMES:
        op.execute(f"DROP FUNCTION IF EXISTS {function}()")
