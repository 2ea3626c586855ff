"""`python -m screening similarity index|search`: load a registry export, check plans by hand.

    python -m screening similarity index --in projects.jsonl --out DIR
    python -m screening similarity update --index DIR --in updates.jsonl
    python -m screening similarity search --index DIR --in queries.jsonl [--top 10]

An index line: one JSON object with at least id, registry, title, company_brn and one of goal, method, content
(extra keys are kept and returned). A query line: id and any of goal, method, content (company_brn optional).
Each result line: {"query": id, "matches": [{"id", "registry", "title", "company_brn", "ceo", "score",
"scores": {element: 0–1}, "relevance"}, …]}, most relevant first: `relevance` is the search's BM25 (it orders the
matches, and only compares within one query); `scores` are each element's weighted morpheme cosine and `score`
their mean, the numbers to read (see screening.similarity.index for why these two differ)."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Iterable, Iterator

PROGRESS_EVERY = 10_000


def configure(parser: argparse.ArgumentParser) -> None:
    steps = parser.add_subparsers(dest="step", required=True)
    index = steps.add_parser("index", help="build an index from registry exports (JSONL)")
    index.add_argument("--in", dest="inputs", type=Path, nargs="+", required=True)
    index.add_argument("--out", type=Path, required=True)
    update = steps.add_parser("update", help="add registry updates to an index (a known id replaces its project)")
    update.add_argument("--index", type=Path, required=True)
    update.add_argument("--in", dest="inputs", type=Path, nargs="+", required=True)
    embed = steps.add_parser("embed", help="the goals' vectors of an export, or of one shard of it (any host)")
    embed.add_argument("--in", dest="inputs", type=Path, nargs="+", required=True)
    embed.add_argument("--out", type=Path, required=True, help="the vectors file (.npz) the index build takes")
    embed.add_argument("--shard", type=shard, default=None, help="K/N: only the K-th of N shards (1 ≤ K ≤ N)")
    embed.add_argument("--workers", type=int, default=None, help="processes on this host (default: every core)")
    for step in (index, update):
        step.add_argument("--vectors", type=Path, nargs="*", default=[],
                          help="vectors files made by `embed` (shards); goals none of them has are embedded here")
        step.add_argument("--workers", type=int, default=None, help="embedding processes (default: every core)")
    search = steps.add_parser("search", help="the most similar prior projects of each query line")
    search.add_argument("--index", type=Path, required=True)
    search.add_argument("--in", dest="queries", type=Path, required=True)
    search.add_argument("--top", type=int, default=10)


def shard(text: str) -> tuple[int, int]:
    """K/N (1-based, as people count shards) → (K-1, N)."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard {text!r}: K/N, two whole numbers") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"--shard {text!r}: K must be between 1 and N")
    return k - 1, n


def with_progress(records: Iterable[dict], every: int = PROGRESS_EVERY) -> Iterator[dict]:
    """Loading a national export takes minutes: a line on stderr every `every` projects, so nobody waits on a
    silent terminal (stdout keeps only the report)."""
    started = time.perf_counter()
    for number, record in enumerate(records, 1):
        if number % every == 0:
            rate = number / max(time.perf_counter() - started, 1e-9)
            print(f"similarity: {number:,} projects read and indexed so far ({rate:,.0f}/s)", file=sys.stderr,
                  flush=True)
        yield record


def run(args: argparse.Namespace, _settings=None) -> None:
    from screening.similarity.dense import Vectors, embed_all, goals_of
    from screening.similarity.index import IndexInputError, PriorProjectIndex, build, read_jsonl, update

    try:
        if args.step == "embed":
            started = time.perf_counter()
            items = goals_of((r for path in args.inputs for r in read_jsonl(path)), shard=args.shard)
            vectors = embed_all(items, workers=args.workers)
            vectors.save(args.out)
            print(json.dumps({"goals": len(vectors), "seconds": round(time.perf_counter() - started, 1),
                              "bytes": args.out.stat().st_size}))
            return
        if args.step in ("index", "update"):
            records = with_progress(r for path in args.inputs for r in read_jsonl(path))
            given = Vectors.concat(Vectors.load(p) for p in args.vectors)
            report = (build(records, args.out, vectors=given, workers=args.workers) if args.step == "index"
                      else update(records, args.index, vectors=given, workers=args.workers))
            print(json.dumps({"projects": report.projects, "distinct_words": report.distinct_words,
                              "embedded": report.embedded, "reused_vectors": report.reused_vectors,
                              "seconds": round(report.seconds, 1), "bytes": report.bytes_on_disk}))
            return
        index = PriorProjectIndex.open(args.index)
        with args.queries.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                query = json.loads(line)
                if not isinstance(query, dict) or not isinstance(query.get("id"), str):
                    raise IndexInputError(f"line {number}: id is required (a string)")
                matches = index.search(query, top=args.top)
                print(json.dumps({"query": query["id"], "matches": [m.as_json() for m in matches]},
                                 ensure_ascii=False))
    except (IndexInputError, FileNotFoundError, json.JSONDecodeError) as exc:
        print(f"similarity {args.step}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
