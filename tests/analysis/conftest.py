"""Shared helpers for the analysis tests: the R reference data in ../shared/reference/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def reference_dir() -> Path:
    env = os.environ.get("REFERENCE_DIR")
    if env:
        return Path(env)
    for cand in (REPO.parent / "shared" / "reference", REPO / "shared" / "reference"):
        if cand.exists():
            return cand
    return REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def ref_dir() -> Path:
    d = reference_dir()
    if not (d / "responses.csv").exists():
        pytest.fail(f"reference data not found in {d} (set REFERENCE_DIR)")
    return d
