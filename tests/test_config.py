"""Settings from the environment; no default secret outside development and tests."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from survey import create_app
from survey.config import (
    ConfigurationError,
    apply_instance_settings,
    load_settings,
    read_instance_settings,
)

REPO = Path(__file__).resolve().parents[1]


def test_production_refuses_a_missing_secret(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SURVEY_ENV", "production")
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set") as refused:
        load_settings(str(tmp_path))
    assert "secrets.token_hex(32)" in str(refused.value)
    assert "SURVEY_ENV=development" not in str(refused.value)


@pytest.mark.parametrize("key", ["x", "s" * 31, "é" * 15])
def test_production_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch, tmp_path, key: str):
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.setenv("SURVEY_ENV", "production")
    with pytest.raises(ConfigurationError, match="at least 32 bytes") as refused:
        load_settings(str(tmp_path))
    assert "secrets.token_hex(32)" in str(refused.value)
    assert "SURVEY_ENV=development" not in str(refused.value)
    monkeypatch.delenv("SURVEY_ENV")  # production is the default
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        load_settings(str(tmp_path))


def test_development_makes_a_random_key_once_and_keeps_it_private(
    monkeypatch: pytest.MonkeyPatch, tmp_path
):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SURVEY_ENV", "development")
    first = load_settings(str(tmp_path / "one"))["SECRET_KEY"]
    assert len(first) >= 32 and "development-only" not in first
    kept = tmp_path / "one" / "secret_key"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text().strip() == first
    assert load_settings(str(tmp_path / "one"))["SECRET_KEY"] == first  # the next start
    assert load_settings(str(tmp_path / "two"))["SECRET_KEY"] != first  # another installation


def test_a_readable_development_key_file_is_made_private(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SURVEY_ENV", "development")
    kept = tmp_path / "secret_key"
    kept.write_text("k" * 64 + "\n")
    kept.chmod(0o644)
    assert load_settings(str(tmp_path))["SECRET_KEY"] == "k" * 64
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_testing_uses_a_random_key_per_process(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key = load_settings(str(tmp_path), {"TESTING": True})["SECRET_KEY"]
    assert len(key) >= 32 and "development-only" not in key
    assert not (tmp_path / "secret_key").exists()


def test_environment_settings_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 64)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db.example/survey")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://hailong.dienbien.gov.vn/")
    settings = load_settings(str(tmp_path))
    assert settings["DATABASE_URL"] == "postgresql+psycopg://u@db.example/survey"
    assert settings["PUBLIC_BASE_URL"] == "https://hailong.dienbien.gov.vn"
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SURVEY_ENV", "development")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = load_settings(str(tmp_path))
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path}/survey.sqlite3"
    assert len(settings["SECRET_KEY"]) >= 32


def test_wsgi_module_builds_the_app(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SURVEY_ENV", "development")
    monkeypatch.setenv("SECRET_KEY", "t" * 40)  # no key file written into the project's instance/
    app = create_app()
    assert {"public.show_form", "admin.dashboard"} <= {r.endpoint for r in app.url_map.iter_rules()}


def test_report_settings_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("SURVEY_ENV", "development")
    monkeypatch.delenv("REPORTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("REPORT_CACHE_TTL_SECONDS", raising=False)
    defaults = load_settings(str(tmp_path))
    assert defaults["REPORTS_DATABASE_URL"] is None  # reports read DATABASE_URL
    assert (defaults["REPORT_CACHE_TTL_SECONDS"], defaults["REPORT_CACHE_MEMORY_MB"]) == (3600, 64)
    monkeypatch.setenv("REPORTS_DATABASE_URL", "postgresql+psycopg://reader@replica.example/survey")
    monkeypatch.setenv("REPORT_CACHE_TTL_SECONDS", "600")
    settings = load_settings(str(tmp_path))
    assert settings["REPORTS_DATABASE_URL"] == "postgresql+psycopg://reader@replica.example/survey"
    assert settings["REPORT_CACHE_TTL_SECONDS"] == 600
    monkeypatch.setenv("REPORT_CACHE_MEMORY_MB", "a lot")
    with pytest.raises(ConfigurationError, match="REPORT_CACHE_MEMORY_MB"):
        load_settings(str(tmp_path))


def test_instance_settings_fill_in_what_the_environment_does_not_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path
):
    (tmp_path / "settings.env").write_text(
        "# this copy\n\nSURVEY_ENV=development\nexport PUBLIC_BASE_URL='https://a.example'\n"
        "DATABASE_URL = sqlite:///x.db\n",
        encoding="utf-8",
    )
    assert read_instance_settings(str(tmp_path)) == {
        "SURVEY_ENV": "development",
        "PUBLIC_BASE_URL": "https://a.example",
        "DATABASE_URL": "sqlite:///x.db",
    }
    monkeypatch.setattr(os, "environ", {"DATABASE_URL": "postgresql://db/survey"})
    apply_instance_settings(str(tmp_path))
    assert os.environ == {
        "SURVEY_ENV": "development",
        "PUBLIC_BASE_URL": "https://a.example",
        "DATABASE_URL": "postgresql://db/survey",  # the environment wins
    }
    assert load_settings(str(tmp_path))["SURVEY_ENV"] == "development"
    assert read_instance_settings(str(tmp_path / "none")) == {}


def test_a_malformed_instance_settings_line_is_named(tmp_path):
    (tmp_path / "settings.env").write_text("SURVEY_ENV development\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"settings.env, line 1: write NAME=value"):
        read_instance_settings(str(tmp_path))


def test_a_command_without_its_settings_says_so_in_one_line(tmp_path):
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SURVEY_ENV": "production",  # as a production shell without SECRET_KEY
        "DATABASE_URL": f"sqlite:///{tmp_path}/survey.sqlite3",
    }
    flask = Path(sys.executable).with_name("flask")
    done = subprocess.run(
        [str(flask), "--app", "wsgi", "export-responses", str(tmp_path / "out.csv")],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Configuration error: SECRET_KEY is not set.")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
