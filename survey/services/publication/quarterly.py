"""The use cases of the public quarterly report: its figures, charts, PDF, and the files that
``flask publish-report`` leaves for a province's portal.

Every figure comes from the official report (``build_report`` of the whole province, the same
cache, keyed on a fingerprint of the responses), then goes through
:func:`~survey.services.publication.suppression.public_view`. A response added, excluded or
included again changes the fingerprint, so the page, its ETag and the PDF change with it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from survey.services.periods import Period
from survey.services.publication.pdf import render_public_pdf
from survey.services.publication.suppression import PublicReport, public_view
from survey.services.report_charts import ReportCharts, charts_for
from survey.services.reporting import (
    MIN_RESPONSES,
    REPORT_CACHE,
    LruCache,
    ReportCache,
    build_report,
)

TREND_QUARTERS = 4  # the quarter and the three before it
MAX_AGE = 3600  # seconds a browser or proxy may keep a page before asking again (ETag)


@dataclass(frozen=True, kw_only=True)
class PublicationSettings:
    """``enabled`` — the public pages are served (``PUBLIC_REPORTS_ENABLED``); ``min_n`` — the
    official reports' minimum (``MIN_RESPONSES_FOR_INDEX``); ``minimum`` — groups below it are
    withheld (``PUBLIC_MIN_RESPONSES``, never less than ``min_n``)."""

    enabled: bool
    min_n: int = MIN_RESPONSES
    minimum: int = MIN_RESPONSES

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PublicationSettings:
        min_n = int(config.get("MIN_RESPONSES_FOR_INDEX") or MIN_RESPONSES)
        asked = config.get("PUBLIC_MIN_RESPONSES")
        return cls(
            enabled=bool(config.get("PUBLIC_REPORTS_ENABLED", False)),
            min_n=min_n,
            minimum=max(int(asked or min_n), min_n),
        )


def public_quarter(
    session: Session,
    period: Period,
    settings: PublicationSettings,
    *,
    cache: ReportCache | None = REPORT_CACHE,
) -> PublicReport:
    """The public view of the province's report for ``period``, with the trend of the quarters
    before it (each the headline of its own report, so it equals that quarter's page)."""
    report = build_report(session, period, "province", "", min_n=settings.min_n, cache=cache)
    earlier = []
    quarter = period
    for _ in range(TREND_QUARTERS - 1):
        quarter = quarter.previous()
        earlier.append(
            build_report(session, quarter, "province", "", min_n=settings.min_n, cache=cache)
        )
    return public_view(report, settings.minimum, list(reversed(earlier)))


def public_charts(report: PublicReport, language: str) -> ReportCharts:
    """The report's charts drawn from the public view only (cached per version and language)."""
    return charts_for(report.chart_source, language)


PDF_CACHE: LruCache[bytes] = LruCache(size=8)


def public_pdf(report: PublicReport, language: str) -> bytes:
    """The public PDF, made once per data version and language."""
    return PDF_CACHE.get_or_build(
        (report.version, language),
        lambda: render_public_pdf(report, public_charts(report, language), language),
    )


def etag(report: PublicReport, language: str, what: str) -> str:
    """A validator that changes with the data, the language and the minimum."""
    text = repr((what, language, report.version))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --------------------------------------------------------------------------------------------
# Files for the portal (flask publish-report)


def file_names(period_key: str, language: str) -> tuple[str, str]:
    """(page, PDF) file names: ``cong-khai-2025-Q3.html`` and ``.pdf`` in Vietnamese,
    ``cong-khai-2025-Q3.en.html`` and ``.en.pdf`` in English."""
    stem = f"cong-khai-{period_key}" + ("" if language == "vi" else f".{language}")
    return f"{stem}.html", f"{stem}.pdf"


@dataclass(frozen=True, kw_only=True)
class WrittenFile:
    path: Path
    changed: bool


def write_files(out_dir: Path, files: Mapping[str, bytes]) -> list[WrittenFile]:
    """Write each file into ``out_dir`` unless it already holds exactly these bytes, each by a
    rename, so a web server never serves half a file and a second run changes nothing."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, body in files.items():
        path = out_dir / name
        if path.is_file() and path.read_bytes() == body:
            written.append(WrittenFile(path=path, changed=False))
            continue
        descriptor, draft = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(body)
            os.chmod(draft, 0o644)  # published files: readable by the web server
            os.replace(draft, path)
        except BaseException:
            Path(draft).unlink(missing_ok=True)
            raise
        written.append(WrittenFile(path=path, changed=True))
    return written
