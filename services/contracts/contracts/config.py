"""Contracts' settings (CONTRACTS_* environment variables)."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sme_runtime.settings import CalendarSettings


class ContractsSettings(CalendarSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRACTS_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://contracts:contracts@127.0.0.1:5432/contracts"
    http_port: int = 8004
    signature_days: int = Field(14, ge=1, description="Days from the draft by which all three parties sign; "
                                "later, the agreement is flagged to operators (C1)")
    gauge_seconds: float = Field(5.0, gt=0, description="How often the status and unsigned gauges refresh")
