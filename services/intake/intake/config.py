"""Intake's settings (INTAKE_* environment variables) and the program definitions it accepts applications for."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from sme_runtime.settings import ServiceSettings
from sme_schemas.program import ProgramDefinition

REPO_PROGRAMS = Path(__file__).resolve().parents[3] / "deploy" / "programs"


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


def load_programs(path_list: str) -> dict[str, ProgramDefinition]:
    programs: dict[str, ProgramDefinition] = {}
    for folder in filter(None, path_list.split(":")):
        for file in sorted(Path(folder).glob("*.json")):
            program = ProgramDefinition.load(file)
            programs[program.program_id] = program
    return programs
