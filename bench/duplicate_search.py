"""Benchmark (not a test): the national duplicate-project search beside PostgreSQL pg_trgm on the same corpus and
the same queries.

    bash deploy/local/up.sh && .venv/bin/python -m bench.duplicate_search --projects 100000 [--holdout] [--no-pg]
    .venv/bin/python -m bench.duplicate_search --korsts ../shared/data/korsts-train/sts-train.tsv [--distractors 100000]

Generates (or reuses, in .local/bench-duplicates/) a synthetic corpus with planted duplicates
(deploy.registry.projects), builds the prior-project index, and prints: build time and size; query p50/p99 per
application (all three elements); recall@1 and recall@10 per planted kind; the D3 verdicts per kind (duplicate /
refer / pass; a fresh plan should pass). Then the same with pg_trgm (GIN trigram indexes on goal, method and
content, the `%` operator and `similarity()`, what a typical team would reach for), and the ratios.

`--korsts` measures on real Korean paraphrases instead (bench.korsts: KorSTS train, CC BY-SA 4.0): every sentence2
indexed as a prior project's goal, each sentence1 of a pair scored ≥ 4.0 searched; recall@1/@10 per arm (BM25
alone, dense alone, fused: the product), then the same pairs hidden among `--distractors` synthetic projects, p50/p99
per query, and the D3 verdicts of the pairs scored ≥ 4.5 (should be referred) and ≤ 2.0 (should not).

The synthetic side searches with both arms when the corpus's vectors exist (`.local/bench-duplicates/N/vectors.npz`,
made by `python -m screening similarity embed --in corpus.jsonl --out vectors.npz`: 100,000 goals take about an
hour on two cores); without them, BM25 alone, and says so."""
from __future__ import annotations

import argparse
import asyncio
import pickle
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

import asyncpg

from bench.bus import dsn, percentile
from deploy.local.procs import ROOT
from deploy.registry.projects import KINDS, planted_queries, write_corpus
from sme_programs import ProgramDefinition
from screening.similarity.dense import Vectors
from screening.similarity.index import ELEMENTS, PriorProjectIndex, build, read_jsonl
from screening.similarity.verdict import Applicant, Thresholds, judge

WORK = ROOT / ".local" / "bench-duplicates"
PROGRAM = ProgramDefinition.load(ROOT / "deploy" / "programs" / "gimpo-sos-2024.json")
THRESHOLDS = Thresholds(PROGRAM.duplicate_threshold, PROGRAM.borderline_threshold, PROGRAM.national_outlier_z,
                        PROGRAM.national_semantic_threshold, PROGRAM.national_semantic_z)
PG_TIMEOUT_SECONDS = 30


def corpus_and_queries(projects: int, per_kind: int, fresh: int, holdout: bool) -> tuple[Path, list[dict]]:
    folder = WORK / f"{projects}"
    folder.mkdir(parents=True, exist_ok=True)
    corpus, kept_file = folder / "corpus.jsonl", folder / "sources.pickle"
    if not corpus.exists() or not kept_file.exists():
        started = time.perf_counter()
        kept = write_corpus(corpus, projects, seed=7, keep_sources=per_kind * 8)
        kept_file.write_bytes(pickle.dumps(kept))  # the projects queries are planted from, with their plans
        print(f"corpus: {projects:,} projects generated in {time.perf_counter() - started:.0f}s")
    kept = pickle.loads(kept_file.read_bytes())
    queries = planted_queries(kept, per_kind=per_kind, seed=1_000_008 if holdout else 8, fresh=fresh)
    return corpus, queries


def hits(query: dict, ranking: list[str]) -> tuple[bool, bool]:
    """Whether a planted query's source is first, and whether it is among the first 10."""
    return ranking[:1] == [query["expected"]], query["expected"] in ranking[:10]


def report(name: str, latencies: list[float], found: dict[str, list[tuple[bool, bool]]]) -> dict[str, float]:
    print(f"{name}: query per application p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {percentile(latencies, 99):.1f} ms")
    recall10 = {}
    for kind in KINDS:
        pairs = found.get(kind, [])
        if pairs:
            at1 = sum(a for a, _ in pairs) / len(pairs)
            recall10[kind] = sum(b for _, b in pairs) / len(pairs)
            print(f"  {kind:12s} recall@1 {at1:.2f}  recall@10 {recall10[kind]:.2f}  ({len(pairs)} queries)")
    return recall10


def corpus_vectors(projects: int) -> Vectors | None:
    path = WORK / f"{projects}" / "vectors.npz"
    return Vectors.load(path) if path.exists() else None


def run_index(corpus: Path, queries: list[dict], projects: int, *, reuse: bool) -> tuple[list[float], dict[str, float]]:
    folder = WORK / f"{projects}" / "index"
    if reuse and (folder / "meta.json").exists():
        print(f"index: reusing {folder}")
    else:
        vectors = corpus_vectors(projects)
        report_ = build(read_jsonl(corpus), folder, dense=vectors is not None, vectors=vectors)
        print(f"index: {report_.projects:,} projects built in {report_.seconds:.1f}s, "
              f"{report_.bytes_on_disk / 1e6:.0f} MB on disk, {report_.distinct_words:,} distinct words analysed, "
              + (f"{report_.reused_vectors:,} goals' vectors from {WORK / str(projects) / 'vectors.npz'}"
                 if vectors is not None else "no vectors file: BM25 alone"))
    index = PriorProjectIndex.open(folder)
    index.search(queries[0], top=10)  # the analyser's model loads once
    latencies: list[float] = []
    found: defaultdict[str, list] = defaultdict(list)
    verdicts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for query in queries:
        started = time.perf_counter()
        pool = index.search(query, top=None)
        judgement = judge(pool, Applicant(query["company_brn"], query.get("ceo")), THRESHOLDS)
        latencies.append((time.perf_counter() - started) * 1000)
        ids = [m.record["id"] for m in pool[:10]]
        if query["expected"]:
            found[query["kind"]].append(hits(query, ids))
        whose = "fresh" if not query["expected"] else "own" if judgement.own else "other"
        verdicts[query["kind"]][f"{whose}→{judgement.verdict.value}"] += 1
    arms = "BM25 and goal vectors fused" if index.has_dense_arm else "BM25 alone"
    recall = report(
        f"prior-project index ({arms}; tantivy BM25 over Kiwi morphemes, with per-element cosines)", latencies, found
    )
    print(f"  D3 verdicts ({THRESHOLDS}; half the copies are the applicant's own: near-identical → duplicate, "
          "the rest → refer; fresh → pass):")
    for kind in (*KINDS, "fresh"):
        print(f"    {kind:12s} {dict(sorted(verdicts[kind].items()))}")
    return latencies, recall


async def run_pg_trgm(corpus: Path, queries: list[dict]) -> tuple[list[float], dict[str, float]]:
    conn = await asyncpg.connect(dsn("screening"))
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm; DROP TABLE IF EXISTS bench_prior_projects; "
                           "CREATE TABLE bench_prior_projects (id text PRIMARY KEY, goal text, method text, "
                           "content text)")
        started = time.perf_counter()
        rows = [(r["id"], r.get("goal") or "", r.get("method") or "", r.get("content") or "")
                for r in read_jsonl(corpus)]
        await conn.copy_records_to_table("bench_prior_projects", records=rows)
        del rows
        for element in ELEMENTS:
            await conn.execute(f"CREATE INDEX ON bench_prior_projects USING gin ({element} gin_trgm_ops)")
        size = await conn.fetchval("SELECT pg_total_relation_size('bench_prior_projects')")
        print(f"pg_trgm: loaded and GIN-indexed in {time.perf_counter() - started:.1f}s, {size / 1e6:.0f} MB")
        await conn.execute(f"SET statement_timeout = '{PG_TIMEOUT_SECONDS}s'")
        latencies, found, timeouts = [], defaultdict(list), 0
        sql = ("SELECT id FROM bench_prior_projects WHERE goal % $1 OR method % $2 OR content % $3 "
               "ORDER BY similarity(goal, $1) + similarity(method, $2) + similarity(content, $3) DESC LIMIT 10")
        for query in queries:
            started = time.perf_counter()
            try:
                ids = [r["id"] for r in await conn.fetch(sql, query["goal"], query["method"], query["content"])]
            except asyncpg.QueryCanceledError:
                ids, timeouts = [], timeouts + 1
            latencies.append((time.perf_counter() - started) * 1000)
            if query["expected"]:
                found[query["kind"]].append(hits(query, ids))
        recall = report(f"pg_trgm (GIN, % and similarity(); {timeouts} queries over {PG_TIMEOUT_SECONDS}s)",
                        latencies, found)
        await conn.execute("DROP TABLE bench_prior_projects")
        return latencies, recall
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--per-kind", type=int, default=50)
    parser.add_argument("--fresh", type=int, default=50)
    parser.add_argument("--holdout", action="store_true", help="the held-out queries (another seed)")
    parser.add_argument("--no-pg", action="store_true", help="skip the pg_trgm side")
    parser.add_argument("--reuse-index", action="store_true", help="search the index the last run built")
    parser.add_argument("--pg-per-kind", type=int, default=10,
                        help="queries per kind on the pg_trgm side (each takes seconds at 100,000 projects)")
    parser.add_argument("--korsts", type=Path, help="KorSTS sts-train.tsv: measure on real paraphrases instead")
    parser.add_argument("--distractors", type=int, default=100_000,
                        help="with --korsts: synthetic projects the pairs are hidden among (0: none)")
    args = parser.parse_args()
    if args.korsts:
        from bench.korsts import run_korsts

        run_korsts(args.korsts, args.distractors, THRESHOLDS)
        return
    corpus, queries = corpus_and_queries(args.projects, args.per_kind, args.fresh, args.holdout)
    print(f"queries: {len(queries)} ({args.per_kind} per planted kind, {args.fresh} fresh plans), "
          f"{'held-out' if args.holdout else 'development'} set")
    ours, our_recall = run_index(corpus, queries, args.projects, reuse=args.reuse_index)
    if args.no_pg:
        return
    sample = [q for kind in (*KINDS, "fresh") for q in [q for q in queries if q["kind"] == kind][:args.pg_per_kind]]
    theirs, their_recall = asyncio.run(run_pg_trgm(corpus, sample))
    print(f"ratio p99 latency index / pg_trgm: {percentile(ours, 99) / percentile(theirs, 99):.3f}; "
          f"p50: {statistics.median(ours) / statistics.median(theirs):.3f}")
    print("recall@10 index vs pg_trgm: " + ", ".join(
        f"{k} {our_recall.get(k, 0):.2f}/{their_recall.get(k, 0):.2f}" for k in KINDS))


if __name__ == "__main__":
    main()
