"""Intake's settings (INTAKE_* environment variables); the program definitions come from the shared settings."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sme_runtime.bus_acl import OutsideSystem, load_outside_systems
from sme_runtime.settings import CalendarSettings

REPO_SYSTEMS = Path(__file__).resolve().parents[3] / "deploy" / "bus" / "systems.json"


class IntakeSettings(CalendarSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://intake:intake@127.0.0.1:5432/intake"
    http_port: int = 8001
    # The front door on a deadline day: a company told "busy, retry in 1 s" at once beats one kept waiting a minute
    max_in_flight: int = Field(12, ge=1, le=100_000, description="Submissions in progress at most (per worker); "
                               "more are refused busy with Retry-After")
    max_loop_lag_ms: float = Field(100, gt=0, description="Refuse busy while the event loop runs this late")
    outside_systems_path: str = Field(str(REPO_SYSTEMS), description="The outside systems registered on the bus "
                                      "(deploy/bus/systems.json): intake reads each filing system's own topic and "
                                      "answers it on its own answer topic")

    @cached_property
    def outside_systems(self) -> tuple[OutsideSystem, ...]:
        return load_outside_systems(Path(self.outside_systems_path))

    @cached_property
    def filing_systems(self) -> tuple[OutsideSystem, ...]:
        return tuple(s for s in self.outside_systems if s.files)
