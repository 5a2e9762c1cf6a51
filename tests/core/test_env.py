from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from studio.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_path,
    env_str,
    parse_database_url,
)
from tests.conftest import ON_POSTGRESQL


def test_env_bool(monkeypatch):
    assert env_bool("X_FLAG", True) is True
    for raw, value in [("1", True), ("yes", True), ("OFF", False), ("false", False)]:
        monkeypatch.setenv("X_FLAG", raw)
        assert env_bool("X_FLAG", not value) is value
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_env_int(monkeypatch):
    assert env_int("X_NUM", 3) == 3
    monkeypatch.setenv("X_NUM", "12")
    assert env_int("X_NUM", 3, minimum=1, maximum=20) == 12
    for bad in ("12.5", "ten"):
        monkeypatch.setenv("X_NUM", bad)
        with pytest.raises(ImproperlyConfigured, match="whole number"):
            env_int("X_NUM", 3)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("X_NUM", 3, minimum=1)
    monkeypatch.setenv("X_NUM", "99")
    with pytest.raises(ImproperlyConfigured, match="at most 20"):
        env_int("X_NUM", 3, maximum=20)


def test_env_str_list_choice_path(monkeypatch, tmp_path):
    monkeypatch.setenv("X_EMPTY", "   ")
    assert env_str("X_EMPTY", "d") == "d"
    monkeypatch.setenv("X_LIST", "a.example, b.example,,")
    assert env_list("X_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("X_CHOICE", "Modellix")
    assert env_choice("X_CHOICE", "local", ("local", "modellix")) == "modellix"
    monkeypatch.setenv("X_CHOICE", "openai")
    with pytest.raises(ImproperlyConfigured, match="local, modellix"):
        env_choice("X_CHOICE", "local", ("local", "modellix"))
    monkeypatch.setenv("X_PATH", str(tmp_path / "data"))
    assert env_path("X_PATH", Path("/nowhere")) == tmp_path / "data"


def test_parse_database_url():
    config = parse_database_url("postgres://cut:p%40ss@db.internal:5433/cutroom?sslmode=require")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("cutroom", "cut", "p@ss")
    assert (config["HOST"], config["PORT"]) == ("db.internal", "5433")
    assert config["OPTIONS"] == {"sslmode": "require"}
    with pytest.raises(ImproperlyConfigured, match="postgres://"):
        parse_database_url("mysql://x/y")
    with pytest.raises(ImproperlyConfigured, match="name a database"):
        parse_database_url("postgres://host/")


@pytest.mark.skipif(ON_POSTGRESQL, reason="DATABASE_URL is set: the settings chose PostgreSQL")
def test_settings_use_wal_sqlite_without_a_database_url(settings):
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE" and "WAL" in options["init_command"]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="DATABASE_URL is not set: the settings chose SQLite")
def test_settings_use_postgresql_from_the_database_url(settings):
    database = settings.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["CONN_MAX_AGE"] == 60 and database["CONN_HEALTH_CHECKS"] is True


def test_settings_use_the_orm_broker(settings):
    assert settings.Q_CLUSTER["orm"] == "default"
    assert settings.Q_CLUSTER["retry"] > settings.Q_CLUSTER["timeout"]
