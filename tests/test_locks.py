"""The dependency locks (requirements/*.lock, made by scripts/lock.sh) pin every dependency that
pyproject.toml names, each with its hashes, so the README's two commands install exactly them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _name(requirement: str) -> str:
    name = re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _pinned(lock: str) -> dict[str, str]:
    """name → the lines of its entry (its ``==`` pin and ``--hash`` options)."""
    text = (REPO / "requirements" / lock).read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    pins = {}
    for entry in entries:
        match = re.match(r"([A-Za-z0-9_.-]+)==\S+", entry)
        if match:
            pins[_name(match.group(1))] = entry
    return pins


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("runtime.lock", PROJECT["dependencies"]),
        ("dev.lock", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"]),
    ],
)
def test_every_declared_dependency_is_pinned_with_hashes(lock: str, requirements: list[str]):
    pins = _pinned(lock)
    missing = sorted({_name(r) for r in requirements} - set(pins))
    assert missing == [], f"run scripts/lock.sh: {lock} lacks {missing}"
    unhashed = sorted(name for name, entry in pins.items() if "--hash=sha256:" not in entry)
    assert unhashed == []
