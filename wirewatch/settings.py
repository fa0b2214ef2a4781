"""The one settings object: read from `WIREWATCH_*` environment variables, validated at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wirewatch.errors import ConfigError

MiB = 1024 * 1024


class Settings(BaseSettings):
    """Every tunable of Wirewatch. The README's configuration table is generated from this class."""

    model_config = SettingsConfigDict(env_prefix="WIREWATCH_", extra="ignore", frozen=True)

    # Storage and broker
    database_url: str = Field(
        "sqlite:///wirewatch.db",
        description="SQLAlchemy URL of the database: a SQLite file (default) or postgresql://…",
    )
    broker_url: str | None = Field(
        None,
        description="Celery broker (redis://…). Unset: embedded mode, all work in one process.",
    )
    redis_visibility_timeout: int = Field(
        3600, ge=60, description="Seconds before Redis redelivers an unacknowledged task."
    )
    task_time_limit: int = Field(
        300,
        ge=10,
        description="Hard time limit of one task, seconds (below the visibility timeout).",
    )
    embedded_workers: int = Field(4, ge=1, le=64, description="Worker threads in embedded mode.")

    # Outbound HTTP (the one gate)
    allow_private_networks: bool = Field(
        False,
        description="Allow requests to loopback/private/link-local addresses. Off by default; "
        "switch on only for tests or a trusted intranet.",
    )
    user_agent: str = Field(
        "Wirewatch/0.1 (newsfeed monitor; +https://wirewatch.invalid/bot)",
        description="User-Agent sent with every request.",
    )
    connect_timeout: float = Field(10.0, gt=0, description="Connect timeout, seconds.")
    read_timeout: float = Field(20.0, gt=0, description="Read timeout between bytes, seconds.")
    total_timeout: float = Field(30.0, gt=0, description="Deadline for a whole request, seconds.")
    max_redirects: int = Field(5, ge=0, le=20, description="Redirects followed per request.")
    feed_max_bytes: int = Field(15 * MiB, ge=1024, description="Cap on a decompressed feed.")
    page_max_bytes: int = Field(5 * MiB, ge=1024, description="Cap on a decompressed page.")
    host_concurrency: int = Field(
        4, ge=1, le=64, description="Requests in flight per host, shared by all workers."
    )
    retry_after_cap: int = Field(
        6 * 3600, ge=60, description="Longest Retry-After/Crawl-delay honoured, seconds."
    )
    respect_robots: bool = Field(True, description="Honour robots.txt for article pages.")

    # Polling schedule
    poll_min_interval: int = Field(300, ge=1, description="Shortest polling interval, seconds.")
    poll_max_interval: int = Field(86400, ge=1, description="Longest polling interval, seconds.")
    poll_default_interval: int = Field(
        3600, ge=1, description="Interval for a feed whose publishing rate is not known yet."
    )
    poll_jitter: float = Field(
        0.1, ge=0, le=0.5, description="Random spread added to each interval (fraction)."
    )
    error_backoff_max: int = Field(
        86400, ge=60, description="Longest delay between retries of a failing feed, seconds."
    )
    disable_after_days: float = Field(
        30, gt=0, description="A feed failing this long without a success is disabled."
    )
    scheduler_tick: float = Field(2.0, gt=0, description="Seconds between scheduler passes.")
    poll_lease: int = Field(
        900, ge=10, description="Seconds a claimed feed stays claimed before it is due again."
    )
    sweep_interval: int = Field(60, ge=1, description="Seconds between sweeps for stuck work.")
    stuck_after: int = Field(
        600, ge=10, description="Work unchanged this long in a non-final state is re-enqueued."
    )
    max_attempts: int = Field(5, ge=1, description="Attempts before an article is failed.")

    # Stories
    dedup_window_days: float = Field(
        14, gt=0, description="Republished copies are looked for among articles of this many days."
    )

    # Alerts
    allow_insecure_webhooks: bool = Field(
        False, description="Allow http:// (TLS-less) webhook targets."
    )
    smtp_host: str = Field("localhost", description="SMTP server for email alerts.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port.")
    smtp_user: str | None = Field(None, description="SMTP login, if the server needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field(
        "Wirewatch <wirewatch@localhost>", description="From: address of email alerts."
    )
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_timeout: float = Field(30.0, gt=0, description="SMTP timeout per step, seconds.")

    # WebSub push
    public_url: str | None = Field(
        None,
        description="Base URL at which WebSub hubs reach this service's API (e.g. "
        "https://wirewatch.example.org). Unset: no push, polling only.",
    )
    websub_lease: int = Field(
        10 * 86400, ge=3600, description="Lease asked of WebSub hubs, seconds (renewed early)."
    )

    # API
    api_host: str = Field("127.0.0.1", description="Address the API and web UI listen on.")
    api_port: int = Field(8080, ge=0, le=65535, description="Port of the API and web UI.")

    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        if value.startswith("postgres:"):
            value = "postgresql:" + value[len("postgres:") :]
        if value.startswith("postgresql:"):
            value = "postgresql+psycopg:" + value[len("postgresql:") :]
        return value

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://")):
            raise ValueError("must be a redis:// URL (or unset for embedded mode)")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.poll_min_interval > self.poll_max_interval:
            raise ValueError("WIREWATCH_POLL_MIN_INTERVAL is above WIREWATCH_POLL_MAX_INTERVAL")
        if self.task_time_limit >= self.redis_visibility_timeout:
            raise ValueError(
                "WIREWATCH_TASK_TIME_LIMIT must be below WIREWATCH_REDIS_VISIBILITY_TIMEOUT, "
                "or Redis redelivers tasks that are still running"
            )
        return self

    @property
    def embedded(self) -> bool:
        return self.broker_url is None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        return Path(self.database_url.split(":///", 1)[1])


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, turning validation errors into one clear message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            name = f"WIREWATCH_{field.upper()}" if err["loc"] else "settings"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()
