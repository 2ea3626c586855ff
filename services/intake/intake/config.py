"""Intake's settings (INTAKE_* environment variables); the program definitions come from the shared settings."""
from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from sme_runtime.settings import CalendarSettings


class IntakeSettings(CalendarSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://intake:intake@127.0.0.1:5432/intake"
    http_port: int = 8001
