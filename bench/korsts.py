"""The duplicate-project search on real Korean paraphrases: KorSTS train (Ham et al., 2020; CC BY-SA 4.0, © Kakao
Brain; `../shared/data/korsts-train/`), run by `python -m bench.duplicate_search --korsts FILE`.

Every sentence2 is a prior project's development goal (its own company each), every sentence1 of a pair scored
≥ 4.0 a query. A query's source is its pair's sentence2 — or any sentence2 of the same text, or one with the query's
own text, since KorSTS repeats sentences across pairs and a search that puts the verbatim twin first is right
(`recall@1` counts those; `strict` counts the pair's own id only, the issue's first figure).

Printed per arm: BM25 alone (the index opened with dense=False), dense alone (the fused pool ordered by the goals'
cosine), fused (the product); then the product with the pairs hidden among synthetic projects; p50/p99 per query;
and D3 on the pairs scored ≥ 4.5 (should be referred, naming the partner) and ≤ 2.0 (should not be)."""
from __future__ import annotations

import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from bench.bus import percentile
from screening.similarity.dense import Vectors, embed_all, goals_of
from screening.similarity.index import Match, PriorProjectIndex, build, read_jsonl
from screening.similarity.verdict import Applicant, Thresholds, judge

WORK = Path(__file__).resolve().parents[1] / ".local" / "bench-duplicates" / "korsts"
PARAPHRASE, REFER_FROM, NOT_ABOVE = 4.0, 4.5, 2.0


@dataclass(frozen=True)
class Pair:
    number: int
    score: float
    sentence1: str
    sentence2: str

    @property
    def project_id(self) -> str:
        return f"KORSTS-{self.number:05d}"


def read_pairs(path: Path) -> list[Pair]:
    """The pairs of a KorSTS file (genre, filename, year, id, score, sentence1, sentence2; tab-separated)."""
    pairs = []
    with path.open(encoding="utf-8") as lines:
        next(lines)
        for number, line in enumerate(lines):
            columns = line.rstrip("\n").split("\t")
            if len(columns) >= 7:
                pairs.append(Pair(number, float(columns[4]), columns[5], columns[6]))
    return pairs


def prior_projects(pairs: list[Pair]) -> Iterator[dict]:
    for pair in pairs:
        yield {"id": pair.project_id, "registry": "KorSTS", "title": pair.sentence2[:40],
               "company_brn": f"KS{pair.number:08d}", "goal": pair.sentence2}


def _same(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def sources(pairs: list[Pair]) -> Callable[[Pair], set[str]]:
    """A query's right answers: its pair's sentence2 and every sentence2 with that text or the query's own."""
    by_text: defaultdict[str, set[str]] = defaultdict(set)
    for pair in pairs:
        by_text[_same(pair.sentence2)].add(pair.project_id)
    return lambda q: {q.project_id} | by_text[_same(q.sentence2)] | by_text.get(_same(q.sentence1), set())


def recall(rankings: dict[int, list[str]], queries: list[Pair], right: Callable[[Pair], set[str]]) -> dict:
    at1 = sum(bool(r[:1]) and r[0] in right(q) for q, r in ((q, rankings[q.number]) for q in queries))
    at10 = sum(bool(set(rankings[q.number][:10]) & right(q)) for q in queries)
    strict1 = sum(rankings[q.number][:1] == [q.project_id] for q in queries)
    strict10 = sum(q.project_id in rankings[q.number][:10] for q in queries)
    n = len(queries)
    return {"recall@1": at1 / n, "recall@10": at10 / n, "strict@1": strict1 / n, "strict@10": strict10 / n}


def search_all(index: PriorProjectIndex, queries: list[Pair]) -> tuple[dict[int, list[Match]], list[float]]:
    pools, latencies = {}, []
    index.search({"goal": queries[0].sentence1}, top=1)  # models load once
    for query in queries:
        started = time.perf_counter()
        pools[query.number] = index.search({"goal": query.sentence1}, top=None)
        latencies.append((time.perf_counter() - started) * 1000)
    return pools, latencies


def ids(pool: list[Match]) -> list[str]:
    return [m.record["id"] for m in pool]


def by_meaning(pool: list[Match]) -> list[str]:
    return ids(sorted(pool, key=lambda m: (-m.semantic, m.record["id"])))


def each_arm(index: Path, queries: list[Pair], right: Callable[[Pair], set[str]]) -> list[tuple[dict, list[float]]]:
    """Recall and latencies of BM25 alone (the index opened without its dense arm), of the goal vectors alone (the
    fused pool in the order of the goals' cosines; no latency of its own) and of the fusion (the product)."""
    lexical_pools, lexical_ms = search_all(PriorProjectIndex.open(index, dense=False), queries)
    fused_pools, fused_ms = search_all(PriorProjectIndex.open(index), queries)
    return [(recall({n: ids(p) for n, p in lexical_pools.items()}, queries, right), lexical_ms),
            (recall({n: by_meaning(p) for n, p in fused_pools.items()}, queries, right), []),
            (recall({n: ids(p) for n, p in fused_pools.items()}, queries, right), fused_ms)]


def line(name: str, figures: dict, latencies: list[float] | None = None) -> str:
    timing = (f"; p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 99):.1f} ms"
              if latencies else "")
    return (f"  {name:34s} recall@1 {figures['recall@1']:.3f}  recall@10 {figures['recall@10']:.3f}  "
            f"(strict {figures['strict@1']:.3f} / {figures['strict@10']:.3f}){timing}")


def verdicts(index: PriorProjectIndex, pairs: list[Pair], thresholds: Thresholds) -> dict[str, Counter[str]]:
    """D3 on the pairs at both ends of the scale, each query filed by another company than its partner's. The
    partner is its pair's sentence2 or a sentence2 of the same text (KorSTS repeats sentences); a high pair's
    referral naming a sentence2 with the query's own text counts too (a verbatim copy is rightly referred)."""
    outcome: dict[str, Counter[str]] = {"≥ 4.5": Counter(), "≤ 2.0": Counter()}
    twins: defaultdict[str, set[str]] = defaultdict(set)
    for pair in pairs:
        twins[_same(pair.sentence2)].add(pair.project_id)
    right = sources(pairs)
    for pair in pairs:
        band = "≥ 4.5" if pair.score >= REFER_FROM else "≤ 2.0" if pair.score <= NOT_ABOVE else None
        if band is None:
            continue
        judgement = judge(index.search({"goal": pair.sentence1}, top=None), Applicant("9999999999"), thresholds)
        partner = right(pair) if band == "≥ 4.5" else {pair.project_id} | twins[_same(pair.sentence2)]
        named = judgement.match is not None and judgement.match.record["id"] in partner
        outcome[band]["pairs"] += 1
        outcome[band][f"{judgement.verdict.value}{' (partner)' if named else ''}"] += 1
    return outcome


def run_korsts(path: Path, distractors: int, thresholds: Thresholds) -> None:
    pairs = read_pairs(path)
    queries = [p for p in pairs if p.score >= PARAPHRASE]
    right = sources(pairs)
    print(f"KorSTS train: {len(pairs):,} pairs; {len(queries):,} scored ≥ {PARAPHRASE} are the queries (goal only)")
    folder = WORK / "alone"
    vectors = _goal_vectors(pairs, folder / "vectors.npz")
    report = build(prior_projects(pairs), folder / "index", vectors=vectors)
    print(f"index: {report.projects:,} goals, {report.embedded:,} embedded in {report.seconds:.0f}s "
          f"({report.reused_vectors:,} vectors reused)")
    (bm25, lexical_ms), (dense, _), (fused, fused_ms) = each_arm(folder / "index", queries, right)
    print("real pairs alone:")
    print(line("BM25 over Kiwi morphemes alone", bm25, lexical_ms))
    print(line("goal vectors alone (e5-small)", dense))
    print(line("fused (the product)", fused, fused_ms))
    print(f"  what the dense arm adds: recall@1 {fused['recall@1'] - bm25['recall@1']:+.3f}, "
          f"recall@10 {fused['recall@10'] - bm25['recall@10']:+.3f}; the fusion over dense alone: "
          f"{fused['recall@1'] - dense['recall@1']:+.3f} / {fused['recall@10'] - dense['recall@10']:+.3f}")
    print(f"  D3 with {thresholds}:")
    for band, counts in verdicts(PriorProjectIndex.open(folder / "index"), pairs, thresholds).items():
        referred = counts["borderline (partner)"] / max(counts["pairs"], 1)
        print(f"    pairs scored {band}: referred naming the partner {referred:.3f}; {dict(sorted(counts.items()))}")
    if distractors:
        _among_distractors(pairs, queries, right, distractors, fused)


def _among_distractors(pairs: list[Pair], queries: list[Pair], right: Callable[[Pair], set[str]],
                       distractors: int, alone: dict) -> None:
    from bench.duplicate_search import WORK as SYNTHETIC, corpus_and_queries, corpus_vectors

    corpus, _ = corpus_and_queries(distractors, 50, 50, False)
    synthetic = corpus_vectors(distractors)
    if synthetic is None:
        print(f"(no {SYNTHETIC / str(distractors) / 'vectors.npz'}: embed the distractors first with "
              f"`python -m screening similarity embed --in {corpus} --out {SYNTHETIC / str(distractors)}/vectors.npz`)")
        return
    folder = WORK / f"among-{distractors}"
    mine = Vectors.load(WORK / "alone" / "vectors.npz")
    records = (*prior_projects(pairs), *read_jsonl(corpus))
    report = build(iter(records), folder / "index", vectors=Vectors.concat([mine, synthetic]))
    print(f"real pairs among {distractors:,} synthetic projects: index of {report.projects:,} built in "
          f"{report.seconds:.0f}s ({report.embedded:,} goals embedded), {report.bytes_on_disk / 1e6:.0f} MB")
    (bm25, lexical_ms), _, (fused, fused_ms) = each_arm(folder / "index", queries, right)
    print(line("BM25 alone", bm25, lexical_ms))
    print(line("fused (the product)", fused, fused_ms))
    print(f"  fused among distractors minus alone: recall@1 {fused['recall@1'] - alone['recall@1']:+.3f}, "
          f"recall@10 {fused['recall@10'] - alone['recall@10']:+.3f}")


def _goal_vectors(pairs: list[Pair], path: Path) -> Vectors:
    """The sentence2s' vectors, embedded once and kept (the build would embed them too; kept, a second run and the
    distractor index reuse them)."""
    if path.exists():
        return Vectors.load(path)
    vectors = embed_all(goals_of(prior_projects(pairs)))
    vectors.save(path)
    return vectors
