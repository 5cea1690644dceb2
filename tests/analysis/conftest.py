"""Shared helpers for the analysis tests: the R reference data in tests/analysis/reference/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFERENCE = Path(__file__).resolve().parent / "reference"


def reference_dir() -> Path:
    """The folder of responses.csv and R's numbers on it: REFERENCE_DIR if set, else the
    repository's tests/analysis/reference/ (see its README.md to regenerate)."""
    env = os.environ.get("REFERENCE_DIR")
    return Path(env) if env else REFERENCE


@pytest.fixture(scope="session")
def ref_dir() -> Path:
    d = reference_dir()
    if not (d / "responses.csv").exists():
        pytest.fail(f"reference data not found in {d} (set REFERENCE_DIR)")
    return d
