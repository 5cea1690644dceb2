"""``flask export-responses``: a refused export says why in both languages, without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from survey.services import exports
from survey.storage import export_stream


def test_export_that_keeps_being_overrun_is_refused_in_both_languages(
    runner: FlaskCliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    runner.invoke(args=["load-demo"])
    counted = export_stream.stratum_counts

    def always_one_short(*args: object, **kwargs: object) -> dict[tuple[int, str], int]:
        counts = counted(*args, **kwargs)  # type: ignore[arg-type]
        return {key: value + 1 for key, value in counts.items()}

    monkeypatch.setattr(export_stream, "stratum_counts", always_one_short)
    result = runner.invoke(args=["export-responses", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert exports.ExportOverrun.message_en in result.output
    assert exports.ExportOverrun.message_vi in result.output
