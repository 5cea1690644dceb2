"""Who and what a report covers: the hierarchy, the scope a reader may see, the targets in
force, the period a report opens on and the periods it offers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from survey.services.errors import NotFound
from survey.services.hierarchy import subtree_ids
from survey.services.local_time import VIETNAM_TIME, today_in_vietnam
from survey.services.periods import Period, parse_period
from survey.services.reporting.model import MIN_RESPONSES, AppliedTarget
from survey.services.reporting.present import SECTOR_NAMES
from survey.storage import queries
from survey.storage.models import SECTORS, Agency, Target

# Targets


def applicable_target(
    targets: Sequence[Target], sector: str, period: Period, province_id: int | None
) -> AppliedTarget | None:
    """The target in force at the end of the period for a sector.

    Among targets for the sector (or every sector) that started by the period's end, the one that
    covers the period's end wins, else the most recent one ("above 80% by 2020" stays the bar until
    a newer target replaces it); a province's own target beats the national one of the same date.
    """
    candidates = [
        t
        for t in targets
        if t.sector in (sector, None)
        and t.period_start <= period.last
        and (
            (t.scope_agency_id is None and t.scope_name == "Toàn quốc")
            or (province_id is not None and t.scope_agency_id == province_id)
        )
    ]
    if not candidates:
        return None

    def rank(t: Target) -> tuple[bool, dt.date, bool, bool]:
        covers = t.period_start <= period.last <= t.period_end
        return (covers, t.period_end, t.scope_agency_id is not None, t.sector is not None)

    best = max(candidates, key=rank)
    return AppliedTarget(
        low=best.low,
        high=best.high,
        description=best.description,
        source=best.source,
        scope_name=best.scope_name,
    )


@dataclass(frozen=True, kw_only=True)
class Hierarchy:
    agencies: dict[int, Agency]
    by_code: dict[str, Agency]

    def subtree_codes(self, root: Agency) -> set[str]:
        """The agency, its sub-units at any depth, and the agencies merged into any of them."""
        links = ((a.id, a.parent_id, a.successor_id) for a in self.agencies.values())
        ids = subtree_ids(links, root.id)
        return {root.code} | {self.agencies[i].code for i in ids if i in self.agencies}

    def province(self) -> Agency | None:
        roots = [a for a in self.agencies.values() if a.parent_id is None]
        return roots[0] if len(roots) == 1 else None


def load_hierarchy(session: Session) -> Hierarchy:
    agencies = {agency.id: agency for agency in queries.all_agencies(session)}
    return Hierarchy(agencies=agencies, by_code={a.code: a for a in agencies.values()})


# The report


def home_report(session: Session, scope: Any, user_id: int) -> tuple[str, str]:
    """(kind, key) of the report a user lands on: the province, their sector or their agency."""
    if scope.everything:
        return "province", "all"
    if scope.sector is not None:
        return "sector", scope.sector
    user = queries.user_by_id(session, user_id)
    agency = (
        queries.agency_by_id(session, user.scope_agency_id)
        if user and user.scope_agency_id
        else None
    )
    if agency is None:
        raise NotFound(
            "Tài khoản chưa được gán phạm vi báo cáo.", "This account has no report scope yet."
        )
    return "agency", agency.code


def default_period(
    session: Session,
    scope_kind: str = "province",
    scope_key: str = "",
    *,
    min_n: int = MIN_RESPONSES,
    visible: frozenset[int] | None = None,
    today: dt.date | None = None,
) -> Period:
    """The period a report opens on: the latest calendar year, up to the current one (Vietnam's
    date), in which the scope has at least ``min_n`` respondents; else the latest year in which
    it has any; else the current year.

    A year still under way counts as soon as it has enough data. No quarter is tried when no
    year has enough: a quarter never holds more respondents than its year.
    """
    today = today or today_in_vietnam()
    hierarchy = load_hierarchy(session)
    codes, _, _ = resolve_scope(hierarchy, scope_kind, scope_key, visible)
    ids = {hierarchy.by_code[code].id for code in codes}
    per_year: dict[int, int] = {}
    for (agency_id, year), count in queries.yearly_response_counts(session).items():
        if agency_id in ids and year <= today.year:
            per_year[year] = per_year.get(year, 0) + count
    enough = [year for year, count in per_year.items() if count >= min_n]
    year = max(enough) if enough else max(per_year) if per_year else today.year
    return parse_period(str(year))


def period_choices(session: Session) -> list[Period]:
    """Years, halves and quarters from the first to the last response, newest first."""
    first, last = queries.first_submission(session), queries.latest_submission(session)
    if first is None or last is None:
        return [parse_period(str(today_in_vietnam().year))]
    out: list[Period] = []
    for year in range(
        last.astimezone(VIETNAM_TIME).year, first.astimezone(VIETNAM_TIME).year - 1, -1
    ):
        out.append(parse_period(str(year)))
        out.extend(parse_period(f"{year}-H{half}") for half in (2, 1))
        out.extend(parse_period(f"{year}-Q{quarter}") for quarter in (4, 3, 2, 1))
    return out


def resolve_scope(
    hierarchy: Hierarchy, scope_kind: str, scope_key: str, visible_ids: frozenset[int] | None
) -> tuple[set[str], str, str]:
    """Agency codes in the scope that the reader may see, and the scope's title."""
    visible = {
        code for code, a in hierarchy.by_code.items() if visible_ids is None or a.id in visible_ids
    }
    if scope_kind == "province":
        province = hierarchy.province()
        title = province.name_vi if province else "Toàn tỉnh"
        return visible, title, province.name_en if province else "Whole province"
    if scope_kind == "sector":
        if scope_key not in SECTORS:
            raise NotFound()
        codes = {c for c in visible if hierarchy.by_code[c].sector == scope_key}
        vi, en = SECTOR_NAMES[scope_key]
        return codes, vi, en
    if scope_kind == "agency":
        agency = hierarchy.by_code.get(scope_key)
        if agency is None or scope_key not in visible:
            raise NotFound()
        return hierarchy.subtree_codes(agency) & visible, agency.name_vi, agency.name_en
    raise NotFound()
