"""Settings from the environment; no default secret outside development and tests."""

from __future__ import annotations

import pytest

from survey import create_app
from survey.config import ConfigurationError, load_settings


def test_production_refuses_a_missing_secret(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SURVEY_ENV", "production")
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        load_settings(str(tmp_path))


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
    assert settings["SECRET_KEY"].startswith("development-only")


def test_wsgi_module_builds_the_app(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SURVEY_ENV", "development")
    app = create_app()
    assert {"public.show_form", "admin.dashboard"} <= {r.endpoint for r in app.url_map.iter_rules()}
