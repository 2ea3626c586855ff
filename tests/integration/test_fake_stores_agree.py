"""The in-memory stores the use-case tests run on (tests/fakes) answer as the PostgreSQL stores do: one scenario per
service — the queries its use cases make, with the redeliveries, first-answer-wins, uniqueness and ordering the SQL
decides — runs on the fake and on the real store (in a transaction rolled back at the end), and what each query
answered must be the same. A fake that drifts from its SQL fails here, not as a use-case test passing on a lie."""
from __future__ import annotations

import asyncio
import importlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Awaitable, Callable

import pytest

from evaluation.store import NewCandidate
from screening.store import NewLookup, NewScreening, StateChange
from sme_runtime.db import make_engine, migrate, session_factory
from tests.conftest import ROOT
from tests.fakes.contracts import FakeContractsStore
from tests.fakes.evaluation import FakeEvaluationStore
from tests.fakes.intake import FakeIntakeStore
from tests.fakes.payments import FakePaymentsStore
from tests.fakes.screening import FakeScreeningStore
from tests.support import db_url

T0 = datetime(2026, 5, 1, 1, 0, tzinfo=timezone.utc)
Scenario = Callable[[Any], Awaitable[list]]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def fields(row: Any, *names: str) -> tuple | None:
    return None if row is None else tuple(getattr(row, n) for n in names)


async def on_postgres(service: str, scenario: Scenario) -> list:
    engine = make_engine(db_url(service))
    try:
        await migrate(engine, ROOT / "services" / service / "migrations")
        async with session_factory(engine)() as session:
            async with session.begin():
                store = importlib.import_module(f"{service}.store")
                seen = await scenario(getattr(store, f"{service.capitalize()}Store")(session))
                await session.rollback()  # leave the database as it was
        return seen
    finally:
        await engine.dispose()


# --- the scenarios --------------------------------------------------------------------------------------------

async def evaluation_scenario(s) -> list:
    seen: list = []
    seen.append(sorted(await s.insert_candidates([NewCandidate(
        application_id=f"A{n}", program_id="p", round_id=None, brn=f"12345678{n}0", company_name=f"회사{n}",
        facts={"consulting_cost_excluding_vat": subsidy, "founded_on": date(2012, 3, 15)}, expert_grade="2",
        passed_at=at(n), submitted_at=at(-n), quantitative=80 - n, quantitative_detail={"q1": 10},
        planned_subsidy=subsidy, program_version=1, call_id=call)
        for n, (call, subsidy) in enumerate([("main", 5_000_000), ("main", 4_000_000), ("second", 3_000_000)])],
        at=at(0))))
    redelivered = NewCandidate(application_id="A0", program_id="p", round_id=None, brn="1234567800",
                               company_name="x", facts={}, expert_grade=None, passed_at=at(9), submitted_at=at(9),
                               quantitative=1, quantitative_detail={}, planned_subsidy=1)
    seen.append(await s.insert_candidates([redelivered], at=at(9)))  # a redelivery
    seen.append(await s.insert_candidates([], at=at(9)))
    first = await s.insert_round(program_id="p", agency="gimpo", call_id="main", as_of=date(2026, 5, 1), at=at(10),
                                 by="kim")
    second = await s.insert_round(program_id="p", agency="gimpo", call_id="second", as_of=date(2026, 5, 1),
                                  at=at(11), by="kim")
    seen += [first, second, fields(await s.round_open_in("p", "main"), "round_id", "status", "as_of")]
    seen.append(sorted((await s.open_rounds([("p", "main"), ("p", "second"), ("p", "third"), ("q", "main")])).items()))
    seen.append(await s.open_rounds([]))
    seen.append(await s.join_round("p", "main", first, at(12)))
    seen.append(await s.join_round("p", "second", second, at(12)))
    seen.append([fields(c, "application_id", "status", "round_id") for c in await s.candidates_of_round(first)])
    for e, kind in (("EV-02", "external"), ("EV-01", "external"), ("ST-01", "center-staff")):
        seen.append(await s.upsert_evaluator(evaluator_id=e, agency="gimpo", name=f"위원{e}", affiliation="대학",
                                             kind=kind,
                                             fields=["경영"], employers=[{"brn": "1234567800", "name": "회사0",
                                                                         "since": None, "until": None}],
                                             at=at(13), by="kim"))
    seen.append(await s.upsert_evaluator(evaluator_id="EV-01", agency="gimpo", name="위원1", affiliation="연구원",
                                         kind="external", fields=[], employers=[], at=at(14), by="lee"))
    # T1: the same person in another agency's pool is an entry of that pool, leaving Gimpo's as it is
    seen.append(await s.upsert_evaluator(evaluator_id="EV-01", agency="seoul-sba", name="위원1", affiliation="서울",
                                         kind="external", fields=[], employers=[], at=at(14), by="park"))
    seen.append([fields(e, "evaluator_id", "agency", "affiliation", "fields", "employers")
                 for e in await s.evaluators(["EV-01", "ST-01"])])
    seen.append([(e.evaluator_id, e.affiliation) for e in await s.evaluators(agencies=["seoul-sba"])])
    await s.replace_seats(first, [("EV-02", "member"), ("EV-01", "chair"), ("ST-01", "secretary")])
    await s.replace_seats(first, [("EV-02", "member"), ("EV-01", "chair")])
    seen.append([fields(x, "role", "evaluator_id", "name") for x in await s.seats(first)])
    await s.declare(application_id="A0", evaluator_id="EV-01", conflicted=True, relation="친척", detail=None, at=at(15))
    await s.declare(application_id="A0", evaluator_id="EV-01", conflicted=False, relation=None, detail=None,
                    at=at(16))
    seen.append([fields(d, "application_id", "evaluator_id", "conflicted", "relation")
                 for d in await s.declarations(first)])
    for levels in ({"a": 15}, {"a": 12}):
        seen.append(await s.save_score(application_id="A1", evaluator_id="EV-02", levels=levels, raw_total=80,
                                       normalised=Decimal("76.1905"), at=at(17)))
    seen.append(await s.save_score(application_id="A0", evaluator_id="EV-01", levels={"a": 9}, raw_total=70,
                                   normalised=Decimal("66.6667"), at=at(18)))
    seen.append([fields(x, "application_id", "evaluator_id", "levels", "revisions", "normalised")
                 for x in await s.scores(first)])
    seen.append(sorted(await s.scored_evaluators(first)))
    await s.record_result("A0", rank=2, qualitative=Decimal("66.6667"), qualitative_raw=Decimal("70.0000"),
                          final=Decimal("70.6667"), valid_evaluators=1, outcome="waitlisted", status="waitlisted",
                          at=at(19))
    await s.record_result("A1", rank=1, qualitative=Decimal("76.1905"), qualitative_raw=Decimal("80.0000"),
                          final=Decimal("77.5333"), valid_evaluators=1, outcome="selected", status="rechecking",
                          at=at(19))
    await s.close_round(first, at=at(20), by="kim")
    seen.append(fields(await s.round_(first), "status", "closed_at", "closed_by"))
    seen.append([fields(c, "application_id", "rank", "final") for c in await s.candidates_of_round(first)])
    seen += [await s.committed_budget("p"), await s.committed_budget("p", "main"),
             await s.committed_budget("p", "second")]
    await s.set_status("A1", "selected", at(21), via="round-close", selected_at=at(21))
    await s.set_status("A1", "selected", at(22))  # via and selected_at kept
    seen.append(fields(await s.candidate("A1"), "status", "selected_via", "selected_at", "updated_at"))
    seen.append([fields(c, "application_id", "rank") for c in await s.waitlist("p", "main")])
    await s.add_recheck(request_id="RCK-1", application_id="A1", via="round-close", at=at(23))
    seen += [await s.recheck_known("RCK-1"), await s.recheck_known("RCK-9")]
    seen.append(fields(await s.complete_recheck("RCK-1", outcome="clear", at=at(24)), "application_id", "via"))
    seen.append(await s.complete_recheck("RCK-1", outcome="excluded", at=at(25)))  # the first answer stands
    seen.append(await s.complete_recheck("RCK-9", outcome="clear", at=at(25)))
    await s.add_allowance(round_id=first, evaluator_id="EV-01", program_id="p", applications_scored=2, amount=40_000)
    await s.add_allowance(round_id=second, evaluator_id="EV-01", program_id="p", applications_scored=1, amount=20_000)
    seen += [await s.allowance_paid_in_program("p", "EV-01"), await s.allowance_paid_in_program("p", "EV-02")]
    await s.lock_budget("p")
    await s.audit(at=at(26), actor="kim", action="round-closed", round_id=first, detail={"k": "값"})
    return seen


async def screening_scenario(s) -> list:
    seen: list = []
    content = {"company": {"name": "(주)김포정밀", "founded_on": date(2012, 3, 15)}}
    for n in range(3):
        seen.append(await s.insert(application_id=f"A{n}", program_id="p",
                                   brn="1234567800" if n < 2 else "2208162517", revision=1, status="screening",
                                   submitted_at=at(n), at=at(n), content=content, required_evidence=[{"rule": "E1"}],
                                   program_version=1))
    seen.append(await s.insert(application_id="A0", program_id="p", brn=None, revision=0, status="withdrawn",
                               submitted_at=None, at=at(5), content=None, required_evidence=None))
    seen.append(fields(await s.get("A0"), "status", "revision", "content", "program_version", "decided_at"))
    await s.replace_content("A0", revision=2, content={"x": "새"}, required_evidence=[], at=at(6))
    await s.set_state("A0", status="supplement-requested", at=at(7), decision={"outcome": "supplement-requested"},
                      supplement_deadline=at(100))
    await s.set_state("A0", status="screening", at=at(8), decision=None, decided_by="rules")
    seen.append(fields(await s.get("A0"), "status", "revision", "content", "decision", "decided_by",
                       "supplement_deadline", "decided_at"))
    await s.set_state("A1", status="supplement-requested", at=at(9), decision={}, supplement_deadline=at(50))
    await s.set_state("A2", status="supplement-requested", at=at(9), decision={}, supplement_deadline=at(40))
    seen += [await s.overdue_supplements(at(60)), await s.overdue_supplements(at(45)),
             await s.overdue_supplements(at(60), limit=1)]
    await s.set_state("A2", status="rejected", at=at(10), decision={}, decided_by="operator:kim", final=True)
    seen.append(fields(await s.get("A2"), "status", "decided_by", "decided_at", "supplement_deadline"))
    await s.insert_lookups([NewLookup("L-1", "A0", "screening", "credit"),
                            NewLookup("L-2", "A0", "screening", "sanctions")], at=at(11))
    await s.supersede_lookups(application_id="A0", purpose="screening", registries=["credit", "sanctions"],
                              keeping=["L-3", "L-2"])
    await s.insert_lookups([NewLookup("L-3", "A0", "screening", "credit"),
                            NewLookup("L-2", "A0", "screening", "sanctions")], at=at(12))
    await s.insert_lookups([NewLookup("L-4", "A0", "recheck:R1", "credit")], at=at(13))
    await s.insert_lookups([NewLookup("L-5", "A1", "screening", "credit"), NewLookup("L-6", "A2", "screening",
                                                                                     "sanctions"),
                            NewLookup("L-1", "A1", "screening", "sanctions")], at=at(13))  # L-1 asked before: kept
    await s.insert_lookups([], at=at(13))
    of_a1 = await s.lookups_for("A1", "screening")
    seen.append(sorted(fields(x, "lookup_id", "registry", "requested_at") for x in of_a1))
    asked = await s.lookups_for("A0", "screening")
    seen.append(sorted(fields(x, "lookup_id", "registry", "superseded") for x in asked))

    def answer(lookup_id: str, minute: int, verdict: str, findings: list, attempts: int) -> dict:
        return {"lookup_id": lookup_id, "at": at(minute), "verdict": verdict, "findings": findings,
                "attempts": attempts}

    # the earlier of two answers to L-2 in one batch wins; L-9 was never asked; L-1 answered once
    seen.append(sorted(fields(x, "lookup_id", "application_id", "purpose", "superseded")
                       for x in await s.record_answers([answer("L-2", 14, "clear", [{"rule": "X8"}], 2),
                                                        answer("L-2", 15, "excluded", [], 1),
                                                        answer("L-9", 15, "clear", [], 1),
                                                        answer("L-1", 15, "excluded", [{"rule": "X2"}], 3)])))
    seen.append(await s.record_answers([answer("L-2", 16, "excluded", [], 1)]))  # answered before: stands
    seen.append(await s.record_answers([]))
    seen += [await s.unknown_lookups(["L-1", "L-9", "L-4"]), await s.unknown_lookups([])]
    await s.abandon_lookups("A0", "recheck:R1")
    seen.append([fields(x, "lookup_id", "purpose", "verdict", "findings", "attempts", "superseded")
                 for x in await s.lookups_of("A0")])
    for rule, exclude in (("X4", True), ("X4", False), ("D3", False)):
        await s.add_ruling(application_id="A0", purpose="screening", rule=rule, exclude=exclude, operator="kim",
                           reason="사유", at=at(16))
    await s.add_ruling(application_id="A0", purpose="recheck:R1", rule="X8", exclude=True, operator="kim",
                       reason="사유", at=at(17))
    seen.append([fields(r, "rule", "exclude") for r in await s.rulings("A0", "screening")])
    await s.add_restriction(brn="1234567800", application_id="OLD", approved_on=date(2025, 1, 1),
                            until=date(2026, 12, 31))
    await s.add_restriction(brn="1234567800", application_id="OLD", approved_on=date(2025, 2, 1), until=None)
    await s.add_restriction(brn="2208162517", application_id="OTHER", approved_on=date(2025, 1, 1), until=None)
    dossier = (await s.dossiers(["A0"], "screening"))["A0"]
    seen.append((fields(dossier.row, "application_id", "status"), [(r.rule, r.exclude, r.at) for r in dossier.rulings],
                 [(r.approved_on, r.restricted_until) for r in dossier.restrictions],
                 sorted((x.lookup_id, x.verdict, x.superseded) for x in dossier.lookups)))
    seen.append((await s.dossiers(["A9"], "screening")).get("A9"))
    several = await s.dossiers(["A2", "A9", "A0", "A2"], "screening")  # unknown ids left out, repeats once
    seen.append([(k, fields(d.row, "status"), len(d.lookups), len(d.restrictions)) for k, d in several.items()])
    seen.append(await s.dossiers([], "screening"))
    taken_up = [NewScreening(application_id=a, program_id="p", program_version=v, brn="1234567800", revision=rev,
                             submitted_at=at(20), content=content, required_evidence=[])
                for a, v, rev in (("A1", 1, 1), ("A5", 2, 1), ("A5", 2, 9), ("A6", None, 3))]  # A1 known; A5 twice
    seen.append(sorted(await s.insert_many(taken_up, at=at(21))))
    seen.append(await s.insert_many([], at=at(21)))
    seen += [fields(await s.get(a), "status", "revision", "program_version", "content", "started_at")
             for a in ("A5", "A6")]
    await s.set_states([StateChange("A1", "manual-review", at(30), {"q": "확인"}),
                        StateChange("A9", "passed", at(30), {}, final=True),
                        StateChange("A0", "passed", at(31), {"outcome": "passed"}, decided_by="rules", final=True)])
    await s.set_states([])
    seen += [fields(await s.get(a), "status", "decision", "decided_by", "decided_at", "supplement_deadline")
             for a in ("A0", "A1")]
    seen += [await s.add_recheck(request_id="R1", application_id="A0", program_id="p", at=at(18)),
             await s.add_recheck(request_id="R1", application_id="A0", program_id="p", at=at(19))]
    await s.set_recheck("R1", status="manual-review", at=at(20), decision={"q": 1}, final=False)
    seen.append(fields(await s.recheck("R1"), "status", "decision", "completed_at"))
    await s.set_recheck("R1", status="clear", at=at(21), decision={}, final=True)
    seen.append(fields(await s.recheck("R1"), "status", "completed_at", "requested_at"))
    await s.audit("A0", at=at(22), actor="rules", action="passed", detail={"d": date(2026, 1, 1)})
    return seen


async def contracts_scenario(s) -> list:
    seen: list = []
    await s.lock_application("A0")
    for revision, name in ((2, "새 이름"), (1, "옛 이름"), (3, "최신")):
        await s.upsert_parties(application_id="A0", program_id="p", revision=revision, brn="1234567800",
                               company_name=name, ceo_name="김", expert_name=None, expert_affiliation=None,
                               consulting_cost=5_000_000)
    seen.append(fields(await s.parties("A0"), "revision", "company_name"))
    for round_id in ("r1", "r2"):
        await s.insert_selection(application_id="A0", program_id="p", round_id=round_id, planned_subsidy=5_000_000,
                                 selected_at=at(1), via="round-close", program_version=1)
    seen.append(fields(await s.selection("A0"), "round_id", "planned_subsidy", "program_version"))
    seen += [await s.parties("A9"), await s.selection("A9")]
    values = dict(agreement_id="AGR-A0", application_id="A0", program_id="p", program_version=1, brn="1234567800",
                  company_name="최신", ceo_name="김", expert_name="이", expert_affiliation="컨설팅",
                  term_start=date(2026, 5, 1), term_end=date(2026, 12, 31), agreed_amount=5_000_000,
                  minimum_sessions=10, follow_up_sessions=3, status="drafted", drafted_at=at(2), sign_by=at(300))
    seen += [await s.insert_agreement(**values), await s.insert_agreement(**values),
             await s.insert_agreement(**{**values, "agreement_id": "AGR-OTHER"})]  # one agreement per application
    seen += [await s.sign("AGR-A0", "company", "company:1", at(3)), await s.sign("AGR-A0", "company", "c", at(4)),
             await s.sign("AGR-A0", "expert", "expert:1", at(5))]
    seen.append([fields(x, "party", "signed_by", "signed_at") for x in await s.signatures("AGR-A0")])
    seen.append(await s.clear_signatures("AGR-A0"))
    seen.append(await s.signatures("AGR-A0"))
    await s.update_agreement("AGR-A0", status="in-force", signed_at=at(6))
    seen.append(fields(await s.agreement("AGR-A0"), "status", "signed_at", "accepted_at", "agreed_amount"))
    for day in (date(2026, 5, 3), date(2026, 5, 2), date(2026, 5, 3)):
        await s.add_session(agreement_id="AGR-A0", held_on=day, hours=2, kind="on-site", place="공장", notes="일지",
                            photo_refs=["docs://p.png"], logged_by="expert:1", logged_at=at(7))
    seen.append([fields(x, "held_on", "hours", "photo_refs") for x in await s.sessions_of("AGR-A0")])
    await s.add_amendment(agreement_id="AGR-A0", changes={"agreed_amount": [5_000_000, 4_000_000]}, reason="축소",
                          agreed_by=["center", "company"], recorded_by="kim", at=at(8))
    for revision in (2, 1):
        await s.add_report(agreement_id="AGR-A0", revision=revision, report_ref="docs://r.pdf", log_refs=["a"],
                           fee_evidence_refs=["b"], submitted_by="company:1", at=at(9))
    await s.review_report("AGR-A0", 1, status="returned", by="kim", at=at(10), reasons=["서명 없음"])
    await s.review_report("AGR-A0", 2, status="accepted", by="kim", at=at(11))
    seen.append([fields(r, "revision", "status", "return_reasons", "reviewed_by")
                 for r in await s.reports_of("AGR-A0")])
    agreement = await s.agreement("AGR-A0")
    for kind, due in (("outcome-6m", date(2027, 6, 30)), ("survey", date(2027, 1, 15)), ("survey", date(2028, 1, 1))):
        await s.owe_follow_up(agreement=agreement, kind=kind, due_on=due)
    seen.append([fields(f, "kind", "due_on") for f in await s.open_follow_ups_due_by(date(2027, 12, 31))])
    await s.mark_reminded("AGR-A0", "survey", "due-soon", at(12))
    await s.mark_reminded("AGR-A0", "outcome-6m", "overdue", at(13))
    await s.answer_follow_up("AGR-A0", "survey", answers={"overall": 5, "note": "좋음"}, by="company:1", at=at(14))
    seen.append([fields(f, "kind", "due_on") for f in await s.open_follow_ups_due_by(date(2027, 12, 31))])
    seen.append(fields(await s.follow_up("AGR-A0", "survey"), "answers", "submitted_by", "reminded_due_soon_at",
                       "reminded_overdue_at"))
    seen.append([fields(f, "agreement_id", "kind") for f in await s.follow_ups_of_program("p")])
    await s.audit(at=at(15), actor="kim", action="amended", agreement_id="AGR-A0", application_id="A0", detail=None)
    return seen


async def payments_scenario(s) -> list:
    seen: list = []
    for n in range(2):
        seen.append(await s.insert_signed_agreement(application_id="A0", program_id="p", agreement_id="AGR-A0",
                                                    brn="1234567800", agreed_amount=5_000_000 - n, signed_at=at(n),
                                                    program_version=1))
    await s.update_signed_agreement("A0", agreed_amount=4_000_000, ended="given-up")
    seen.append(fields(await s.signed_agreement("A0"), "agreed_amount", "ended", "signed_at"))
    for amount in (5_000_000, 1):
        await s.insert_accepted_report(application_id="A0", program_id="p", agreement_id="AGR-A0", brn="1234567800",
                                       agreed_amount=amount, accepted_at=at(2), program_version=1)
    seen.append(fields(await s.accepted_report("A0"), "agreed_amount", "accepted_at"))
    seen += [await s.insert_termination(application_id="A0", program_id="p", agreement_id="AGR-A0", reason="fraud",
                                        clawback=True, terminated_at=at(3)),
             await s.insert_termination(application_id="A0", program_id="p", agreement_id="AGR-A0", reason="x",
                                        clawback=False, terminated_at=at(4))]
    seen.append(fields(await s.termination("A0"), "reason", "clawback"))
    common = dict(purpose="subsidy", program_id="p", application_id="A0", brn="1234567800", payee_name="(주)김포정밀",
                  status="due", request_received_on=date(2026, 11, 25), due_on=date(2026, 12, 25),
                  filed_by="company:1", created_at=at(5))
    seen += [await s.insert_payment(payment_id="PAY-SUB-A0", instalment="balance", amount=5_000_000,
                                    breakdown={"subsidy": 5_000_000}, documents={"quote_ref": "q"}, **common),
             await s.insert_payment(payment_id="PAY-SUB-A0", instalment="balance", amount=1, **common),
             await s.insert_payment(payment_id="PAY-OTHER", instalment="balance", amount=1, **common),
             await s.insert_payment(payment_id="PAY-ADV-A0", instalment="advance", amount=2_000_000, **common),
             await s.insert_payment(payment_id="PAY-ALW-r1-EV-01", purpose="evaluator-allowance", program_id="p",
                                    evaluator_id="EV-01", round_id="r1", payee_name="위원", amount=20_000,
                                    status="due", request_received_on=date(2026, 5, 20), due_on=date(2026, 6, 19),
                                    filed_by="evaluation", created_at=at(6))]
    seen.append(fields(await s.payment("PAY-SUB-A0"), "amount", "breakdown", "documents", "instalment", "status"))
    seen.append(fields(await s.payment_of_application("A0"), "payment_id"))
    seen.append(fields(await s.payment_of_application("A0", "advance"), "payment_id"))
    seen.append([p.payment_id for p in await s.payments_of_application("A0")])
    await s.update_payment("PAY-ADV-A0", status="paid", paid_on=date(2026, 12, 1))
    seen.append([(p.payment_id, p.overdue_at) for p in await s.mark_overdue(date(2026, 12, 26), at(7))])
    seen.append(await s.mark_overdue(date(2026, 12, 27), at(8)))  # raised once per due date
    await s.add_ledger_entries([("city", "commitment", 3_000_000), ("province", "commitment", 2_000_000)],
                               program_id="p", application_id="A0", reason="signed", at=at(9))
    await s.add_ledger_entries([("city", "release", 1_000_000), ("city", "commitment", 500_000)], program_id="p",
                               application_id="A0", reason="changed", at=at(10), payment_id="PAY-SUB-A0")
    await s.add_ledger_entries([("city", "commitment", 7)], program_id="q", application_id="B0", reason="x", at=at(11))
    seen += [sorted((await s.ledger_sums(application_id="A0")).items()),
             sorted((await s.ledger_sums(program_id="q")).items()), await s.ledger_sums(application_id="Z")]
    await s.add_adjustment(payment_id="PAY-SUB-A0", changes={"due_on": ["2026-12-25", "2027-01-10"]}, reason="P4",
                           by="kim", at=at(12))
    await s.audit(at=at(13), actor="kim", action="paid", payment_id="PAY-ADV-A0", application_id="A0", detail=None)
    return seen


async def intake_scenario(s) -> list:
    seen: list = []
    first = await s.insert_unless_live(application_id="A0", program_id="p", program_version=1, brn="1234567800",
                                       channel="web", at=at(0), content={"company": {"name": "회사"}}, contacts=None,
                                       submitted_by="company:1")
    seen.append(fields(first, "application_id", "status", "revision", "content", "contacts"))
    seen.append(await s.insert_unless_live(application_id="A1", program_id="p", program_version=1,
                                           brn="1234567800", channel="web", at=at(1), content={}, contacts=None,
                                           submitted_by="company:1"))
    seen.append(await s.amend("A0", content={"v": 2}, contacts={"phone": "010"}, at=at(2)))
    seen.append(await s.amend("A0", content={"v": 3}, contacts=None, at=at(3)))  # the contacts kept
    seen.append(fields(await s.get("A0"), "revision", "content", "contacts", "updated_at"))
    await s.request_supplement("A0", deadline=at(100), at=at(4))
    seen.append(fields(await s.live_application("p", "1234567800"), "application_id", "status",
                       "supplement_deadline", "status_reason"))
    from intake.domain import Status
    await s.set_status("A0", Status.WITHDRAWN, at=at(5), reason="자체 해결")
    seen.append(await s.live_application("p", "1234567800"))
    second = await s.insert_unless_live(application_id="A2", program_id="p", program_version=1, brn="1234567800",
                                        channel="municipal-system", at=at(6), content={}, contacts=None,
                                        submitted_by="system:minwon", source_system="minwon", external_reference="MW-1")
    seen.append(fields(second, "application_id", "channel"))
    seen.append(fields(await s.by_external_reference("minwon", "MW-1"), "application_id"))
    seen.append(await s.by_external_reference("minwon", "MW-2"))
    await s.add_history("A2", revision=1, action="screening", actor="service:screening", at=at(7), detail={"a": 1})
    from intake.store import StatusMove
    moves = [StatusMove("A2", at(8), "ce-1"), StatusMove("A0", at(8), "ce-2"), StatusMove("A9", at(8), "ce-3")]
    seen.append(sorted(await s.follow_statuses(moves, status=Status.SCREENING, only_from=(Status.SUBMITTED,),
                                               reason="ScreeningStarted", actor="service:screening")))
    seen += [fields(await s.get(a), "status", "status_reason", "updated_at") for a in ("A2", "A0")]  # A0 withdrawn
    seen.append(await s.follow_statuses([], status=Status.PASSED, only_from=(Status.SCREENING,), reason="x",
                                        actor="service:screening"))
    return seen


SCENARIOS = {"intake": (intake_scenario, FakeIntakeStore), "screening": (screening_scenario, FakeScreeningStore),
             "evaluation": (evaluation_scenario, FakeEvaluationStore),
             "contracts": (contracts_scenario, FakeContractsStore), "payments": (payments_scenario, FakePaymentsStore)}


@pytest.mark.parametrize("service", SCENARIOS)
def test_the_fake_store_answers_every_query_as_postgresql_does(service, fresh_databases):
    scenario, fake = SCENARIOS[service]
    on_fake = asyncio.run(scenario(fake()))
    on_real = asyncio.run(on_postgres(service, scenario))
    assert len(on_fake) == len(on_real)
    for step, (f, r) in enumerate(zip(on_fake, on_real)):
        assert f == r, f"{service}, observation {step}: the fake answered {f!r}, PostgreSQL {r!r}"


def test_a_fake_that_answers_otherwise_is_caught(fresh_databases):
    class Drifted(FakeEvaluationStore):
        async def complete_recheck(self, request_id: str, *, outcome: str, at: datetime) -> Any:
            r = self.rechecks.get(request_id)  # the last answer wins here: the SQL keeps the first
            if r is None:
                return None
            r.completed_at, r.outcome = at, outcome
            return r

    assert asyncio.run(evaluation_scenario(Drifted())) != asyncio.run(on_postgres("evaluation", evaluation_scenario))
