"""Screening's settings (SCREENING_* environment variables): the service, its lookup workers and the registries."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from screening.lookup.messages import Registry
from sme_runtime.settings import CalendarSettings


class ScreeningSettings(CalendarSettings):
    model_config = SettingsConfigDict(env_prefix="SCREENING_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://screening:screening@127.0.0.1:5432/screening"
    http_port: int = 8002
    sweep_seconds: float = Field(5.0, gt=0, description="How often supplement deadlines and gauges are checked")
    supplement_grace_seconds: float = Field(600.0, ge=0, description="E6: a supplement filed just before the "
                                            "deadline may still be in flight on the bus; wait this long after it")

    # Lookup workers: one process per registry (python -m screening worker --registry NAME).
    worker_http_port: int = Field(8012, description="Health and metrics port of a lookup worker")
    worker_concurrency: int = Field(64, ge=1, le=1_000, description="Registry calls one worker replica keeps in "
                                    "flight at once (per registry: each worker serves one registry)")
    worker_hold_seconds: float = Field(30.0, gt=0, le=120, description="While its registry is away a worker holds "
                                       "a poll this long, then hands it back to the broker and polls again")
    worker_batch_size: int = Field(400, ge=1, le=5_000, description="Lookup requests a worker takes in one poll; "
                                   "their offsets are committed together once every answer is published")
    registry_business_status_url: str = "http://127.0.0.1:8101"
    registry_credit_url: str = "http://127.0.0.1:8102"
    registry_sanctions_url: str = "http://127.0.0.1:8103"
    registry_duplicate_projects_url: str = "http://127.0.0.1:8104"
    similarity_index: str | None = Field(None, description="Directory of the national prior-project index the "
                                         "duplicate-projects worker searches (python -m screening similarity index); "
                                         "unset: only the company's own ongoing projects are compared")
    registry_key: str = Field("", description="Service key sent to the registries (the NTS API's serviceKey)")
    registry_timeout_seconds: float = Field(3.0, gt=0, description="One registry call at most this long")
    registry_failure_threshold: int = Field(3, ge=1, description="Failures in a row that open the circuit")
    registry_reset_seconds: float = Field(15.0, gt=0, description="Open circuit: wait this long, then probe")
    registry_retry_backoff_seconds: float = Field(0.2, gt=0, description="First retry delay; doubles per retry")

    def registry_url(self, registry: Registry) -> str:
        return getattr(self, f"registry_{registry.value.replace('-', '_')}_url")
