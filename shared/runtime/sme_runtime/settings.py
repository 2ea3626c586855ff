"""The settings every service shares; each service subclasses with its own env prefix."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Callable, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sme_runtime.kafka_access import KafkaAccess, KafkaAccessError
from sme_programs import Programs, load_programs

# The program definitions shipped with the repository (a container image copies them to the same place).
REPO_PROGRAMS = Path(__file__).resolve().parents[3] / "deploy" / "programs"
DEVELOPMENT_SECRET = "development-only-secret-change-me-0123456789"


class ServiceSettings(BaseSettings):
    """Read from `<SERVICE>_*` environment variables (see each service's config.py and docker-compose.yml)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # The bus as this service's own principal (issue 27): SASL_SSL with SCRAM on a shared bus, where ACLs let it
    # write and read exactly its catalog (sme_runtime.bus_acl); PLAINTEXT on a developer's broker.
    kafka_security_protocol: str = Field("PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
    kafka_sasl_mechanism: str = Field("SCRAM-SHA-512", description="SCRAM-SHA-512 or SCRAM-SHA-256")
    kafka_username: str | None = Field(None, description="The service's principal on the bus (SASL)")
    kafka_password: SecretStr | None = Field(None, description="Its SCRAM password")
    kafka_password_file: str | None = Field(None, description="Or a file holding it (a Docker or Kubernetes "
                                            "secret), read at start")
    kafka_ssl_cafile: str | None = Field(None, description="PEM file of the CA that signed the brokers' "
                                         "certificates (unset: the system's trust store)")
    database_url: str = Field(description="postgresql+asyncpg://user:password@host:port/db")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    jwt_secret: str = DEVELOPMENT_SECRET
    jwks: str | None = Field(None, description="The signers' public keys (a JWKS file or an http(s) URL): set, "
                             "bearer tokens are verified with them (EdDSA) and the shared secret signs nothing")
    http_workers: int = Field(1, ge=1, le=32, description="HTTP worker processes (uvicorn workers); each runs the "
                              "service's consumers and a relay (one relay publishes at a time)")
    # Admission control (sme_runtime.admission, issue 28): beyond these a request gets 503 busy + Retry-After at once
    max_in_flight: int = Field(256, ge=1, le=100_000, description="HTTP requests in progress at most (per worker "
                               "process); more are refused busy")
    max_loop_lag_ms: float = Field(1000, gt=0, description="Requests are refused busy while the event loop runs "
                                   "this late (a saturated CPU) with an eighth of max_in_flight in progress")
    relay_batch_size: int = Field(500, ge=1, le=10_000)
    relay_idle_seconds: float = Field(1.0, gt=0, description="The longest an idle relay waits before looking at "
                                      "the outbox again; a commit that writes to it wakes the relay at once "
                                      "(LISTEN/NOTIFY)")
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
    def programs(self) -> Programs:
        return load_programs(self.programs_path)

    @cached_property
    def kafka(self) -> KafkaAccess:
        return KafkaAccess(self.kafka_bootstrap_servers, security_protocol=self.kafka_security_protocol.upper(),  # type: ignore[arg-type]
                           sasl_mechanism=self.kafka_sasl_mechanism.upper(),  # type: ignore[arg-type]
                           username=self.kafka_username, password=self._kafka_password(),
                           ssl_cafile=self.kafka_ssl_cafile)

    def _kafka_password(self) -> str | None:
        if self.kafka_password is not None:
            return self.kafka_password.get_secret_value()
        if self.kafka_password_file:
            try:
                return Path(self.kafka_password_file).read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                raise KafkaAccessError("kafka_password_file", f"{self.kafka_password_file} cannot be read: "
                                       f"{exc.strerror}") from None
        return None

    @model_validator(mode="after")
    def _reaches_the_bus(self) -> "ServiceSettings":
        self.kafka  # a protocol without its credentials is refused at start, naming the setting  # noqa: B018
        return self

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
