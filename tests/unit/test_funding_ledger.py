"""Programs as data, the money side: funding by source (L1), splits to the won (L2), the commitment ledger (L3),
the settlement (L4), instalments (I1, I2), a company share of the subsidy (P2) and the daily fee (G3)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from pydantic import ValidationError

from intake.domain import content_problems
from payments import ledger
from payments.rules import balance, excess_advance, subsidy
from sme_schemas.application import ApplicationContent
from sme_schemas.examples import _CONTENT
from sme_programs import ProgramDefinition, load_programs, split_by_weight

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = load_programs(str(ROOT / "deploy/programs"))
SOS, SMART, SBA = (PROGRAMS[p] for p in ("gimpo-sos-2024", "gimpo-smart-factory-2026",
                                          "seoul-sba-sandbox-pilot-2022"))
RAW_SMART = json.loads((ROOT / "deploy/programs/gimpo-smart-factory-2026.json").read_text("utf-8"))


# --- L2: splits to the won -------------------------------------------------------------------------------------

weights = st.dictionaries(st.sampled_from(["national", "provincial", "city", "district", "other"]),
                          st.integers(0, 10**12), min_size=1).filter(lambda w: sum(w.values()) > 0)


@given(weights, st.integers(0, 10**13))
def test_l2_a_split_adds_up_to_the_won_and_each_part_is_its_share_rounded(w, amount):
    parts = split_by_weight(amount, w)
    total = sum(w.values())
    assert sum(parts.values()) == amount and parts.keys() == w.keys()
    for key, part in parts.items():
        exact_floor = amount * w[key] // total
        assert exact_floor <= part <= exact_floor + 1


@given(weights, st.data())
def test_l2_no_part_exceeds_its_weight_when_the_amount_fits(w, data):
    amount = data.draw(st.integers(0, sum(w.values())))
    parts = split_by_weight(amount, w)
    assert all(parts[k] <= w[k] for k in w)


def test_l2_remainders_go_to_the_largest_fractions_then_the_earlier_source():
    assert split_by_weight(100, {"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert split_by_weight(5, {"a": 3, "b": 0}) == {"a": 5, "b": 0}
    assert split_by_weight(5_000_001, {"provincial": 113_526_000, "city": 264_894_000}) == {
        "provincial": 1_500_000, "city": 3_500_001}
    with pytest.raises(ValueError, match="split over nothing"):
        split_by_weight(1, {"a": 0})


# --- L1: the budget by source ----------------------------------------------------------------------------------

def test_l1_sources_must_add_up_to_the_budget():
    bad = {**RAW_SMART, "funding": [{**RAW_SMART["funding"][0], "amount": 113_526_001}, RAW_SMART["funding"][1]]}
    with pytest.raises(ValidationError, match=r"funding: the sources add up to 378,420,001 KRW, not the budget "
                                              r"378,420,000 KRW \(L1\)"):
        ProgramDefinition.model_validate(bad)


def test_l1_each_source_once_and_a_known_kind():
    twice = {**RAW_SMART, "funding": [{"source": "city", "title": "시비", "amount": 178_420_000},
                                      {"source": "city", "title": "시비 추경", "amount": 200_000_000}]}
    with pytest.raises(ValidationError, match="funding: each source once"):
        ProgramDefinition.model_validate(twice)
    unknown = {**RAW_SMART, "funding": [{"source": "lottery", "title": "복권기금", "amount": 378_420_000}]}
    with pytest.raises(ValidationError, match=r"funding\.0\.source"):
        ProgramDefinition.model_validate(unknown)


def test_l1_a_program_without_sources_is_paid_by_the_city():
    assert [(f.source, f.amount) for f in SOS.funding_sources()] == [("city", 100_000_000)]
    assert [(f.source, f.amount) for f in SMART.funding_sources()] == [("provincial", 113_526_000),
                                                                       ("city", 264_894_000)]


def test_a_malformed_funding_file_is_refused_naming_the_file_and_the_field(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({**RAW_SMART, "funding": RAW_SMART["funding"][:1]},
                                                  ensure_ascii=False), "utf-8")
    with pytest.raises(ValueError, match=r"(?s)bad\.json refused: .*funding: the sources add up to 113,526,000"):
        load_programs(str(tmp_path))


# --- P2 with a company share, G3's daily fee ---------------------------------------------------------------------

@pytest.mark.parametrize("cost, amount", [
    (120_000_000, 100_000_000),   # exactly the cap, the company pays 20,000,000 = 20% of it
    (119_999_999, 99_999_999),    # 119,999,999 x 100 / 120 = 99,999,999.17 → truncated
    (60_000_000, 50_000_000),
    (60_000_001, 50_000_000),
    (200_000_000, 100_000_000),   # the cap binds
    (0, 0),
])
def test_p2_a_company_share_of_the_subsidy_bounds_it(cost, amount):
    b = subsidy(cost, SBA.support, 100_000_000)
    assert b.subsidy == amount and b.company_share == cost - amount
    assert b.company_share * 100 >= 20 * b.subsidy  # 기업부담금: 지원금의 20% 이상
    assert b.company_share_percent_of_subsidy == 20


@pytest.mark.parametrize("cost, sessions, planned", [
    (4_545_455, 10, 5_000_000),   # 10 days x 500,000 = the cap
    (4_545_455, 9, 4_500_000),    # G3: nine days pay at most 4,500,000
    (4_545_455, None, 5_000_000),  # sessions unknown (an older event): no day ceiling
    (3_000_000, 9, 3_300_000),    # the cost binds below the days
])
def test_g3_the_daily_fee_times_the_sessions_bounds_the_planned_subsidy(cost, sessions, planned):
    assert SOS.support.planned_subsidy(cost, sessions) == planned


def test_g3_a_build_paid_by_its_quote_has_no_day_ceiling():
    assert SMART.support.daily_fee == 0
    assert SMART.support.planned_subsidy(60_000_000, 1) == 46_200_000  # 70% of 66,000,000


def test_c3_a_plan_with_fewer_sessions_than_the_program_asks_is_refused_at_intake():
    content = ApplicationContent.model_validate({**_CONTENT, "consulting": {**_CONTENT["consulting"], "sessions": 9}})
    problems = content_problems(content, SOS.model_copy(update={"program_year_end": date(2099, 12, 31)}),
                                date(2024, 4, 2))
    assert [(p.field, p.rule) for p in problems] == [("consulting.sessions", "C3")]
    assert "at least 10" in problems[0].message
    assert content_problems(content, SMART.model_copy(update={"program_year_end": date(2099, 12, 31)}),
                            date(2024, 4, 2)) == []


# --- I1, I2: an advance and the balance --------------------------------------------------------------------------

def test_i1_the_advance_is_the_programs_share_of_the_agreed_amount():
    assert SBA.payment_schedule.advance(91_666_666) == 45_833_333
    assert SOS.payment_schedule.advance(5_000_000) == 0


def test_i2_the_balance_is_the_subsidy_less_the_advance():
    b = subsidy(110_000_000, SBA.support, 91_666_666, advance=45_833_333)
    assert (b.subsidy, b.advance_deducted, balance(b), excess_advance(b, 45_833_333)) == (
        91_666_666, 45_833_333, 45_833_333, 0)


def test_i2_an_advance_beyond_the_subsidy_leaves_no_balance_and_the_excess_is_recovered():
    b = subsidy(50_000_000, SBA.support, 91_666_666, advance=45_833_333)
    assert (b.subsidy, b.advance_deducted, balance(b), excess_advance(b, 45_833_333)) == (
        41_666_666, 41_666_666, 0, 4_166_667)


# --- L3: the ledger of one application ---------------------------------------------------------------------------

def _apply(position: ledger.Position, entries: ledger.Entries) -> ledger.Position:
    sums = dict(position.sums)
    for source, kind, amount in entries:
        assert amount > 0
        sums[(source, kind)] = sums.get((source, kind), 0) + amount
    return ledger.Position(sums)


def test_l3_a_signed_agreement_commits_over_the_shares_and_payments_draw_on_each_source():
    p = _apply(ledger.Position(), ledger.toward(SMART, ledger.Position(), 46_200_000))
    assert p.outstanding_by_source() == {"city": 32_340_000, "provincial": 13_860_000}
    p = _apply(p, ledger.paying(SMART, p, 40_000_001))
    assert p.of("city", "payment") + p.of("provincial", "payment") == 40_000_001
    assert p.outstanding() == 6_199_999
    p = _apply(p, ledger.toward(SMART, p, 0))  # the balance was all: the rest goes back
    assert p.outstanding_by_source() == {"city": 0, "provincial": 0}
    assert p.of("city", "release") + p.of("provincial", "release") == 6_199_999


def test_l3_a_payment_beyond_the_commitment_commits_the_difference_first():
    p = _apply(ledger.Position(), ledger.toward(SMART, ledger.Position(), 1_000))
    entries = ledger.paying(SMART, p, 1_500)
    assert sorted(k for _, k, _ in entries) == ["commitment", "commitment", "payment", "payment"]
    p = _apply(p, entries)
    assert p.outstanding() == 0 and all(v >= 0 for v in p.outstanding_by_source().values())


def test_l3_a_clawback_cannot_recover_more_than_was_paid():
    p = _apply(ledger.Position(), ledger.toward(SOS, ledger.Position(), 5_000_000))
    p = _apply(p, ledger.paying(SOS, p, 5_000_000))
    assert ledger.clawing_back(p, 5_000_000) == [("city", "clawback", 5_000_000)]
    with pytest.raises(ValueError, match="more than was paid"):
        ledger.clawing_back(p, 5_000_001)


operations = st.lists(st.tuples(st.sampled_from(["target", "pay", "claw"]), st.integers(0, 60_000_000)),
                      max_size=12)


@given(operations)
def test_l3_l4_any_sequence_keeps_every_source_whole_and_the_settlement_balanced(ops):
    p, recorded_paid, recorded_claws = ledger.Position(), 0, 0
    for op, amount in ops:
        if op == "target":
            p = _apply(p, ledger.toward(SMART, p, amount))
        elif op == "pay":
            p = _apply(p, ledger.paying(SMART, p, amount))
            recorded_paid += amount
        else:
            amount = min(amount, sum(p.net_paid_by_source().values()))
            p = _apply(p, ledger.clawing_back(p, amount))
            recorded_claws += amount
        assert all(v >= 0 for v in p.outstanding_by_source().values())
        assert all(v >= 0 for v in p.net_paid_by_source().values())
    report = ledger.settlement(SMART.model_copy(update={"budget": 10**12, "funding": tuple(
        f.model_copy(update={"amount": f.amount * 10**12 // SMART.budget}) for f in SMART.funding)}),
        p, paid_recorded=recorded_paid, clawed_back_recorded=recorded_claws)
    assert report["balanced"], report["problems"]
    total = report["total"]
    assert total["paid"] == recorded_paid and total["clawed_back"] == recorded_claws
    assert total["budget"] == total["net_spent"] + total["outstanding"] + total["unspent"]


# --- L4: the settlement ---------------------------------------------------------------------------------------

def test_l4_the_settlement_by_source_adds_up_to_the_won():
    p = _apply(ledger.Position(), ledger.toward(SMART, ledger.Position(), 46_200_000))
    p = _apply(p, ledger.paying(SMART, p, 46_200_000))
    q = _apply(p, ledger.toward(SMART, p, 30_000_001))  # a second company, still running
    report = ledger.settlement(SMART, q, paid_recorded=46_200_000, clawed_back_recorded=0)
    rows = {r["source"]: r for r in report["sources"]}
    assert report["balanced"] and report["problems"] == []
    assert rows["provincial"]["budget"] + rows["city"]["budget"] == 378_420_000
    assert rows["provincial"]["paid"] + rows["city"]["paid"] == 46_200_000
    assert rows["provincial"]["outstanding"] + rows["city"]["outstanding"] == 30_000_001
    assert report["total"]["unspent"] == 378_420_000 - 46_200_000 - 30_000_001


def test_l4_a_ledger_that_disagrees_with_the_payments_does_not_balance():
    p = _apply(ledger.Position(), ledger.toward(SOS, ledger.Position(), 5_000_000))
    p = _apply(p, ledger.paying(SOS, p, 5_000_000))
    report = ledger.settlement(SOS, p, paid_recorded=4_999_999, clawed_back_recorded=0)
    assert not report["balanced"]
    assert report["problems"] == ["paid: the ledger has 5,000,000 KRW, the payments 4,999,999 KRW"]


def test_l4_a_source_spent_beyond_its_budget_does_not_balance():
    p = _apply(ledger.Position(), ledger.toward(SOS, ledger.Position(), 100_000_001))
    report = ledger.settlement(SOS, p, paid_recorded=0, clawed_back_recorded=0)
    assert not report["balanced"] and report["problems"][0].startswith("city: a negative position")
