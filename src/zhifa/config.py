"""Settings, read from the environment (prefix ``ZHIFA_``) and ``.env``.

Invariants: the secret key is never committed. When ``ZHIFA_SECRET_KEY`` is not set, a random key is
generated once into ``<data_dir>/secret_key`` (mode 0600) and reused afterwards.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHIFA_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./var/zhifa.db"
    data_dir: Path = Path("var")
    secret_key: SecretStr | None = None
    time_zone: str = "Asia/Shanghai"
    # Empty: the map draws on a plain background (isolated government networks have no tiles).
    map_tile_url: str = ""
    map_tile_attribution: str = ""
    default_locale: str = "zh_CN"
    # Secure cookies are sent by browsers over https and to localhost / 127.0.0.1.
    cookie_secure: bool = True
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    # Per client address: failed logins allowed inside the window before throttling.
    login_ip_max_failures: int = Field(default=20, ge=1)
    login_ip_window_minutes: int = Field(default=10, ge=1)
    password_min_length: int = Field(default=10, ge=8)
    api_token_days: int = Field(default=90, ge=1, le=3650)
    # The ledger's checkpoint signer (C2SP signed note, Ed25519); created by `zhifa ledger keygen`,
    # kept outside the database. Default: <data_dir>/ledger.key.
    ledger_key_file: Path | None = None
    # The checkpoint origin line: a name unique to this log, e.g. "zhifa.chongzhou.gov.cn/ledger".
    ledger_origin: str = "zhifa.local/ledger"
    # Witnesses whose cosignatures the log accepts: their verifier keys (C2SP note format).
    ledger_witnesses: list[str] = Field(default_factory=list)
    # The checkpoint scheduler signs at most once per ``ledger_checkpoint_seconds`` after appends,
    # and wakes at least every ``ledger_idle_seconds`` to sign appends made by other processes.
    ledger_checkpoint_seconds: float = Field(default=1.0, gt=0)
    ledger_idle_seconds: float = Field(default=600.0, gt=0)
    # Field check-in ([M]: local practice, not statute). A fix counts as on site when its distance
    # to the subject's fence is within its accuracy, up to ``checkin_tolerance_m``; a fix less
    # precise than ``checkin_max_accuracy_m`` is refused. The task window is widened by the grace.
    checkin_tolerance_m: float = Field(default=30.0, ge=0)
    checkin_max_accuracy_m: float = Field(default=100.0, gt=0)
    checkin_grace_minutes: int = Field(default=30, ge=0)
    # A device clock may run ahead of the server by this much before an offline fix is refused.
    checkin_clock_skew_seconds: int = Field(default=120, ge=0)
    # Evidence upload limits, by kind.
    evidence_max_photo_bytes: int = Field(default=20_000_000, gt=0)
    evidence_max_audio_bytes: int = Field(default=50_000_000, gt=0)
    evidence_max_video_bytes: int = Field(default=300_000_000, gt=0)
    # The public address printed in documents' QR codes (``{base}/verify/{id}``).
    public_base_url: str = "http://127.0.0.1:8000"
    # Complaints ([M]: local practice). A district's ComplaintSettings row overrides the first
    # three.
    # Possible duplicates: same category within this distance and time.
    complaint_duplicate_radius_m: float = Field(default=100.0, gt=0)
    complaint_duplicate_window_hours: int = Field(default=48, ge=1)
    # An officer's last fix older than this is stale: the recommender skips them.
    position_stale_seconds: int = Field(default=300, ge=10)
    # Arrival counts when the officer's fix is within this distance of the complaint's point.
    complaint_arrival_radius_m: float = Field(default=150.0, gt=0)
    # Fixes per POST /api/v1/positions.
    position_batch_max: int = Field(default=500, ge=1)
    # Photos on a complaint (citizen or officer).
    complaint_photo_max_bytes: int = Field(default=10_000_000, gt=0)
    complaint_photos_max: int = Field(default=9, ge=1)
    # The public page (citizens file and follow complaints) is on unless switched off.
    public_complaints_enabled: bool = True
    # Open311: the widest date range of GET requests and the most results (published in discovery).
    open311_max_days: int = Field(default=90, ge=1)
    open311_max_requests: int = Field(default=1000, ge=1)
    # The SLA sweep (warnings, overdue, escalation) and the outbox worker, seconds between runs.
    sla_sweep_seconds: float = Field(default=30.0, gt=0)
    outbox_poll_seconds: float = Field(default=2.0, gt=0)
    # Outbox retry back-off: base × 2^(attempts-1), at most the maximum; per-request timeout.
    outbox_backoff_base_seconds: float = Field(default=5.0, gt=0)
    outbox_backoff_max_seconds: float = Field(default=1800.0, gt=0)
    outbox_timeout_seconds: float = Field(default=10.0, gt=0)
    # Background workers (SLA sweep, outbox, upstream polling) run inside the app unless off
    # (tests drive them by hand).
    background_jobs: bool = True

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def ledger_key_path(self) -> Path:
        return self.ledger_key_file or self.data_dir / "ledger.key"

    def secret(self) -> str:
        """The application secret, generated on first use when not configured."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def prepare_data_dir(self) -> None:
        """Create ./var and the blob store; make sure the secret exists."""
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.secret()


@lru_cache
def get_settings() -> Settings:
    return Settings()
