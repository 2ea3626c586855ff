"""Program files as a center keeps them: a refused file is named with its field; the demo calls of earlier runs
that this version refuses are moved aside, never silently loaded or lost."""
import json
from pathlib import Path

import pytest

from deploy.local.procs import retire_refused_demo_calls
from sme_programs import load_programs

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


# --- Every program value from the file, none from code (issue 29) --------------------------------------------------

PROGRAM_VALUES = ["eligibility", "payment_schedule", "follow_up", "evidence", "supplement_days", "payment_due_days",
                  "clawback_due_days", "pass_mark", "quantitative_weight_percent", "committee_min", "committee_max",
                  "evaluator_allowance_per_application", "evaluator_allowance_cap", "document_score",
                  "committee_score", "conflict_lookback_days", "give_up_restriction_days", "duplicate_threshold",
                  "borderline_threshold", "national_outlier_z", "national_semantic_threshold", "national_semantic_z"]
SECTION_VALUES = [("eligibility", "sme"), ("support", "vat_percent"), ("support", "expert_party"),
                  ("payment_schedule", "advance_percent"), ("follow_up", "survey_items"),
                  ("follow_up", "outcome_questions"), ("follow_up", "remind_days_before"),
                  ("document_score", "revenue_last_year"), ("document_score", "bonus_items"),
                  ("document_score", "bonus_cap"), ("document_score", "total_cap"), ("committee_score", "items"),
                  ("committee_score", "normalised_to")]


@pytest.mark.parametrize("field", PROGRAM_VALUES)
def test_a_file_that_leaves_out_a_programs_value_is_refused_naming_it(tmp_path, field):
    (tmp_path / "short.json").write_text(json.dumps({k: v for k, v in SOS.items() if k != field}), "utf-8")
    with pytest.raises(ValueError, match=rf"short\.json refused: .*\n{field}\n  Field required"):
        load_programs(str(tmp_path))


@pytest.mark.parametrize("section, field", SECTION_VALUES)
def test_a_section_that_leaves_out_a_programs_value_is_refused_naming_it(tmp_path, section, field):
    short = {**SOS, section: {k: v for k, v in SOS[section].items() if k != field}}
    (tmp_path / "short.json").write_text(json.dumps(short), "utf-8")
    with pytest.raises(ValueError, match=rf"short\.json refused: .*\n{section}\.{field}\n  Field required"):
        load_programs(str(tmp_path))


def test_a_bonus_item_without_its_points_is_refused_naming_it(tmp_path):
    items = [{k: v for k, v in SOS["document_score"]["bonus_items"][0].items() if k != "points"},
             *SOS["document_score"]["bonus_items"][1:]]
    short = {**SOS, "document_score": {**SOS["document_score"], "bonus_items": items}}
    (tmp_path / "short.json").write_text(json.dumps(short), "utf-8")
    with pytest.raises(ValueError, match=r"document_score\.bonus_items\.0\.points\n  Field required"):
        load_programs(str(tmp_path))


@pytest.mark.parametrize("age", [{}, {"evidence_max_age_months": 12, "evidence_max_age_days": 90}])
def test_e6_the_evidence_age_is_given_once_in_months_or_in_days(tmp_path, age):
    program = {k: v for k, v in SOS.items() if k not in ("evidence_max_age_months", "evidence_max_age_days")}
    (tmp_path / "age.json").write_text(json.dumps({**program, **age}), "utf-8")
    with pytest.raises(ValueError, match=r"evidence_max_age_months: give it, or evidence_max_age_days .*\(E6\)"):
        load_programs(str(tmp_path))
    (tmp_path / "age.json").write_text(json.dumps({**program, "evidence_max_age_days": 90}), "utf-8")
    assert load_programs(str(tmp_path))["gimpo-sos-2024"].evidence_max_age == "90일"


def test_the_deployed_files_state_what_the_code_used_to_default_to_sos_2024():
    """SOS 2024's terms moved from code into its file unchanged: 별표2's twelve items of 2 (at most 10), 별표3's nine
    items (105 raw, scaled to 100), E1–E5's fourteen lines, M1's survey 30 days after and reports at 6 and 12 months."""
    sos = load_programs(str(Path(__file__).resolve().parents[2] / "deploy/programs"))["gimpo-sos-2024"]
    assert [i.points for i in sos.document_score.bonus_items] == [2] * 12 and sos.document_score.bonus_cap == 10
    assert len(sos.committee_score.items) == 9 and sos.committee_score.raw_max == 105
    assert len(sos.evidence) == 14 and {line.rule for line in sos.evidence} == {"E1", "E2", "E3", "E4", "E5"}
    assert sos.follow_up.survey_within_days == 30 and sos.follow_up.outcome_reports_after_months == (6, 12)
    assert (sos.pass_mark, sos.quantitative_weight_percent, sos.supplement_days) == (50, 30, 7)
