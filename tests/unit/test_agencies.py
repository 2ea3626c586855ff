"""T1, agencies as tenants (issue 27): every program belongs to an agency, staff, evaluators and experts act for
the agencies their token names, and what they see is limited to those agencies' programs; a company keeps one
account across agencies. The route-by-route proof is tests/e2e/test_agency_walls.py."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import HTTPException
from hypothesis import given, strategies as st

from sme_runtime.auth import PLATFORM, Principal, Role, TokenVerifier, mint_token
from sme_runtime.consumer import program_named_by
from sme_runtime.settings import DEVELOPMENT_SECRET
from sme_programs import load_programs
from tests.fakes.unit import PROGRAMS

REPO_PROGRAMS = Path(__file__).resolve().parents[2] / "deploy" / "programs"
VERIFIER = TokenVerifier(DEVELOPMENT_SECRET)


def refusal(token: str) -> str:
    with pytest.raises(HTTPException) as refused:
        VERIFIER.principal(token)
    assert refused.value.status_code == 401
    return refused.value.detail


def test_every_deployed_program_names_its_agency():
    assert {p: program.agency for p, program in PROGRAMS.items()} == {
        "gimpo-sos-2024": "gimpo", "gimpo-smart-factory-2026": "gimpo", "seoul-sba-sandbox-pilot-2022": "seoul-sba"}
    assert PROGRAMS.of_agencies(["gimpo"]) == {"gimpo-sos-2024", "gimpo-smart-factory-2026"}
    assert PROGRAMS.agency_of("seoul-sba-sandbox-pilot-2022") == "seoul-sba" and PROGRAMS.agency_of("nope") is None


def test_a_program_file_without_an_agency_is_refused_naming_the_field(tmp_path):
    program = json.loads((REPO_PROGRAMS / "gimpo-sos-2024.json").read_text("utf-8"))
    del program["agency"]
    (tmp_path / "p.json").write_text(json.dumps(program, ensure_ascii=False), "utf-8")
    with pytest.raises(ValueError, match=r"(?s)p\.json refused.*\nagency\n  Field required"):
        load_programs(str(tmp_path))


def test_a_new_version_cannot_move_a_program_to_another_agency(tmp_path):
    program = json.loads((REPO_PROGRAMS / "gimpo-sos-2024.json").read_text("utf-8"))
    (tmp_path / "v1.json").write_text(json.dumps(program, ensure_ascii=False), "utf-8")
    (tmp_path / "v2.json").write_text(json.dumps({**program, "version": 2, "agency": "seoul-sba"},
                                                 ensure_ascii=False), "utf-8")
    with pytest.raises(ValueError, match=r"agency: gimpo-sos-2024 version 2 names 'seoul-sba'.*\(T1\)"):
        load_programs(str(tmp_path))
    (tmp_path / "v2.json").write_text(json.dumps({**program, "version": 2}, ensure_ascii=False), "utf-8")
    assert load_programs(str(tmp_path))["gimpo-sos-2024"].version == 2


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.EVALUATOR, Role.EXPERT])
def test_a_staff_evaluator_or_expert_token_must_name_its_agencies(role):
    assert "'agencies' claim" in refusal(mint_token(DEVELOPMENT_SECRET, subject="x", role=role, brn="1248100998"))
    principal = VERIFIER.principal(mint_token(DEVELOPMENT_SECRET, subject="x", role=role, brn="1248100998",
                                              agencies=["seoul-sba", "gimpo"]))
    assert principal.agencies == {"gimpo", "seoul-sba"}


def test_a_company_token_needs_no_agency_and_one_account_sees_every_agency_s_programs_by_its_number():
    company = VERIFIER.principal(mint_token(DEVELOPMENT_SECRET, subject="company:1248100998", role=Role.COMPANY,
                                            brn="1248100998")).within(PROGRAMS)
    assert company.visible_programs() is None  # its number limits it (C9), not an agency
    assert all(company.sees(p) for p in PROGRAMS)


@pytest.mark.parametrize("agencies, seen", [
    ({"gimpo"}, {"gimpo-sos-2024", "gimpo-smart-factory-2026"}),
    ({"seoul-sba"}, {"seoul-sba-sandbox-pilot-2022"}),
    ({"gimpo", "seoul-sba"}, set(PROGRAMS)),
    ({PLATFORM}, set()),  # the operations team is no agency's staff
    ({"busan"}, set()),   # an agency with no program deployed here sees nothing
])
def test_staff_see_exactly_their_agencies_programs(agencies, seen):
    staff = Principal("op", Role.OPERATOR, agencies=frozenset(agencies)).within(PROGRAMS)
    assert {p for p in PROGRAMS if staff.sees(p)} == seen
    assert staff.visible_programs() == sorted(seen)
    assert not staff.sees(None) and not staff.sees("a-program-not-deployed")


@pytest.mark.parametrize("body, program", [
    (b'{"program_id": "gimpo-sos-2024", "x": 1}', "gimpo-sos-2024"),
    (b'{"program_id": 7}', None), (b'[1, 2]', None), (b'not json', None), (b'\xff\xfe', None), (b'', None),
    (None, None), (b'{"program_id": "a\\u0000b"}', "a\\x00b"), (b"[" * 100_000, None),
])
def test_a_dead_letter_is_attributed_to_the_program_its_body_names(body, program):
    assert program_named_by(body) == program


@given(st.binary(max_size=300))
def test_attributing_a_dead_letter_never_fails_whatever_the_bytes(body):
    found = program_named_by(body)
    assert found is None or (isinstance(found, str) and "\x00" not in found and len(found) <= 100)
