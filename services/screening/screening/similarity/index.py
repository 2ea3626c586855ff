"""The prior-project index of the duplicate-project lookup (D1–D2): every registry's projects, searchable by
development goal, method and content.

Two stages per query:
1. candidates and their order — BM25 (tantivy) over the content morphemes of each element, each element against
   its own field, the query's elements together: the `CANDIDATES` best, best first. (Searching each element alone
   as well found no source the joint search missed, at a million projects, and cost 70% more time.)
2. readable scores — per element, the cosine (0–1) of the content morphemes weighted by their rarity in the
   corpus (IDF from the index itself); `overall` is the mean over the elements the query gives. These are what an
   operator reads and what the X5 line is drawn on; they do not reorder the candidates. Measured at a million
   projects (50 queries per planted kind): ordering by the cosine found 0.92 of the paraphrases in the top 10 and
   0.96 of the summaries, ordering by BM25 1.00 and 1.00 (a summary shares few of its source's words, which
   the cosine penalises for the source's length; BM25 counts what the query shares). A character 2–3-gram cosine
   (the old own-projects check) lowered paraphrase recall@10 further, 1.00 → 0.94 at 10,000 projects.

The index is a directory: tantivy's immutable segments plus the analyses each project needs for scoring.
Build it from the registries' exports (`python -m screening similarity index`), add their updates
(`python -m screening similarity update`); replicas of the lookup worker open the same directory read-only
(segments are memory-mapped: replicas on one host share the page cache, other hosts get a copy of the directory)
and see each update's commit at their next search."""
from __future__ import annotations

import json
import math
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import tantivy

from screening.similarity.analysis import Analyser, weighted_cosine

ELEMENTS = ("goal", "method", "content")  # D1
CANDIDATES = 200
# The rarest distinct terms of an element that go into its BM25 query: common words have the longest posting
# lists and decide nothing. At a million projects 32 instead of 96 took the search from 224 to 91 ms (p50) with
# the same recall.
MAX_QUERY_TERMS = 32
REQUIRED = ("id", "registry", "title", "company_brn")


class IndexInputError(ValueError):
    """A record of a registry export that cannot be indexed: names the line, the field and the rule."""


@dataclass(frozen=True)
class Match:
    """A prior project and how similar it is: per element and overall (cosines, 0–1, for people and the X5 line)
    and by the search's relevance (BM25, unbounded, comparable only within one query: the order and the crowd)."""

    record: dict
    scores: dict[str, float]
    relevance: float = 0.0

    @property
    def overall(self) -> float:
        return round(sum(self.scores.values()) / len(self.scores), 4) if self.scores else 0.0

    def as_json(self) -> dict:
        return {"id": self.record["id"], "registry": self.record.get("registry"), "title": self.record.get("title"),
                "company_brn": self.record.get("company_brn"), "ceo": self.record.get("ceo"),
                "score": self.overall, "scores": self.scores, "relevance": self.relevance}


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
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


def build(records: Iterable[dict], directory: Path, *, batch: int = 20_000, heap_bytes: int = 256_000_000,
          analyser: Analyser | None = None) -> BuildReport:
    """A new index in `directory` (whatever it held is replaced; the directory itself stays, as it may be a
    volume's mount point) from the records of registry exports."""
    directory.mkdir(parents=True, exist_ok=True)
    for entry in directory.iterdir():
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    index = tantivy.Index(_schema(), path=str(directory))
    return _write(index, records, directory, batch=batch, heap_bytes=heap_bytes, analyser=analyser, replace=False)


def update(records: Iterable[dict], directory: Path, *, batch: int = 20_000, heap_bytes: int = 128_000_000,
           analyser: Analyser | None = None) -> BuildReport:
    """Registry updates into an existing index: a record whose id is indexed replaces it, any other is added.
    One writer at a time (tantivy holds a lock file: a second writer fails instead of corrupting); the workers
    searching the directory see the commit at their next search, without restarting."""
    if not (directory / "meta.json").exists():
        raise FileNotFoundError(f"{directory} is not a prior-project index (build it with "
                                "`python -m screening similarity index --in FILE.jsonl --out DIR`)")
    return _write(tantivy.Index.open(str(directory)), records, directory, batch=batch, heap_bytes=heap_bytes,
                  analyser=analyser, replace=True)


def _write(index: tantivy.Index, records: Iterable[dict], directory: Path, *, batch: int, heap_bytes: int,
           analyser: Analyser | None, replace: bool) -> BuildReport:
    started, report = time.perf_counter(), BuildReport()
    writer = index.writer(heap_size=heap_bytes)
    analyser = analyser or Analyser()
    chunk: list[dict] = []

    def flush() -> None:
        analyser.learn(r.get(e) or "" for r in chunk for e in ELEMENTS)
        for record in chunk:
            if replace:
                writer.delete_documents_by_term("id", record["id"])
            terms = {e: analyser.terms(record.get(e) or "") for e in ELEMENTS}
            writer.add_document(tantivy.Document(
                id=record["id"], company_brn=record["company_brn"],
                **{e: " ".join(terms[e]) for e in ELEMENTS},
                record=json.dumps(record, ensure_ascii=False).encode(),
                terms=json.dumps(terms, ensure_ascii=False).encode()))
        report.projects += len(chunk)
        chunk.clear()

    for record in records:
        chunk.append(record)
        if len(chunk) >= batch:
            flush()
    flush()
    writer.commit()
    writer.wait_merging_threads()
    report.distinct_words = len(analyser)
    report.seconds = time.perf_counter() - started
    report.bytes_on_disk = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    return report


@dataclass
class PriorProjectIndex:
    """An opened index: `search` a plan (any of goal, method, content) for its most similar prior projects."""

    index: tantivy.Index
    directory: Path
    analyser: Analyser = field(default_factory=Analyser)
    _idf: dict[tuple[str, str], float] = field(default_factory=dict)
    _seen: int = 0  # meta.json's mtime (ns) when the searcher and the IDF memo were last brought up to date

    @classmethod
    def open(cls, directory: Path) -> "PriorProjectIndex":
        if not (Path(directory) / "meta.json").exists():
            raise FileNotFoundError(f"{directory} is not a prior-project index (build it with "
                                    "`python -m screening similarity index --in FILE.jsonl --out DIR`)")
        return cls(tantivy.Index.open(str(directory)), Path(directory))

    def __len__(self) -> int:
        return self._current().num_docs

    def reload(self) -> None:
        """See what a writer committed since (registry updates). Every search checks for a commit first (one stat
        of meta.json), so the workers never need a restart."""
        self.index.reload()
        self._idf.clear()  # rarities move with every update

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
        found = {e: self._bm25(searcher, e, t) for e, t in terms.items()}
        queries = {e: q for e, q in found.items() if q is not None}
        if not queries:
            return []
        together = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries.values()])
        candidates = [(score, searcher.doc(address))
                      for score, address in searcher.search(together, CANDIDATES, count=False).hits]
        matches = self._scored(searcher, given, terms, candidates)
        ranked = sorted(matches, key=lambda m: (-m.relevance, m.record["id"]))
        return ranked if top is None else ranked[:top]

    def _bm25(self, searcher: tantivy.Searcher, element: str, terms: list[str]) -> tantivy.Query | None:
        distinct = sorted(set(terms), key=lambda t: -self.idf(searcher, element, t))[:MAX_QUERY_TERMS]
        if not distinct:
            return None
        schema = self.index.schema
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(schema, element, t, index_option="freq"))
             for t in distinct])

    def _scored(self, searcher: tantivy.Searcher, given: dict[str, str], terms: dict[str, list[str]],
                candidates: list[tuple[float, tantivy.Document]]) -> list[Match]:
        mine = {e: self._weighted(searcher, e, Counter(terms[e])) for e in given}
        matches = []
        for relevance, doc in candidates:
            theirs = json.loads(doc["terms"][0])
            scores = {e: round(weighted_cosine(mine[e], self._weighted(searcher, e, Counter(theirs.get(e, [])))), 4)
                      for e in given}
            matches.append(Match(json.loads(doc["record"][0]), scores, round(relevance, 3)))
        return matches

    def _weighted(self, searcher: tantivy.Searcher, element: str, counts: Counter[str]) -> dict[str, float]:
        return {t: c * self.idf(searcher, element, t) for t, c in counts.items()}
