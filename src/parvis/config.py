"""Settings from the environment (PARVIS_*): one DATABASE_URL (+ REDIS_URL) picks the backends."""

from __future__ import annotations

import base64
import binascii
import os
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
    # Ranked feeds: days a served ranking is kept with its inputs (for `parvis feeds replay`);
    # 0: none is kept but the latest of each user and feed (paging continues through it).
    feed_log_days: int = Field(30, ge=0, le=3660)
    # Community notes: who may write and rate. An account must be this many days old, and no
    # moderation decision restricting it or its posts may be in force or younger than
    # `notes_standing_days`. Daily caps per account against floods.
    notes_min_account_days: int = Field(14, ge=0, le=3650)
    notes_standing_days: int = Field(90, ge=0, le=3650)
    notes_per_day: int = Field(10, ge=1, le=1000)
    note_ratings_per_day: int = Field(200, ge=1, le=100_000)
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
            "No coordinated inauthentic behaviour: do not run several accounts, or act with "
            "others, to post the same messages in step while appearing independent.",
        ]
    )
    # Labels (issue 8): the detection job reads the public and unlisted posts of this many
    # past hours (local and remote), at most `label_max_posts` of them (the newest), every hour.
    label_window_hours: int = Field(168, ge=1, le=24 * 60)
    label_max_posts: int = Field(50_000, ge=100, le=2_000_000)
    # Moderation (DSA): the target time to decide a notice (a threat to life or safety gets at
    # most one hour), and the certified out-of-court dispute settlement bodies (DSA art. 21)
    # named in every decision, as "name — URL".
    moderation_target_hours: int = Field(24, ge=1, le=24 * 14)
    dispute_bodies: list[str] = Field(
        default_factory=lambda: [
            "Certified out-of-court dispute settlement bodies (European Commission list) — "
            "https://digital-strategy.ec.europa.eu/en/policies/dsa-out-of-court-dispute-settlement"
        ]
    )
    # Trusted flaggers (DSA art. 22(6)): a flagger is marked for a report to its coordinator
    # once at least this many of its decided notices, and this share of them, were rejected
    # (over the misuse window below).
    flagger_review_min_rejected: int = Field(10, ge=1)
    flagger_review_ratio: float = Field(0.5, gt=0, le=1)
    # Misuse (DSA art. 23), over a rolling window: an account is warned, then (only after a
    # warning) suspended, once it reaches BOTH the number and the share. Content: manifestly
    # illegal items among its posts; notices: manifestly unfounded ones among those it sent.
    misuse_window_days: int = Field(180, ge=1, le=3660)
    misuse_content_items: int = Field(3, ge=1)
    misuse_content_ratio: float = Field(0.1, gt=0, le=1)
    misuse_notices: int = Field(5, ge=1)
    misuse_notices_ratio: float = Field(0.5, gt=0, le=1)
    misuse_suspension_days: int = Field(30, ge=1, le=3660)
    misuse_notices_suspension_days: int = Field(90, ge=1, le=3660)
    # How many days the access logs of the web server or proxy in front of Parvis are kept (0:
    # none kept). Stated in the authority register as what cannot be handed over.
    access_log_retention_days: int = Field(0, ge=0, le=3660)
    # Network addresses: how many days the sign-up and sign-in address of each account is kept,
    # for the moderators' fight against abuse (0: none is ever stored). Rate limits keep theirs
    # in memory or Redis for at most 30 minutes whatever this says.
    ip_retention_days: int = Field(7, ge=0, le=365)
    # Account deletion: how many days a user has to change their mind. The account is closed at
    # once (nothing new can be posted, the profile is hidden) and erased when the grace ends.
    account_deletion_grace_days: int = Field(30, ge=0, le=365)
    # The about page, privacy policy and terms of service (/api/v1/instance/...): plain text,
    # blank lines between paragraphs. Empty: the description, Parvis's own summary of what it
    # keeps, and the rules above. Set `policies_updated` to the day you change any of them.
    extended_description: str = ""
    privacy_policy: str = ""
    terms_of_service: str = ""
    policies_updated: date = date(2026, 11, 23)
    # The DSA Transparency Database (Art. 24(5)): statements of reasons are sent to this API
    # base URL (the sandbox first, then https://transparency.dsa.ec.europa.eu) with the
    # platform's API token, every 10 minutes and by `parvis transparency submit`. Empty: off.
    tdb_endpoint: str = ""
    tdb_token: str = ""
    # E-mail to notifiers (receipt and decision, DSA art. 16(4)-(5)): smtp://user:pass@host:587
    # (STARTTLS), smtps://user:pass@host:465 (implicit TLS) or smtp://localhost:25 (plain, on
    # this machine only). Empty: no mail; the receipt page alone acknowledges. The sender is
    # "Name <address>" or an address; empty: "<title> <noreply@domain>".
    smtp_url: str = ""
    mail_from: str = ""

    # Federation (ActivityPub). Outbound requests never reach loopback, private or link-local
    # addresses unless `federation_allow_private` is set (tests, a private network of servers);
    # `federation_resolve` maps host names to "address:port" like curl's --resolve (tests run
    # several servers on loopback under distinct names). `authorized_fetch`: every ActivityPub
    # GET must be signed by a server that is not blocked (Mastodon's secure mode).
    federation_enabled: bool = True
    federation_allow_private: bool = False
    federation_resolve: dict[str, str] = Field(default_factory=dict)
    federation_timeout: float = Field(10.0, gt=0, le=120)  # seconds, per outbound request
    federation_max_body: int = Field(1_048_576, ge=1024)  # bytes: inbox bodies, fetched JSON
    federation_max_media: int = Field(16 * 1024 * 1024, ge=1024)  # bytes, a remote file cached
    authorized_fetch: bool = False
    # Delivery: retries with exponential backoff (base 30 s, doubling) for about this many
    # days, then given up; a host failing this many times in a row is skipped for an hour
    # (the circuit opens), and one failing for `federation_dead_days` is marked dead.
    delivery_max_days: float = Field(7.0, gt=0, le=60)
    circuit_failures: int = Field(5, ge=1)
    federation_dead_days: float = Field(7.0, gt=0, le=365)

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

    log_signing_key: str = Field(
        "",
        description="The Ed25519 private key (32 bytes, base64) signing the public moderation "
        "log's checkpoints; generated into the data dir (log_signing_key) when empty. Back it "
        "up with the database: a new key breaks every verifier's trust in the log.",
    )

    def log_key_seed(self) -> bytes:
        """The moderation log's Ed25519 private key (its 32-byte seed), from
        PARVIS_LOG_SIGNING_KEY or a file created once (0600) in the data dir."""
        text = self.log_signing_key
        if not text:
            path = self.data_dir / "log_signing_key"
            if not path.exists():
                self.data_dir.mkdir(parents=True, exist_ok=True)
                # Written whole with mode 0600 under a temporary name, then linked into place:
                # never readable by others, never seen half-written, and if another process
                # got there first, its key is the one kept.
                fresh = base64.b64encode(secrets.token_bytes(32)).decode() + "\n"
                temp = path.with_name(f".log_signing_key.{secrets.token_hex(8)}")
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(fresh)
                try:
                    os.link(temp, path)
                except FileExistsError:
                    pass
                finally:
                    temp.unlink()
            text = path.read_text()
        try:
            seed = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            seed = b""
        if len(seed) != 32:
            raise ValueError(
                "PARVIS_LOG_SIGNING_KEY (or log_signing_key in the data dir) must be an "
                "Ed25519 private key: 32 bytes in base64"
            )
        return seed

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
