"""The settings every service shares; each service subclasses with its own env prefix."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Callable, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sme_schemas.program import ProgramDefinition, load_programs

# The program definitions shipped with the repository (a container image copies them to the same place).
REPO_PROGRAMS = Path(__file__).resolve().parents[3] / "deploy" / "programs"
DEVELOPMENT_SECRET = "development-only-secret-change-me-0123456789"


class ServiceSettings(BaseSettings):
    """Read from `<SERVICE>_*` environment variables (see each service's config.py and docker-compose.yml)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    database_url: str = Field(description="postgresql+asyncpg://user:password@host:port/db")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    jwt_secret: str = DEVELOPMENT_SECRET
    jwks: str | None = Field(None, description="The signers' public keys (a JWKS file or an http(s) URL): set, "
                             "bearer tokens are verified with them (EdDSA) and the shared secret signs nothing")
    http_workers: int = Field(1, ge=1, le=32, description="HTTP worker processes (uvicorn workers); each runs the "
                              "service's consumers and a relay (one relay publishes at a time)")
    relay_batch_size: int = Field(500, ge=1, le=10_000)
    relay_idle_seconds: float = Field(0.05, gt=0)
    consumer_retry_max_seconds: float = Field(30.0, gt=0)
    consumer_batch_size: int = Field(200, ge=1, le=5_000, description="Events taken in one poll and applied in "
                                     "one transaction (1: one event per transaction)")
    consumer_batch_wait_ms: int = Field(100, ge=1, le=10_000, description="How long a poll waits for events")
    topic_partitions: int = Field(12, ge=1, le=1_000, description="Partitions of a topic this service creates: "
                                  "the most replicas of one consumer group that can share its load")
    topic_replication_factor: int = Field(1, ge=1, le=7, description="Replicas of each topic this service "
                                          "creates (3 on a production cluster, with min.insync.replicas=2)")
    run_relay: bool = Field(True, description="Run the outbox relay in the API process (false: run it alone)")
    # Colon-separated folders of program definition files (*.json); later folders override earlier ones.
    programs_path: str = str(REPO_PROGRAMS)

    @cached_property
    def programs(self) -> dict[str, ProgramDefinition]:
        return load_programs(self.programs_path)

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> "ServiceSettings":
        # A token signed with a published secret would let anyone act as an operator.
        if self.environment == "production" and not self.jwks and (self.jwt_secret == DEVELOPMENT_SECRET
                                                                   or len(self.jwt_secret) < 32):
            raise ValueError("jwt_secret: set a secret of at least 32 characters in production, or jwks (the "
                             "signers' public keys) instead")
        return self


class CalendarSettings(ServiceSettings):
    """For services whose rules run on the calendar (agreement terms, session dates, due dates)."""

    clock_offset_days: int = Field(0, ge=0, le=3650, description="Demonstrations only: run this service's calendar "
                                   "this many days ahead, so a demo can show a consulting period or a due date "
                                   "passing in minutes (the main job's fast-forward). Refused in production.")

    def clock(self) -> Callable[[], datetime]:
        offset = timedelta(days=self.clock_offset_days)
        return lambda: datetime.now(timezone.utc) + offset

    @model_validator(mode="after")
    def _real_calendar_in_production(self) -> "CalendarSettings":
        if self.environment == "production" and self.clock_offset_days:
            raise ValueError("clock_offset_days: production runs on the real calendar (0)")
        return self
