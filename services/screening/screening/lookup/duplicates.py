"""Duplicate-project check (D1–D3): each of development goal, method and content is compared with the prior
projects of the R&D registries; an element's score is the mean of two TF-IDF cosines:

- character 2–3-grams (spaces and punctuation removed): Korean words carry particles and endings
  (개선을/개선하여/개선), so whole-word matching misses obvious overlaps, while short grams match them;
- content morphemes (nouns, verb and adjective stems, foreign words and numbers, by the offline Kiwi analyser):
  a paraphrase that reorders and re-inflects the same words (임금체계와 취업규칙을 정비 / 취업규칙 정비로 임금
  체계 개편) keeps its morphemes even where its character grams drift apart.

TF-IDF keeps common words (컨설팅, 기업) from making every plan look alike. The per-element scores and the
matching project are the evidence (D3)."""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from screening.lookup.messages import DuplicateVerdict

from screening.similarity.analysis import CONTENT_TAGS, kiwi, weighted_cosine

ELEMENTS = ("goal", "method", "content")  # D1
_NOISE = re.compile(r"[^0-9a-z가-힣]+")


@dataclass(frozen=True)
class ProjectText:
    """The three D1 elements of a plan or a prior project."""

    goal: str
    method: str
    content: str


@dataclass(frozen=True)
class PriorProject:
    registry: str  # NTIS, SMTECH, GSTEP-PMS (D2)
    project_id: str
    title: str
    company_brn: str | None
    text: ProjectText


@dataclass(frozen=True)
class Match:
    project: PriorProject
    scores: dict[str, float]  # per element, 0..1

    @property
    def overall(self) -> float:
        return sum(self.scores.values()) / len(self.scores)


@dataclass(frozen=True)
class DuplicateCheck:
    verdict: DuplicateVerdict
    best: Match | None

    def evidence(self) -> str:
        if self.best is None:
            return "no prior project to compare with"
        p, s = self.best.project, self.best.scores
        return (f"{p.registry} {p.project_id} 「{p.title}」: goal {s['goal']:.2f}, method {s['method']:.2f}, "
                f"content {s['content']:.2f} (mean {self.best.overall:.2f})")


def grams(text: str, sizes: tuple[int, ...] = (2, 3)) -> Counter[str]:
    """Character n-grams of the text with spaces and punctuation removed, lower-cased."""
    squeezed = _NOISE.sub("", text.lower())
    return Counter(squeezed[i:i + n] for n in sizes for i in range(len(squeezed) - n + 1))


def morphemes(text: str) -> Counter[str]:
    """Content morphemes of the text (lemmas of nouns, verb and adjective stems, foreign words, numbers), read
    with the sentence as context (the national index reads word by word: see screening.similarity.analysis)."""
    return Counter(t.form.lower() for t in kiwi().tokenize(text) if t.tag.startswith(CONTENT_TAGS))


FEATURES = (grams, morphemes)


def idf(documents: Iterable[Counter[str]]) -> dict[str, float]:
    docs = list(documents)
    frequency = Counter(g for doc in docs for g in doc)
    return {g: math.log((1 + len(docs)) / (1 + df)) + 1 for g, df in frequency.items()}


def cosine(a: Counter[str], b: Counter[str], weights: dict[str, float]) -> float:
    return weighted_cosine({g: c * weights.get(g, 1.0) for g, c in a.items()},
                           {g: c * weights.get(g, 1.0) for g, c in b.items()})


def check_duplicates(plan: ProjectText, corpus: list[PriorProject], *, duplicate_threshold: float,
                     borderline_threshold: float) -> DuplicateCheck:
    """D3: the best-matching prior project decides; thresholds come from the program definition."""
    if not corpus:
        return DuplicateCheck(DuplicateVerdict.DIFFERENT, None)
    scores = [{e: 0.0 for e in ELEMENTS} for _ in corpus]
    for feature in FEATURES:
        for element in ELEMENTS:
            mine = feature(getattr(plan, element))
            theirs = [feature(getattr(p.text, element)) for p in corpus]
            weights = idf([mine, *theirs])
            for i, other in enumerate(theirs):
                scores[i][element] += cosine(mine, other, weights) / len(FEATURES)
    matches = [Match(p, {e: round(s[e], 4) for e in ELEMENTS}) for p, s in zip(corpus, scores)]
    # Highest mean first; ties broken by registry and id so the evidence is the same on every run.
    best = min(matches, key=lambda m: (-m.overall, m.project.registry, m.project.project_id))
    if best.overall >= duplicate_threshold:
        return DuplicateCheck(DuplicateVerdict.DUPLICATE, best)
    if best.overall >= borderline_threshold:
        return DuplicateCheck(DuplicateVerdict.BORDERLINE, best)
    return DuplicateCheck(DuplicateVerdict.DIFFERENT, best)
