"""What the summaries' triggers cost a submission: ``queries.insert_response`` (the public form's
one-statement insert) per second with the triggers of migration 0010 enabled and disabled,
alternating blocks in the same run on the same PostgreSQL database.

``python -m benchmarks.scale.insert_cost --database-url postgresql+psycopg://… [--blocks 10]``
(the database needs the schema and questionnaires, e.g. one built by ``benchmarks.scale``; the
triggers are disabled with ``ALTER TABLE … DISABLE TRIGGER``, so use a throwaway database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import uuid

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from survey.storage import queries
from survey.storage.database import make_engine
from survey.storage.models import ServicePoint

TRIGGERS = {
    "response": ("response_month_inserted",),
    "answer": ("answer_month_inserted",),
}


def _switch(session: Session, enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    for table, names in TRIGGERS.items():
        for name in names:
            session.execute(text(f"ALTER TABLE {table} {verb} TRIGGER {name}"))
    session.commit()


def _block(
    session: Session, point: ServicePoint, questionnaire_id: int, items: list[int], n: int
) -> float:
    start = time.perf_counter()
    for k in range(n):
        queries.insert_response(
            session,
            idempotency_key=uuid.uuid4().hex,
            service_point_id=point.id,
            questionnaire_id=questionnaire_id,
            channel="qr",
            language="vi",
            submitted_at=dt.datetime.now(dt.UTC),
            comment=None,
            answers={item: 1 + (k + j) % 5 for j, item in enumerate(items)},
        )
        session.commit()  # one transaction per submission, as the form
    return n / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--per-block", type=int, default=200)
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    rates: dict[bool, list[float]] = {True: [], False: []}
    with Session(engine) as session:
        point = session.scalars(select(ServicePoint).limit(1)).one()
        questionnaire = queries.active_questionnaire(session, point.agency.sector)
        if questionnaire is None:
            raise SystemExit("no questionnaire")
        items = [item.id for item in questionnaire.items]
        try:
            for block in range(2 * args.blocks):
                enabled = block % 2 == 0
                _switch(session, enabled)
                rates[enabled].append(
                    _block(session, point, questionnaire.id, items, args.per_block)
                )
        finally:
            _switch(session, True)
    on, off = statistics.median(rates[True]), statistics.median(rates[False])
    print(
        f"insert_response, one transaction each (median of {args.blocks} blocks of "
        f"{args.per_block}): {on:,.0f}/s with the summaries' triggers, {off:,.0f}/s without "
        f"({on / off:.2f}×)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
