"""The prior-project index of the duplicate-project lookup (D1–D2): every registry's projects, searchable by
development goal, method and content.

Two stages per query:
1. candidates and their order — BM25 (tantivy) over the content morphemes of each element, each element against
   its own field, the query's elements together: the `CANDIDATES` best, best first. (Searching each element alone
   as well found no source the joint search missed, at a million projects, and cost 70% more time.)
2. readable scores — per element, the cosine (0–1) of the content morphemes weighted by their rarity in the
   corpus (IDF from the index itself); `overall` is the mean over the elements the query gives. These are what an
   operator reads and what the X5 line is drawn on; they do not reorder the candidates, so each candidate's are
   worked out when first read (`ReadableScores`): a verdict reads the first `CROWD_RANK` of 200–400. Measured
   at a million projects (50 queries per planted kind): ordering by the cosine found 0.92 of the paraphrases in
   the top 10 and 0.96 of the summaries, ordering by BM25 1.00 and 1.00 (a summary shares few of its source's
   words, which the cosine penalises for the source's length; BM25 counts what the query shares). A character
   2–3-gram cosine (the old own-projects check) lowered paraphrase recall@10 further, 1.00 → 0.94 at 10,000
   projects.

The index is a directory: tantivy's immutable segments plus the analyses each project needs for scoring.
Build it from the registries' exports (`python -m screening similarity index`), add their updates
(`python -m screening similarity update`); replicas of the lookup worker open the same directory read-only
(segments are memory-mapped: replicas on one host share the page cache, other hosts get a copy of the directory)
and see each update's commit at their next search.

A second arm finds what shares meaning but few words (real people's rewording): each project's development goal as
a sentence vector (screening.similarity.dense) in an HNSW index under `dense/`. Its `DENSE_CANDIDATES` nearest
goals join BM25's candidates; every candidate gets both its BM25 rank and its goal's cosine to the plan's
(`semantic`, 0–1), and the order is their reciprocal-rank fusion (`FUSION_K`; the dense arm weighted by what the
plan gives: its goal alone, or several elements that BM25 reads and the vector does not). Tuned on KorSTS train
(real Korean paraphrases, goal only, 1,406 queries): BM25 alone recall@1/@10 0.818/0.952, dense alone 0.848/0.974,
fused 0.853/0.975 (each identical-text twin counted as the source; see bench.duplicate_search). An index built
without vectors (`dense=False`) searches by BM25 alone, as before."""
from __future__ import annotations

import json
import math
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np
import tantivy

from screening.similarity import dense as dense_arm
from screening.similarity.analysis import Analyser, weighted_cosine
from screening.similarity.dense import Vectors

ELEMENTS = ("goal", "method", "content")  # D1
CANDIDATES = 200
# The rarest distinct terms of an element that go into its BM25 query: common words have the longest posting
# lists and decide nothing. At a million projects 32 instead of 96 took the search from 224 to 91 ms (p50) with
# the same recall.
MAX_QUERY_TERMS = 32
REQUIRED = ("id", "registry", "title", "company_brn")
DENSE_CANDIDATES = 200
FUSION_K = 5  # reciprocal rank fusion: 1 / (K + rank); a small K lets the first ranks of each arm decide
# The dense arm's votes against BM25's. A plan that gives its goal alone: twice BM25's (KorSTS train, recall@1
# 0.841 → 0.853 over 1:1). A plan that gives several elements: a quarter, since BM25 reads all of them and the vector
# the goal only (synthetic development set, 3,000 projects: summaries first 12 of 12 at 0.25, 10 at 1, 5 at 2).
DENSE_WEIGHT_GOAL_ONLY = 2.0
DENSE_WEIGHT_SEVERAL_ELEMENTS = 0.25
DENSE_DIRECTORY = "dense"
DENSE_FILE = "goals.usearch"
HASHES_FILE = "goals.hashes.npz"


class IndexInputError(ValueError):
    """A record of a registry export that cannot be indexed: names the line, the field and the rule."""


class ReadableScores(Mapping[str, float]):
    """One candidate's per-element cosines, worked out on first read. The order and the D3 crowd need only BM25's
    relevance and the goals' cosine; a verdict reads the scores of its first ranks (verdict.CROWD_RANK) or, without
    a crowd, of the few candidates there are. Scoring all 200–400 candidates of a national search up front was 47%
    of the duplicate-projects worker's CPU (issue 30, py-spy)."""

    __slots__ = ("_work", "_scores")

    def __init__(self, work: Callable[[], dict[str, float]]) -> None:
        self._work: Callable[[], dict[str, float]] | None = work
        self._scores: dict[str, float] | None = None

    def _read(self) -> dict[str, float]:
        if self._scores is None:
            assert self._work is not None
            self._scores, self._work = self._work(), None
        return self._scores

    def __getitem__(self, element: str) -> float:
        return self._read()[element]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def __repr__(self) -> str:
        return repr(self._read())


@dataclass(frozen=True)
class Match:
    """A prior project and how similar it is: per element and overall (cosines, 0–1, for people and the X5 line)
    and by the search's relevance (BM25, unbounded, comparable only within one query: the order and the crowd)."""

    record: dict
    scores: Mapping[str, float]
    relevance: float = 0.0
    semantic: float = 0.0  # the cosine of the goals' sentence vectors (0 when the index has no dense arm)

    @property
    def overall(self) -> float:
        return round(sum(self.scores.values()) / len(self.scores), 4) if self.scores else 0.0

    def as_json(self) -> dict:
        return {"id": self.record["id"], "registry": self.record.get("registry"), "title": self.record.get("title"),
                "company_brn": self.record.get("company_brn"), "ceo": self.record.get("ceo"),
                "score": self.overall, "scores": dict(self.scores), "relevance": self.relevance,
                "semantic": self.semantic}


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_unsigned_field("key", indexed=True, stored=True)  # the project's key in the dense arm (dense.key_of)
    builder.add_text_field("company_brn", tokenizer_name="raw")
    for element in ELEMENTS:
        builder.add_text_field(element, tokenizer_name="whitespace", index_option="freq")
    builder.add_bytes_field("record", stored=True)  # the export's line, as given (extra keys kept)
    builder.add_bytes_field("terms", stored=True)  # the elements' morphemes, for re-ranking without Kiwi
    return builder.build()


def validate_record(record: object, line: int) -> dict:
    if not isinstance(record, dict):
        raise IndexInputError(f"line {line}: a record is a JSON object")
    for key in REQUIRED:
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise IndexInputError(f"line {line}: {key} is required (a non-empty string)")
    for element in ELEMENTS:
        if record.get(element) is not None and not isinstance(record[element], str):
            raise IndexInputError(f"line {line}: {element} must be text")
    if not any(isinstance(record.get(e), str) and record[e].strip() for e in ELEMENTS):
        raise IndexInputError(f"line {line}: goal, method or content is required (D1)")
    if any("\x00" in str(v) for v in record.values()):
        raise IndexInputError(f"line {line}: NUL characters are not text")
    return record


def read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield validate_record(json.loads(line), number)
                except json.JSONDecodeError as exc:
                    raise IndexInputError(f"line {number}: not JSON ({exc.msg})") from None


@dataclass
class BuildReport:
    projects: int = 0
    distinct_words: int = 0
    seconds: float = 0.0
    bytes_on_disk: int = 0
    embedded: int = 0  # goals embedded by this build or update
    reused_vectors: int = 0  # goals whose vector came from a shard's file or the index, unchanged


def build(records: Iterable[dict], directory: Path, *, batch: int = 20_000, heap_bytes: int = 256_000_000,
          analyser: Analyser | None = None, dense: bool = True, vectors: Vectors | None = None,
          workers: int | None = None) -> BuildReport:
    """A new index in `directory` (whatever it held is replaced; the directory itself stays, as it may be a
    volume's mount point) from the records of registry exports. With `dense` every goal gets its vector: from
    `vectors` (made by `embed` jobs, per shard) where the text is the same, embedded here by `workers` processes
    otherwise."""
    directory.mkdir(parents=True, exist_ok=True)
    for entry in directory.iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    index = tantivy.Index(_schema(), path=str(directory))
    return _write(index, records, directory, batch=batch, heap_bytes=heap_bytes, analyser=analyser, replace=False,
                  dense=dense, vectors=vectors, workers=workers)


def update(records: Iterable[dict], directory: Path, *, batch: int = 20_000, heap_bytes: int = 128_000_000,
           analyser: Analyser | None = None, vectors: Vectors | None = None,
           workers: int | None = None) -> BuildReport:
    """Registry updates into an existing index: a record whose id is indexed replaces it, any other is added.
    Only a new or changed goal is embedded (an unchanged one keeps its vector). One writer at a time (tantivy
    holds a lock file: a second writer fails instead of corrupting); the workers searching the directory see the
    commit at their next search, without restarting."""
    if not (directory / "meta.json").exists():
        raise FileNotFoundError(f"{directory} is not a prior-project index (build it with "
                                "`python -m screening similarity index --in FILE.jsonl --out DIR`)")
    return _write(tantivy.Index.open(str(directory)), records, directory, batch=batch, heap_bytes=heap_bytes,
                  analyser=analyser, replace=True, dense=(directory / DENSE_DIRECTORY).is_dir(), vectors=vectors,
                  workers=workers)


def _write(index: tantivy.Index, records: Iterable[dict], directory: Path, *, batch: int, heap_bytes: int,
           analyser: Analyser | None, replace: bool, dense: bool, vectors: Vectors | None,
           workers: int | None) -> BuildReport:
    started, report = time.perf_counter(), BuildReport()
    writer = index.writer(heap_size=heap_bytes)
    analyser = analyser or Analyser()
    chunk: list[dict] = []
    goals: dict[str, str] = {}  # project id → the text of its vector (the last record of an id wins)

    def flush() -> None:
        analyser.learn(r.get(e) or "" for r in chunk for e in ELEMENTS)
        for record in chunk:
            if replace:
                writer.delete_documents_by_term("id", record["id"])
            terms = {e: analyser.terms(record.get(e) or "") for e in ELEMENTS}
            document = tantivy.Document(
                id=record["id"], company_brn=record["company_brn"], **{e: " ".join(terms[e]) for e in ELEMENTS},
                record=json.dumps(record, ensure_ascii=False).encode(),
                terms=json.dumps(terms, ensure_ascii=False).encode())
            document.add_unsigned("key", dense_arm.key_of(record["id"]))
            writer.add_document(document)
            text = dense_arm.dense_text(record)
            if dense and text is not None:
                goals[record["id"]] = text
        report.projects += len(chunk)
        chunk.clear()

    for record in records:
        chunk.append(record)
        if len(chunk) >= batch:
            flush()
    flush()
    if dense:
        # The vectors are in place before the commit that makes the projects visible: a search that sees the
        # new projects sees their goals too.
        _write_dense(directory / DENSE_DIRECTORY, goals, vectors, workers, replace, report)
    writer.commit()
    writer.wait_merging_threads()
    report.distinct_words = len(analyser)
    report.seconds = time.perf_counter() - started
    report.bytes_on_disk = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    return report


def _write_dense(folder: Path, goals: dict[str, str], given: Vectors | None, workers: int | None, replace: bool,
                 report: BuildReport) -> None:
    from usearch.index import Index

    folder.mkdir(exist_ok=True)
    known = _stored_hashes(folder) if replace else {}
    vectors = Index(ndim=dense_arm.DIMENSIONS, metric="cos", dtype="f16")
    if replace and (folder / DENSE_FILE).exists():
        vectors.load(str(folder / DENSE_FILE))
    offered = {pid: n for n, pid in enumerate(given.ids)} if given is not None else {}
    fresh: list[tuple[str, str]] = []
    kept: list[int] = []  # rows of `given` made of the same text
    for pid, text in goals.items():
        digest = dense_arm.text_hash(text)
        if known.get(dense_arm.key_of(pid)) == digest:
            report.reused_vectors += 1
            continue  # unchanged: its vector stays as it is
        row = offered.get(pid)
        if given is not None and row is not None and given.hashes[row] == digest:
            kept.append(row)
        else:
            fresh.append((pid, text))
    embedded = dense_arm.embed_all(fresh, workers=workers, progress=len(fresh) >= 1_000)
    report.embedded, report.reused_vectors = len(embedded), report.reused_vectors + len(kept)
    added = Vectors.concat([given.take(kept), embedded]) if given is not None else embedded
    if len(added):
        keys = np.array([dense_arm.key_of(pid) for pid in added.ids], dtype=np.uint64)
        replaced = [k for k in keys if vectors.contains(int(k))]
        if replaced:
            vectors.remove(np.array(replaced, dtype=np.uint64))
        vectors.add(keys, added.vectors)
        known.update(zip((int(k) for k in keys), added.hashes))
    temporary = folder / (DENSE_FILE + ".part")
    vectors.save(str(temporary))
    _save_hashes(folder, known)
    temporary.replace(folder / DENSE_FILE)  # replicas holding the old file mapped keep reading it until reload


def _stored_hashes(folder: Path) -> dict[int, str]:
    path = folder / HASHES_FILE
    if not path.exists():
        return {}
    with np.load(path, allow_pickle=True) as data:
        return dict(zip((int(k) for k in data["keys"]), data["hashes"]))


def _save_hashes(folder: Path, hashes: dict[int, str]) -> None:
    temporary = folder / (HASHES_FILE + ".part")
    with temporary.open("wb") as out:
        np.savez(out, keys=np.array(list(hashes), dtype=np.uint64),
                 hashes=np.array(list(hashes.values()), dtype=object))
    temporary.replace(folder / HASHES_FILE)


@dataclass
class PriorProjectIndex:
    """An opened index: `search` a plan (any of goal, method, content) for its most similar prior projects."""

    index: tantivy.Index
    directory: Path
    analyser: Analyser = field(default_factory=Analyser)
    dense: bool = True  # search with the dense arm where the index has one (False: BM25 alone, to compare)
    _idf: dict[tuple[str, str], float] = field(default_factory=dict)
    _seen: int = 0  # meta.json's mtime (ns) when the searcher and the IDF memo were last brought up to date
    _vectors: Any = None  # the goals' HNSW index, memory-mapped (None: no dense arm)

    @classmethod
    def open(cls, directory: Path, *, dense: bool = True) -> "PriorProjectIndex":
        if not (Path(directory) / "meta.json").exists():
            raise FileNotFoundError(f"{directory} is not a prior-project index (build it with "
                                    "`python -m screening similarity index --in FILE.jsonl --out DIR`)")
        return cls(tantivy.Index.open(str(directory)), Path(directory), dense=dense)

    def __len__(self) -> int:
        return self._current().num_docs

    @property
    def has_dense_arm(self) -> bool:
        self._current()
        return self._vectors is not None

    def reload(self) -> None:
        """See what a writer committed since (registry updates). Every search checks for a commit first (one stat
        of meta.json), so the workers never need a restart."""
        self.index.reload()
        self._idf.clear()  # rarities move with every update
        path = self.directory / DENSE_DIRECTORY / DENSE_FILE
        if self.dense and path.exists():
            from usearch.index import Index

            self._vectors = Index.restore(str(path), view=True)
        else:
            self._vectors = None

    def _current(self) -> tantivy.Searcher:
        committed = (self.directory / "meta.json").stat().st_mtime_ns
        if committed != self._seen:
            self.reload()
            self._seen = committed
        return self.index.searcher()

    def idf(self, searcher: tantivy.Searcher, element: str, term: str) -> float:
        key = (element, term)
        if key not in self._idf:
            frequency = searcher.doc_freq(element, term)
            self._idf[key] = math.log((1 + searcher.num_docs) / (1 + frequency)) + 1
        return self._idf[key]

    def search(self, plan: dict[str, str], *, top: int | None = 10) -> list[Match]:
        """The `top` prior projects most relevant to the plan, best first (ties: by id, so runs agree); None: every
        candidate (the crowd the D3 verdict measures a match against)."""
        given = {e: plan[e] for e in ELEMENTS if isinstance(plan.get(e), str) and plan[e].strip()}
        if not given:
            return []
        searcher = self._current()
        terms = {e: self.analyser.terms(text) for e, text in given.items()}
        lexical = self._lexical(searcher, terms)
        cosines: dict[int, float] = {}
        if self._vectors is not None:
            lexical, cosines = self._with_dense_arm(searcher, given, lexical)
        matches = self._scored(searcher, given, terms, lexical, cosines)
        weight = DENSE_WEIGHT_GOAL_ONLY if len(given) == 1 else DENSE_WEIGHT_SEVERAL_ELEMENTS
        ranked = (_fused(matches, weight) if cosines
                  else sorted(matches, key=lambda m: (-m.relevance, m.record["id"])))
        return ranked if top is None else ranked[:top]

    def _lexical(self, searcher: tantivy.Searcher, terms: dict[str, list[str]]) -> list[tuple[float, Any]]:
        found = {e: self._bm25(searcher, e, t) for e, t in terms.items()}
        queries = [q for q in found.values() if q is not None]
        if not queries:
            return []
        together = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])
        return [(score, searcher.doc(address))
                for score, address in searcher.search(together, CANDIDATES, count=False).hits]

    def _with_dense_arm(self, searcher: tantivy.Searcher, given: dict[str, str],
                        lexical: list[tuple[float, Any]]) -> tuple[list[tuple[float, Any]], dict[int, float]]:
        """BM25's candidates joined by the nearest goals' projects (relevance 0: BM25 did not find them), and the
        cosine of every candidate's goal to the plan's."""
        text = dense_arm.dense_text(given)
        if text is None:
            return lexical, {}
        query = dense_arm.embed_query(text)
        nearest = self._vectors.search(query, DENSE_CANDIDATES, threads=1)  # one query: no thread pool to wake
        cosines = {int(k): 1.0 - float(d) for k, d in zip(nearest.keys, nearest.distances)}
        have = {int(doc["key"][0]) for _, doc in lexical}
        missing = [k for k in cosines if k not in have]
        if missing:
            by_key = tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, tantivy.Query.term_query(self.index.schema, "key", k)) for k in missing])
            lexical = lexical + [(0.0, searcher.doc(address))
                                 for _, address in searcher.search(by_key, len(missing), count=False).hits]
        unscored = np.array([k for k in have if k not in cosines], dtype=np.uint64)
        if len(unscored):
            stored = self._vectors.get(unscored)
            for key, vector in zip(unscored, stored):
                if vector is not None:
                    v = np.asarray(vector, dtype=np.float32)
                    cosines[int(key)] = float(v @ query / (np.linalg.norm(v) * np.linalg.norm(query) or 1.0))
        return lexical, cosines

    def _bm25(self, searcher: tantivy.Searcher, element: str, terms: list[str]) -> tantivy.Query | None:
        distinct = query_terms(terms, lambda t: self.idf(searcher, element, t))
        if not distinct:
            return None
        schema = self.index.schema
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(schema, element, t, index_option="freq"))
             for t in distinct])

    def _scored(self, searcher: tantivy.Searcher, given: dict[str, str], terms: dict[str, list[str]],
                candidates: list[tuple[float, Any]], cosines: dict[int, float]) -> list[Match]:
        mine = {e: self._weighted(searcher, e, Counter(terms[e])) for e in given}

        def readable(stored_terms: bytes) -> ReadableScores:
            def work() -> dict[str, float]:
                theirs = json.loads(stored_terms)
                return {e: round(weighted_cosine(mine[e], self._weighted(searcher, e, Counter(theirs.get(e, [])))),
                                 4) for e in given}
            return ReadableScores(work)

        matches = []
        for relevance, doc in candidates:
            semantic = cosines.get(int(doc["key"][0]), 0.0) if doc["key"] else 0.0
            matches.append(Match(json.loads(doc["record"][0]), readable(doc["terms"][0]), round(relevance, 3),
                                 round(max(0.0, min(1.0, semantic)), 4)))
        return matches

    def _weighted(self, searcher: tantivy.Searcher, element: str, counts: Counter[str]) -> dict[str, float]:
        return {t: c * self.idf(searcher, element, t) for t, c in counts.items()}


def query_terms(terms: Iterable[str], rarity: Callable[[str], float]) -> list[str]:
    """The `MAX_QUERY_TERMS` rarest distinct terms, ties broken by the term: every replica, whatever its hash seed,
    sends the same plan the same query, so an application's crowd and σ do not depend on which worker read it."""
    return sorted(set(terms), key=lambda t: (-rarity(t), t))[:MAX_QUERY_TERMS]


def _fused(matches: list[Match], dense_weight: float) -> list[Match]:
    """Reciprocal rank fusion of the two arms: BM25's order (what it found) and the goals' cosines."""
    by_id = lambda m: m.record["id"]  # noqa: E731 - ties by id, so runs agree
    lexical = sorted((m for m in matches if m.relevance > 0), key=lambda m: (-m.relevance, by_id(m)))
    semantic = sorted((m for m in matches if m.semantic > 0), key=lambda m: (-m.semantic, by_id(m)))
    votes: dict[str, float] = {}
    for weight, ranking in ((1.0, lexical), (dense_weight, semantic)):
        for rank, m in enumerate(ranking):
            votes[by_id(m)] = votes.get(by_id(m), 0.0) + weight / (FUSION_K + rank + 1)
    return sorted(matches, key=lambda m: (-votes.get(by_id(m), 0.0), by_id(m)))
