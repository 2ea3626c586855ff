"""Program files as a center keeps them: a refused file is named with its field; the demo calls of earlier runs
that this version refuses are moved aside, never silently loaded or lost."""
import json
from pathlib import Path

import pytest

from deploy.local.procs import retire_refused_demo_calls
from sme_schemas.program import load_programs

SOS = json.loads((Path(__file__).resolve().parents[2] / "deploy/programs/gimpo-sos-2024.json").read_text("utf-8"))


def _old_style(program_id: str) -> dict:
    sheet = {k: v for k, v in SOS["document_score"].items() if k != "bonus_items"}
    return {**SOS, "program_id": program_id, "document_score": {**sheet, "bonus_per_certification": 2}}


def test_a_refused_program_file_is_named_with_its_field(tmp_path):
    (tmp_path / "good.json").write_text(json.dumps(SOS, ensure_ascii=False), "utf-8")
    (tmp_path / "old.json").write_text(json.dumps(_old_style("gimpo-sos-old"), ensure_ascii=False), "utf-8")
    with pytest.raises(ValueError, match=r"(?s)old\.json refused: .*document_score.*bonus_per_certification"):
        load_programs(str(tmp_path))


def test_refused_demo_calls_are_retired_with_their_reason_and_the_rest_load(tmp_path, capsys):
    (tmp_path / "good.json").write_text(json.dumps(SOS, ensure_ascii=False), "utf-8")
    (tmp_path / "gimpo-sos-demo-1.json").write_text(json.dumps(_old_style("gimpo-sos-demo-1")), "utf-8")
    retire_refused_demo_calls(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["good.json"]
    assert (tmp_path / "retired" / "gimpo-sos-demo-1.json").exists()
    assert "gimpo-sos-demo-1.json: document_score" in capsys.readouterr().out
    assert list(load_programs(str(tmp_path))) == ["gimpo-sos-2024"]


# --- V1: versions -------------------------------------------------------------------------------------------------

def _versions(tmp_path: Path, *numbers: int, folder: str = ".") -> None:
    (tmp_path / folder).mkdir(exist_ok=True)
    for n in numbers:
        body = {**SOS, "version": n, "support": {**SOS["support"], "cap": 1_000_000 * n}}
        (tmp_path / folder / f"sos-v{n}.json").write_text(json.dumps(body, ensure_ascii=False), "utf-8")


def test_v1_the_newest_version_is_the_programs_and_every_loaded_version_stays_reachable(tmp_path):
    _versions(tmp_path, 2, 1, 3)
    programs = load_programs(str(tmp_path))
    assert programs["gimpo-sos-2024"].version == 3 and list(programs) == ["gimpo-sos-2024"]
    assert [programs.at("gimpo-sos-2024", n).support.cap for n in (1, 2, 3)] == [1_000_000, 2_000_000, 3_000_000]
    assert programs.at("gimpo-sos-2024", None).version == 3
    assert programs.at("gimpo-sos-2024", 4) is None and programs.at("other", 1) is None


def test_v1_one_version_defined_twice_in_a_folder_is_refused_but_a_later_folder_overrides(tmp_path):
    _versions(tmp_path, 1, folder="a")
    (tmp_path / "a" / "copy.json").write_text((tmp_path / "a" / "sos-v1.json").read_text("utf-8"), "utf-8")
    with pytest.raises(ValueError, match=r"sos-v1\.json refused: version: gimpo-sos-2024 version 1 is also defined "
                                         r"by copy\.json \(V1\)"):
        load_programs(str(tmp_path / "a"))
    (tmp_path / "a" / "copy.json").unlink()
    _versions(tmp_path, 1, folder="b")
    body = json.loads((tmp_path / "b" / "sos-v1.json").read_text("utf-8"))
    (tmp_path / "b" / "sos-v1.json").write_text(json.dumps({**body, "name": "고친 이름"}, ensure_ascii=False), "utf-8")
    assert load_programs(f"{tmp_path / 'a'}:{tmp_path / 'b'}")["gimpo-sos-2024"].name == "고친 이름"


def test_v1_an_event_naming_a_version_not_deployed_is_refused_naming_the_field(tmp_path):
    from sme_runtime.consumer import EventRefused, program_of_event

    _versions(tmp_path, 1, 2)
    programs = load_programs(str(tmp_path))
    assert program_of_event(programs, "gimpo-sos-2024", 1).support.cap == 1_000_000
    assert program_of_event(programs, "gimpo-sos-2024", None).version == 2
    with pytest.raises(EventRefused) as refused:
        program_of_event(programs, "gimpo-sos-2024", 5)
    assert (refused.value.field, refused.value.rule) == ("program_version", "V1")


def test_v1_intake_files_under_the_newest_and_amends_under_the_version_applied_under(tmp_path):
    from intake.handlers import Intake
    from sme_runtime.problems import RuleViolation

    _versions(tmp_path, 1, 2)
    intake = Intake(programs=load_programs(str(tmp_path)))
    assert intake.program("gimpo-sos-2024").version == 2
    assert intake.program("gimpo-sos-2024", 1).support.cap == 1_000_000
    with pytest.raises(RuleViolation) as gone:
        intake.program("gimpo-sos-2024", 9)
    assert [(p.field, p.rule) for p in gone.value.problems] == [("program_version", "V1")]
