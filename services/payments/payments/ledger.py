"""The funding ledger (L1–L4) and the settlement report (정산). Pure: the store gives the sums, this decides the
entries and the report.

L1 A program's budget is made of shares by source (국비, 도비, 시비, 구비, 기타); without any, the city pays all.
L2 Every amount is split over the sources in whole won that add up to it exactly (largest remainder): an agreed
   amount over the budget shares; a payment or release over what each source still has committed to that
   application; a clawback over what each source paid. So no source ever pays more than it committed.
L3 An application's commitment is its agreed amount from signing; while it runs, what is outstanding follows the
   agreed amount less what was paid. Once the balance is requested (or the agreement ended) only the payments
   still due stay committed: the rest is released to the source.
L4 The settlement per source: budget = paid − clawed back + outstanding + unspent, to the won; and the ledger's
   payments and clawbacks equal the payments recorded (a cross-check of two tables kept apart)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from sme_programs import ProgramDefinition, split_by_weight

KINDS = ("commitment", "release", "payment", "clawback")


@dataclass(frozen=True)
class Position:
    """One application's (or a whole program's) ledger sums, per source and kind."""

    sums: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def of(self, source: str, kind: str) -> int:
        return self.sums.get((source, kind), 0)

    def sources(self) -> list[str]:
        return sorted({source for source, _ in self.sums})

    def outstanding_by_source(self) -> dict[str, int]:
        """Committed and neither released nor paid yet."""
        return {s: self.of(s, "commitment") - self.of(s, "release") - self.of(s, "payment") for s in self.sources()}

    def outstanding(self) -> int:
        return sum(self.outstanding_by_source().values())

    def net_paid_by_source(self) -> dict[str, int]:
        return {s: self.of(s, "payment") - self.of(s, "clawback") for s in self.sources()}


Entries = list[tuple[str, str, int]]  # (source, kind, amount), amounts > 0


def _entries(kind: str, parts: Mapping[str, int]) -> Entries:
    return [(source, kind, amount) for source, amount in parts.items() if amount > 0]


def toward(program: ProgramDefinition, position: Position, target_outstanding: int) -> Entries:
    """L3: the commitments or releases that bring the outstanding amount to `target_outstanding`: a shortfall is
    committed over the budget shares, a surplus released over what each source has outstanding."""
    if target_outstanding < 0:
        raise ValueError("nothing can be owed below zero")
    difference = position.outstanding() - target_outstanding
    if difference > 0:
        return _entries("release", split_by_weight(difference, position.outstanding_by_source()))
    if difference < 0:
        return _entries("commitment", program.commitment_by_source(-difference))
    return []


def paying(program: ProgramDefinition, position: Position, amount: int) -> Entries:
    """L2: a payment out of what is outstanding (committing first whatever it exceeds that by)."""
    entries = toward(program, position, amount) if amount > position.outstanding() else []
    weights = dict(position.outstanding_by_source())
    for source, kind, value in entries:
        weights[source] = weights.get(source, 0) + value
    return entries + _entries("payment", split_by_weight(amount, weights))


def clawing_back(position: Position, amount: int) -> Entries:
    """L2: a recovery split over what each source paid (net of earlier recoveries)."""
    if amount > sum(position.net_paid_by_source().values()):
        raise ValueError(f"{amount:,} KRW is more than was paid")
    return _entries("clawback", split_by_weight(amount, position.net_paid_by_source()))


@dataclass(frozen=True)
class SourceSettlement:
    source: str
    title: str
    budget: int
    committed: int
    released: int
    paid: int
    clawed_back: int

    @property
    def outstanding(self) -> int:
        return self.committed - self.released - self.paid

    @property
    def net_spent(self) -> int:
        return self.paid - self.clawed_back

    @property
    def unspent(self) -> int:
        """What goes back to the source at the settlement if nothing outstanding is paid (반납)."""
        return self.budget - self.net_spent - self.outstanding

    def row(self) -> dict[str, int | str]:
        return {"source": self.source, "title": self.title, "budget": self.budget, "committed": self.committed,
                "released": self.released, "paid": self.paid, "clawed_back": self.clawed_back,
                "net_spent": self.net_spent, "outstanding": self.outstanding, "unspent": self.unspent}


def settlement(program: ProgramDefinition, position: Position, *, paid_recorded: int,
               clawed_back_recorded: int) -> dict:
    """L4: the report per source with its totals and the checks that make it balance; `paid_recorded` and
    `clawed_back_recorded` come from the payments themselves, not the ledger."""
    declared = {f.source: f for f in program.funding_sources()}
    rows = [SourceSettlement(source=s, title=declared[s].title if s in declared else "(not in the budget)",
                             budget=declared[s].amount if s in declared else 0,
                             committed=position.of(s, "commitment"), released=position.of(s, "release"),
                             paid=position.of(s, "payment"), clawed_back=position.of(s, "clawback"))
            for s in [*declared, *(s for s in position.sources() if s not in declared)]]
    total = {key: sum(int(r.row()[key]) for r in rows) for key in
             ("budget", "committed", "released", "paid", "clawed_back", "net_spent", "outstanding", "unspent")}
    problems = []
    if total["paid"] != paid_recorded:
        problems.append(f"paid: the ledger has {total['paid']:,} KRW, the payments {paid_recorded:,} KRW")
    if total["clawed_back"] != clawed_back_recorded:
        problems.append(f"clawed_back: the ledger has {total['clawed_back']:,} KRW, the payments "
                        f"{clawed_back_recorded:,} KRW")
    for r in rows:
        if r.outstanding < 0 or r.unspent < 0 or r.net_spent < 0:
            problems.append(f"{r.source}: a negative position (outstanding {r.outstanding:,}, unspent "
                            f"{r.unspent:,}, net spent {r.net_spent:,})")
    if total["budget"] != program.budget:
        problems.append(f"budget: the sources add up to {total['budget']:,}, the program's is {program.budget:,}")
    return {"program_id": program.program_id, "name": program.name, "sources": [r.row() for r in rows],
            "total": total, "paid_recorded": paid_recorded, "clawed_back_recorded": clawed_back_recorded,
            "balanced": not problems, "problems": problems}
