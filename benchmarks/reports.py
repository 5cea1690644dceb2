"""Dashboard and PDF timings on the demo province (one command: ``python -m benchmarks.reports``).

Measured in one run, with a trivial page of the same app as the baseline: the province dashboard
for a year of demo data, cold (caches emptied, as after a new response) and warm (cached), and the
province PDF report for the year. Goals: warm dashboard under 1 s, PDF under 30 s.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from survey import create_app
from survey.extensions import get_session
from survey.services import reporting as reports
from survey.services.accounts import create_user
from survey.services.demo import load_demo_province
from survey.services.filing import print_charts
from survey.storage.database import upgrade_database

PASSWORD = "quiet-Lantern-tide-82-marble"  # without the username (accounts policy)


def _timed(client, url: str, repeat: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    times = []
    status = 0
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(url)
        times.append(time.perf_counter() - start)
        status = answer.status_code
        answer.close()
    return statistics.median(times), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        upgrade_database(url)
        app = create_app({"TESTING": True, "DATABASE_URL": url, "RATELIMIT_ENABLED": False})
        with app.app_context():
            session = get_session()
            load_demo_province(session)
            create_user(session, "bench", PASSWORD)
            session.commit()  # services flush; the caller commits
        client = app.test_client()
        page = client.get("/admin/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        client.post(
            "/admin/sign-in",
            data={
                "csrf_token": token.group(1) if token else "",
                "username": "bench",
                "password": PASSWORD,
            },
        )
        dashboard = "/reports/province/all?period=2025"
        baseline, _ = _timed(client, "/", args.repeat)
        cold = []
        for _ in range(max(1, args.repeat // 2)):
            with app.app_context():  # the app's own store (Redis or this process's memory)
                reports.REPORT_CACHE.clear()
                print_charts.PRINT_CHART_CACHE.clear()
            seconds, status = _timed(client, dashboard, 1)
            cold.append(seconds)
        warm, status = _timed(client, dashboard, args.repeat)
        pdf_start = time.perf_counter()
        with app.app_context():
            reports.REPORT_CACHE.clear()  # reports and their charts
            print_charts.PRINT_CHART_CACHE.clear()
        pdf = client.get("/reports/province/all/report.pdf?period=2025")
        pdf_seconds = time.perf_counter() - pdf_start
        print(f"trivial page (baseline)     {baseline * 1000:8.1f} ms")
        print(
            f"province dashboard, warm    {warm * 1000:8.1f} ms  "
            f"({warm / baseline:.0f}× baseline; goal < 1000 ms)  status {status}"
        )
        print(
            f"province dashboard, cold    {statistics.median(cold) * 1000:8.1f} ms  "
            f"({statistics.median(cold) / baseline:.0f}× baseline)"
        )
        print(
            f"province PDF, year, cold    {pdf_seconds:8.2f} s   "
            f"({len(pdf.data) / 1024:.0f} KB; goal < 30 s)  status {pdf.status_code}"
        )


if __name__ == "__main__":
    main()
