"""Configuration: one settings object from WIREWATCH_* variables; bad values fail clearly."""

import pytest

from wirewatch.errors import ConfigError
from wirewatch.settings import load_settings


def test_defaults_are_embedded_sqlite_with_the_guard_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "WIREWATCH_DATABASE_URL",
        "WIREWATCH_BROKER_URL",
        "WIREWATCH_ALLOW_PRIVATE_NETWORKS",
    ):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert s.embedded and s.is_sqlite
    assert s.allow_private_networks is False
    assert "Wirewatch" in s.user_agent


def test_environment_is_read_and_postgres_urls_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIREWATCH_DATABASE_URL", "postgres://u@db/ww")
    monkeypatch.setenv("WIREWATCH_BROKER_URL", "redis://127.0.0.1:6379/0")
    s = load_settings()
    assert s.database_url == "postgresql+psycopg://u@db/ww"
    assert not s.embedded


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WIREWATCH_DATABASE_URL", "mysql://x", "WIREWATCH_DATABASE_URL"),
        ("WIREWATCH_BROKER_URL", "amqp://x", "WIREWATCH_BROKER_URL"),
        ("WIREWATCH_HOST_CONCURRENCY", "0", "WIREWATCH_HOST_CONCURRENCY"),
        ("WIREWATCH_ALLOW_PRIVATE_NETWORKS", "perhaps", "WIREWATCH_ALLOW_PRIVATE_NETWORKS"),
        ("WIREWATCH_TASK_TIME_LIMIT", "7200", "VISIBILITY_TIMEOUT"),
        ("WIREWATCH_LOG_LEVEL", "LOUD", "WIREWATCH_LOG_LEVEL"),
    ],
)
def test_invalid_values_fail_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert message in str(info.value)
