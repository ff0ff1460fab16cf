"""Settings from the environment (PARVIS_*): one DATABASE_URL (+ REDIS_URL) picks the backends."""

from __future__ import annotations

import secrets
from datetime import date
from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RegistrationMode(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"
    CLOSED = "closed"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARVIS_", env_file=".env", extra="ignore")

    domain: str = Field("localhost:8000", description="Public host name (and port) of this server.")
    scheme: str = Field("http", description="http or https: how the public reaches this server.")
    title: str = "Parvis"
    description: str = "A public square: an open social network server."
    contact_email: str = ""
    data_dir: Path = Field(Path("data"), description="Where the SQLite file, media and queue live.")
    database_url: str = Field("", validation_alias="DATABASE_URL")
    redis_url: str = Field("", validation_alias="REDIS_URL")
    registrations: RegistrationMode = RegistrationMode.OPEN
    require_email_confirmation: bool = False
    max_status_chars: int = 500
    max_media_attachments: int = 4
    max_upload_bytes: int = 16 * 1024 * 1024
    home_feed_cap: int = 800
    # Polls and scheduled posts (Mastodon's defaults).
    poll_max_options: int = 4
    poll_max_option_chars: int = 50
    poll_min_expiration: int = 300  # seconds
    poll_max_expiration: int = 2_629_746  # one month, in seconds
    scheduled_min_lead: int = 300  # a post is scheduled at least this many seconds ahead
    # Run background jobs inline (tests, scripts); otherwise a worker (thread or process) runs them.
    jobs_immediate: bool = False
    # Start a worker thread inside `parvis serve` (the one-machine setup).
    embedded_worker: bool = True
    # Compress answers (gzip) in Parvis itself; turn off when the reverse proxy compresses.
    compress_responses: bool = True
    # Rate limits (Mastodon's defaults), fixed windows; counters in Redis when REDIS_URL is set.
    rate_limits_enabled: bool = True
    rate_limit_per_token: int = 300  # API requests per 5 minutes per access token
    rate_limit_anonymous: int = 300  # API requests per 5 minutes per address, without a token
    rate_limit_per_ip: int = 7500  # all requests per 5 minutes per address
    rate_limit_sign_up: int = 5  # sign-ups per 30 minutes per address
    rate_limit_sign_in: int = 25  # token grants and sign-ins per 5 minutes per address
    rate_limit_media: int = 30  # media uploads per 30 minutes per access token
    rules: list[str] = Field(
        default_factory=lambda: [
            "Respect the law: illegal content is removed after notice.",
            "No harassment, threats or incitement to violence.",
            "Label automated accounts as bots.",
        ]
    )
    # The about page, privacy policy and terms of service (/api/v1/instance/...): plain text,
    # blank lines between paragraphs. Empty: the description, Parvis's own summary of what it
    # keeps, and the rules above. Set `policies_updated` to the day you change any of them.
    extended_description: str = ""
    privacy_policy: str = ""
    terms_of_service: str = ""
    policies_updated: date = date(2026, 11, 23)

    secret_key: str = Field(
        "", description="Signs short-lived tickets; generated into the data dir when empty."
    )

    def signing_key(self) -> bytes:
        """The server's secret, from PARVIS_SECRET_KEY or a file created once in the data dir."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    def effective_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgres://")
            elif url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'parvis.sqlite3').resolve()}"
