"""The sample call's evaluation: an evaluator pool with conflicts planted from the applications themselves, the
committee, deterministic score sheets per evaluator and application, and an operator's/evaluators' desk that
does it all over evaluation's HTTP API. Used by the main job and the tests."""
from __future__ import annotations

import random
import zlib
from datetime import date, datetime, timedelta
from typing import Any, Callable

from deploy.local.show import pad
from deploy.sample.desk import Desk
from deploy.sample.program_call import brn
from sme_schemas.examples import EXAMPLES
from sme_schemas.screening import ScreeningPassed, VerifiedFacts

from sme_runtime.auth import Role

EXTERNALS = [  # (id, name, affiliation, fields)
    ("EV-01", "최평가", "김포대학교 산업경영학과", ["경영전략", "재무회계"]),
    ("EV-02", "한심사", "경기경영연구원", ["마케팅", "유통"]),
    ("EV-03", "오위원", "한국품질재단", ["품질관리", "공정개선"]),
    ("EV-04", "서교수", "인하대학교 기계공학과", ["기술개발", "공정개선"]),
    ("EV-05", "문위원", "한국생산성컨설팅", ["인사노무", "교육"]),
    ("EV-06", "장위원", "중소기업진흥공단", ["금융", "재무회계"]),
]
SECRETARY: tuple[str, str, str, list[str]] = ("ST-01", "김간사", "김포산업진흥원", [])


def evaluator_pool(passed: list[dict[str, Any]], today: date) -> dict[str, dict[str, Any]]:
    """The pool, with three conflicts planted on the first three passed applications (each a `facts` dict):
    EV-03 left the first applicant 200 days ago (former employer, detected); EV-05 is the second applicant's own
    expert (detected); EV-04 will declare a family relation with the third (declared)."""
    pool: dict[str, dict[str, Any]] = {
        i: {"name": n, "affiliation": a, "kind": "external", "fields": f, "employers": []} for i, n, a, f in EXTERNALS}
    pool[SECRETARY[0]] = {"name": SECRETARY[1], "affiliation": SECRETARY[2], "kind": "center-staff", "fields": [],
                          "employers": []}
    if passed:
        first = passed[0]
        pool["EV-03"]["employers"] = [{"brn": first["business_registration_number"], "name": first["company_name"],
                                       "since": (today - timedelta(days=2000)).isoformat(),
                                       "until": (today - timedelta(days=200)).isoformat()}]
    experts = [f for f in passed[1:] if f.get("expert_name")]
    if experts:
        pool["EV-05"].update(name=experts[0]["expert_name"], affiliation=experts[0]["expert_affiliation"])
    return pool


def screening_passed(program_id: str, n: int, rng: random.Random, cost: int, now: datetime) -> ScreeningPassed:
    """A ScreeningPassed as screening publishes it, for the n-th company of a generated call."""
    base = EXAMPLES["ScreeningPassed"]["facts"]
    facts = VerifiedFacts.model_validate({
        **base, "company_name": f"(주)평가{n:02d}", "business_registration_number": brn(rng), "ceo_name": f"대표{n}",
        "expert_name": f"전문가{n}", "expert_affiliation": "한국생산성컨설팅", "revenue_last_year": rng.choice(
            [300_000_000, 800_000_000, 1_500_000_000, 2_500_000_000, 3_500_000_000]),
        "regular_employees": rng.choice([2, 4, 8, 12, 20]), "consulting_cost_excluding_vat": cost,
        "submitted_at": (now - timedelta(days=3, minutes=n)).isoformat()})
    return ScreeningPassed(
        program_id=program_id,
        application_id=f"APP-EVAL0{now:%y%m%d%H%M%S%f}{n:03d}",
        occurred_at=now,
        passed_at=now,
        revision=1,
        expert_grade="2",
        facts=facts,
        checks=(),
    )


COMMITTEE = [("EV-01", "chair"), ("EV-02", "member"), ("EV-03", "member"), ("EV-04", "member"), ("EV-05", "member"),
             ("ST-01", "secretary")]


def declared_conflict(passed: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(evaluator, application id) of the planted declaration."""
    return ("EV-04", passed[2]["application_id"]) if len(passed) > 2 else None


def committee_qualities(application_ids: list[str], key: Callable[[str], Any] | None = None) -> dict[str, int]:
    """How good the committee finds each application of a call (0–3): a fixed mix over the call in `key` order
    (default the ids), three in four at 2 or better, so a call of the sample's size has a waitlist behind the
    budget (F5) and some below the pass mark (F2) in every run."""
    mix = (3, 2, 1, 2, 3, 2, 0, 2)
    return {a: mix[i % len(mix)] for i, a in enumerate(sorted(application_ids, key=key))}


def score_sheet(application_id: str, evaluator_id: str, items: list[dict[str, Any]],
                qualities: dict[str, int] | None = None, *, stable_id: str | None = None) -> dict[str, int]:
    """A plausible sheet: each application has a quality (`qualities`, or stable per id); each evaluator varies it
    a little, by `stable_id` (the company's number: the same for a --seed, where application ids are new)."""
    quality = (qualities or {}).get(application_id, zlib.crc32(application_id.encode()) % 4)
    sheet = {}
    for item in items:
        noise = zlib.crc32(f"{stable_id or application_id}/{evaluator_id}/{item['code']}".encode()) % 3 - 1
        sheet[item["code"]] = item["levels"][min(len(item["levels"]) - 1, max(0, quality + noise))]
    return sheet


class EvaluationDesk(Desk):
    """Operators and evaluators at work, over HTTP."""

    def evaluator(self, evaluator_id: str) -> dict[str, str]:
        return self._as(Role.EVALUATOR, evaluator_id)

    def wait_for_candidates(self, program_id: str, count: int, timeout: float = 60) -> list[dict]:
        return self.poll(lambda: self.call("GET", f"/applications?program_id={program_id}", headers=self.operator()),
                         lambda rows: len(rows) >= count, timeout)

    def register_pool(self, pool: dict[str, dict], *, agency: str) -> None:
        """Into `agency`'s pool (T1: the pool of the agency whose program the committee scores)."""
        for evaluator_id, record in pool.items():
            self.call("PUT", f"/evaluators/{evaluator_id}", headers=self.operator(), json={**record, "agency": agency})

    def open_round(self, program_id: str, call_id: str | None = None) -> dict:
        return self.call("POST", "/rounds", headers=self.operator(),
                         json={"program_id": program_id, **({"call_id": call_id} if call_id else {})})

    def seat(self, round_id: str, committee: list[tuple[str, str]]) -> dict:
        return self.call("PUT", f"/rounds/{round_id}/committee", headers=self.operator(),
                         json={"members": [{"evaluator_id": e, "role": r} for e, r in committee]})

    def score_all(self, round_id: str, committee: list[tuple[str, str]],
                  declared: tuple[str, str] | None = None, sheet_of=None) -> int:
        """Each scoring member declares on and scores every application they are shown; returns sheets given.
        `sheet_of(application id, evaluator id, items)` chooses the levels (default: score_sheet)."""
        sheet_of = sheet_of or score_sheet
        given = 0
        for evaluator_id, role in committee:
            if role == "secretary":
                continue
            me = self.evaluator(evaluator_id)
            for app in self.call("GET", f"/rounds/{round_id}/applications", headers=me):
                path = f"/rounds/{round_id}/applications/{app['application_id']}"
                conflicted = declared == (evaluator_id, app["application_id"])
                self.call("PUT", f"{path}/declaration", headers=me,
                          json={"conflicted": conflicted, "relation": "친인척" if conflicted else None})
                if conflicted:
                    continue
                detail = self.call("GET", path, headers=me)
                sheet = sheet_of(app["application_id"], evaluator_id, detail["committee_sheet"]["items"])
                self.call("PUT", f"{path}/score", headers=me, json={"levels": sheet})
                given += 1
        return given

    def close(self, round_id: str, expect: tuple[int, ...] = (200,)) -> dict:
        return self.call("POST", f"/rounds/{round_id}/close", headers=self.operator(), expect=expect)

    def round(self, round_id: str) -> dict:
        return self.call("GET", f"/rounds/{round_id}", headers=self.operator())

    def budget(self, program_id: str) -> dict:
        return self.call("GET", f"/programs/{program_id}/budget", headers=self.operator())


def ranking_table(round_: dict) -> list[str]:
    """The closed round as an operator reads it: rank, company, quantitative, qualitative, final, outcome."""
    lines = [f"{'rank':>4}  {pad('company', 22)} {'quant.':>6} {'qual.':>8} {'final':>8}  {'planned KRW':>11}  outcome"]
    for a in sorted((a for a in round_["applications"] if a["rank"]), key=lambda a: a["rank"]):
        now = f" → {a['status']}" if a["status"] != a["outcome"] else ""
        lines.append(f"{a['rank']:>4}  {pad(a['company_name'], 22)} {a['quantitative']:>6} {a['qualitative']:>8} "
                     f"{a['final']:>8}  {a['planned_subsidy']:>11,}  {a['outcome']}{now}")
    return lines
