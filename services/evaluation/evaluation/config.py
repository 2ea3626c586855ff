"""Evaluation's settings (EVALUATION_* environment variables)."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sme_runtime.settings import ServiceSettings


class EvaluationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EVALUATION_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://evaluation:evaluation@127.0.0.1:5432/evaluation"
    http_port: int = 8003
    gauge_seconds: float = Field(5.0, gt=0, description="How often the status, budget and re-check gauges refresh")
