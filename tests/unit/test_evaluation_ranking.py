"""F1–F5: final score, pass mark, the total order, selection within budget and waitlist promotion.

The worked example is computed by hand in the comments from the rules; the hypothesis properties are the issue's:
the order is total and deterministic for any input order, selection never exceeds the budget, and freed budget
always goes to the best-ranked waitlisted application that fits."""
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

from hypothesis import given, strategies as st

from evaluation.ranking import Candidate, final_score, promote, rank, select
from evaluation.scoring import evaluator_score, publish, qualitative_score
from sme_schemas.evaluation import Outcome
from sme_programs import ProgramDefinition

SOS = ProgramDefinition.load(Path(__file__).resolve().parents[2] / "deploy/programs/gimpo-sos-2024.json")
RUBRIC = SOS.committee_score
T0 = datetime(2024, 4, 2, 0, 0, tzinfo=timezone.utc)
S, W, B = Outcome.SELECTED, Outcome.WAITLISTED, Outcome.BELOW_PASS_MARK


def levels_for(raw: int) -> dict[str, int]:
    """A sheet (S1 levels) whose raw total is `raw`: the three 15-point items give 3a, the six 10-point items 2b."""
    fifteen = [i for i in RUBRIC.items if i.levels[0] == 15]
    ten = [i for i in RUBRIC.items if i.levels[0] == 10]
    for a in range(15, 2, -1):
        rest = raw - 3 * a
        if rest % 2 == 0 and 6 <= rest // 2 <= 30:
            return _spread(fifteen, a, 3) | _spread(ten, rest // 2, 2)
    raise ValueError(f"no sheet totals {raw}")


def _spread(items, units: int, unit: int) -> dict[str, int]:
    out = {}
    for n, item in enumerate(items):
        steps = min(5, units - (len(items) - n - 1))  # leave at least one step for each item still to come
        out[item.code], units = steps * unit, units - steps
    return out


def candidate(app_id: str, quantitative: int, raws: tuple[int, ...], cost: int, minutes: int = 0) -> Candidate:
    scores = [evaluator_score(levels_for(r), RUBRIC) for r in raws]
    assert [s.raw_total for s in scores] == list(raws)
    return Candidate(
        application_id=app_id,
        company_name=f"(주){app_id}",
        quantitative=quantitative,
        qualitative=qualitative_score(scores, minimum=3),
        planned_subsidy=SOS.support.planned_subsidy(cost),
        submitted_at=T0 + timedelta(minutes=minutes),
    )


# With three evaluators, qualitative = (sum of raw totals) x 100 / (105 x 3) = 20·S/63 and
# final = 0.3·q + 0.7·20·S/63 = 0.3·q + 2·S/9 (F1, S2, S3).
WORKED = [
    # A: q 90, raws 84+84+84 = 252 → qualitative 80; final 27 + 56 = 83. Planned 4,000,000 + VAT 400,000 = 4,400,000.
    candidate("APP-A", 90, (84, 84, 84), 4_000_000, minutes=1),
    # B: q 70, raws 93·3 = 279 → qualitative 5580/63 = 88.5714…; final 21 + 62 = 83: ties A on the final, and its
    # higher qualitative ranks it first (F3 level 2). Planned 5,000,000 + 500,000 → capped at 5,000,000.
    candidate("APP-B", 70, (93, 93, 93), 5_000_000, minutes=2),
    # C: q 85, raws 90+80+76 = 246 → qualitative 4920/63 = 78.0952…; final 25.5 + 54.6667 = 80.1667.
    # Planned 6,000,000 + 600,000 → capped at 5,000,000.
    candidate("APP-C", 85, (90, 80, 76), 6_000_000, minutes=3),
    # D and E: q 60, raws 80+75+70 = 225 → qualitative 4500/63 = 71.4286; final 18 + 50 = 68, the same
    # quantitative too: D was submitted first (F3 level 4). D plans 4,545,454 + 454,545 (VAT truncated) =
    # 4,999,999; E plans 4,400,000.
    candidate("APP-D", 60, (80, 75, 70), 4_545_454, minutes=4),
    candidate("APP-E", 60, (80, 75, 70), 4_000_000, minutes=5),
    # F and G: q 50, raws 70·3 = 210 → qualitative 66.6667; final 15 + 46.6667 = 61.6667, submitted in the same
    # instant: the application id decides (our last level). F plans 2,200,000; G 5,000,000.
    candidate("APP-G", 50, (70, 70, 70), 5_000_000, minutes=6),
    candidate("APP-F", 50, (70, 70, 70), 2_000_000, minutes=6),
    # H: q 20, raws 66·3 = 198 → qualitative 3960/63 = 62.8571; final 6 + 44 = 50.0000: exactly the pass mark,
    # so it passes (F2, >= 50). Planned 500,000 + 50,000 = 550,000.
    candidate("APP-H", 20, (66, 66, 66), 500_000, minutes=7),
    # I: q 10, raws 71+70+70 = 211 → qualitative 4220/63 = 66.9841; final 3 + 46.8889 = 49.8889: below the mark
    # although its qualitative beats H's.
    candidate("APP-I", 10, (71, 70, 70), 1_000_000, minutes=8),
]


def test_worked_example_ranking_with_a_tie_broken_at_each_level_of_f3():
    ranking = rank(WORKED, quantitative_weight_percent=30, pass_mark=50)
    table = [(r.rank, r.application_id, str(r.quantitative), str(r.qualitative), str(r.final), r.passed,
              r.tie_broken_by) for r in ranking]
    assert table == [
        (1, "APP-B", "70.0000", "88.5714", "83.0000", True, None),
        (2, "APP-A", "90.0000", "80.0000", "83.0000", True, "qualitative"),
        (3, "APP-C", "85.0000", "78.0952", "80.1667", True, None),
        (4, "APP-D", "60.0000", "71.4286", "68.0000", True, None),
        (5, "APP-E", "60.0000", "71.4286", "68.0000", True, "submission"),
        (6, "APP-F", "50.0000", "66.6667", "61.6667", True, None),
        (7, "APP-G", "50.0000", "66.6667", "61.6667", True, "application id"),
        (8, "APP-H", "20.0000", "62.8571", "50.0000", True, None),
        (9, "APP-I", "10.0000", "66.9841", "49.8889", False, None),
    ]


def test_worked_example_selection_within_a_20_million_budget():
    # Walk (F4): B 5,000,000 → 15,000,000 left; A 4,400,000 → 10,600,000; C 5,000,000 → 5,600,000;
    # D 4,999,999 → 600,001; E 4,400,000 does not fit → waitlisted; F 2,200,000 no; G 5,000,000 no;
    # H 550,000 fits → selected, 50,001 left; I is below the pass mark.
    outcomes = select(rank(WORKED, quantitative_weight_percent=30, pass_mark=50), 20_000_000)
    assert outcomes == {"APP-B": S, "APP-A": S, "APP-C": S, "APP-D": S, "APP-E": W, "APP-F": W, "APP-G": W,
                        "APP-H": S, "APP-I": B}


def test_worked_example_a_give_up_promotes_the_next_that_fits():
    # A gives up: 50,001 + 4,400,000 = 4,450,001 free. Waitlist in rank order: E 4,400,000 fits → selected,
    # 50,001 left; F 2,200,000 and G 5,000,000 do not.
    waitlist = [("APP-E", 4_400_000), ("APP-F", 2_200_000), ("APP-G", 5_000_000)]
    assert promote(waitlist, 50_001 + 4_400_000) == ["APP-E"]
    # C is excluded at the X11 re-check instead: 5,050,001 free → E (4,400,000), then 650,001 fits neither F nor G.
    assert promote(waitlist, 50_001 + 5_000_000) == ["APP-E"]
    # Both A and C leave: 9,450,001 → E, then 5,050,001 → F (2,200,000), then 2,850,001 is short of G.
    assert promote(waitlist, 50_001 + 9_400_000) == ["APP-E", "APP-F"]


def test_the_quantitative_level_of_f3_decides_only_when_the_final_ignores_it():
    # With 0 < weight < 100, equal finals and equal qualitatives force equal quantitatives (F1 is a strict
    # function of both), so F3's third level can never decide for SOS 2024. A program weighing the document
    # score at 0% makes final = qualitative: J (q 80) and K (q 40), both raws 84·3 → qualitative 80 = final,
    # so the quantitative decides: J first, although K was submitted earlier.
    j = candidate("APP-J", 80, (84, 84, 84), 1_000_000, minutes=9)
    k = candidate("APP-K", 40, (84, 84, 84), 1_000_000, minutes=1)
    ranking = rank([k, j], quantitative_weight_percent=0, pass_mark=50)
    assert [(r.application_id, str(r.final), r.tie_broken_by) for r in ranking] == [
        ("APP-J", "80.0000", None), ("APP-K", "80.0000", "quantitative")]


def test_f1_weights_are_program_data():
    assert final_score(90, Fraction(80), 30) == 83
    assert final_score(90, Fraction(80), 50) == 85


# --- properties ---------------------------------------------------------------------------------------------

sheets = st.fixed_dictionaries({i.code: st.sampled_from(i.levels) for i in RUBRIC.items})
candidates = st.lists(
    st.builds(
        lambda q, s, cost, minute: (q, s, cost, minute),
        st.integers(0, 100),
        st.lists(sheets, min_size=3, max_size=5),
        st.sampled_from([500_000, 2_000_000, 4_000_000, 4_545_454, 5_000_000, 6_000_000]),
        st.integers(0, 5),
    ),  # few distinct minutes: ties on submission are common
    min_size=1,
    max_size=14,
)


def _build(specs) -> list[Candidate]:
    return [Candidate(application_id=f"APP-{n:02d}", company_name=f"c{n}", quantitative=q,
                      qualitative=qualitative_score([evaluator_score(s, RUBRIC) for s in sheet_list], minimum=3),
                      planned_subsidy=SOS.support.planned_subsidy(cost), submitted_at=T0 + timedelta(minutes=m))
            for n, (q, sheet_list, cost, m) in enumerate(specs)]


@given(candidates, st.randoms(use_true_random=False))
def test_the_order_is_total_and_the_same_for_any_input_order(specs, rnd):
    built = _build(specs)
    shuffled = built[:]
    rnd.shuffle(shuffled)
    first = rank(built, quantitative_weight_percent=30, pass_mark=50)
    again = rank(shuffled, quantitative_weight_percent=30, pass_mark=50)
    assert [r.application_id for r in first] == [r.application_id for r in again]
    assert [r.rank for r in first] == list(range(1, len(built) + 1))
    for above, below in zip(first, first[1:]):  # F3: never a better candidate below a worse one
        assert (above.final, above.qualitative, above.quantitative) >= (
            below.final,
            below.qualitative,
            below.quantitative,
        )
        if (above.final, above.qualitative, above.quantitative) == (below.final, below.qualitative, below.quantitative):
            assert (above.candidate.submitted_at, above.application_id) < (
                below.candidate.submitted_at,
                below.application_id,
            )


@given(candidates, st.integers(0, 60_000_000))
def test_selection_never_exceeds_the_budget_and_waitlists_only_what_did_not_fit(specs, budget):
    ranking = rank(_build(specs), quantitative_weight_percent=30, pass_mark=50)
    outcomes = select(ranking, budget)
    left = budget
    for r in ranking:
        planned = r.candidate.planned_subsidy
        if not r.passed:
            assert outcomes[r.application_id] is B and r.final < 50
        elif outcomes[r.application_id] is S:
            left -= planned
        else:
            assert outcomes[r.application_id] is W and planned > left  # it did not fit when its turn came
    assert left >= 0


@given(st.lists(st.integers(1, 6_000_000), max_size=12), st.integers(0, 20_000_000))
def test_freed_budget_goes_to_the_best_ranked_waitlisted_application_that_fits(planned, freed):
    waitlist = [(f"APP-{n:02d}", p) for n, p in enumerate(planned)]
    promoted = promote(waitlist, freed)
    fitting = [a for a, p in waitlist if p <= freed]
    assert promoted[:1] == fitting[:1]  # the first promoted is the best-ranked that fits
    assert sum(dict(waitlist)[a] for a in promoted) <= freed
    left = freed - sum(dict(waitlist)[a] for a in promoted)
    assert all(p > left for a, p in waitlist if a not in promoted)  # nothing left behind that would still fit
    assert promoted == [a for a, _ in waitlist if a in promoted]  # in rank order


def test_published_values_are_what_rank():
    # Two candidates whose exact finals differ below the 4th decimal rank by the next level, as the list shows.
    assert publish(Fraction(830000001, 10**7)) == publish(83)


def test_q6_scoring_items_not_checkboxes_changes_the_order():
    """Two companies alike but for their bonus: X holds INNO-BIZ, MAIN-BIZ, NET and NEP (two 별표2 items: 4
    points; counted per checkbox it had 8), Y holds venture, women-owned and good-jobs (three items: 6). Scored
    by item, Y ranks first; counted by checkbox, X did."""
    from evaluation.scoring import document_score
    from sme_schemas.application import PreferenceCertification as C
    from sme_schemas.examples import EXAMPLES
    from sme_schemas.screening import VerifiedFacts

    base = VerifiedFacts.model_validate(EXAMPLES["ScreeningPassed"]["facts"])
    holds = {"APP-X": (C.INNO_BIZ, C.MAIN_BIZ, C.NET, C.NEP), "APP-Y": (C.VENTURE, C.WOMEN_OWNED, C.GOOD_JOBS)}
    scores = {app: document_score(base.model_copy(update={"certifications": certs}), SOS.document_score,
                                  SOS.announcement_date) for app, certs in holds.items()}
    assert scores["APP-Y"].total - scores["APP-X"].total == 2
    per_checkbox = {app: scores[app].uncapped - dict((r, p) for r, p, _ in scores[app].parts)["Q6"] + 2 * len(certs)
                    for app, certs in holds.items()}
    assert per_checkbox["APP-X"] - per_checkbox["APP-Y"] == 2  # the old count put X ahead

    def ranked(quantitative: dict[str, int]) -> list[str]:
        return [r.application_id for r in rank(
            [candidate(app, quantitative[app], (84, 84, 84), 4_000_000, minutes=n) for n, app in enumerate(holds)],
            quantitative_weight_percent=SOS.quantitative_weight_percent, pass_mark=SOS.pass_mark)]

    assert ranked({app: s.total for app, s in scores.items()}) == ["APP-Y", "APP-X"]
    assert ranked({app: min(100, n) for app, n in per_checkbox.items()}) == ["APP-X", "APP-Y"]
