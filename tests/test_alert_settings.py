"""The SMTP settings the email channel reads from the one Settings object."""

from __future__ import annotations

from wirewatch.settings import Settings
from worker.alerts import EmailSettings


def test_defaults() -> None:
    config = EmailSettings.from_settings(Settings(smtp_timeout=12))
    assert config == EmailSettings(timeout=12.0)


def test_fields_are_read_and_the_password_unwrapped() -> None:
    settings = Settings(smtp_host="mail.example.org", smtp_port=587, smtp_user="alerts",
                        smtp_password="s3cret", smtp_from="News <news@example.org>",
                        smtp_starttls=True, smtp_timeout=7)
    assert EmailSettings.from_settings(settings) == EmailSettings(
        smtp_host="mail.example.org", smtp_port=587, smtp_user="alerts", smtp_password="s3cret",
        smtp_from="News <news@example.org>", smtp_starttls=True, timeout=7.0,
    )
