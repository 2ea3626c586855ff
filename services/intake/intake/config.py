"""Intake's settings (INTAKE_* environment variables) and the program definitions it accepts applications for."""
from __future__ import annotations

from functools import cached_property

from pydantic_settings import SettingsConfigDict

from sme_runtime.settings import REPO_PROGRAMS, ServiceSettings
from sme_schemas.program import ProgramDefinition, load_programs


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://intake:intake@127.0.0.1:5432/intake"
    http_port: int = 8001
    # Colon-separated folders of program definition files (*.json); later folders override earlier ones.
    programs_path: str = str(REPO_PROGRAMS)
    run_relay: bool = True

    @cached_property
    def programs(self) -> dict[str, ProgramDefinition]:
        return load_programs(self.programs_path)

