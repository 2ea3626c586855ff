"""Korean text as search terms: the content morphemes (lemmas of nouns, verb and adjective stems, roots, foreign
words and numbers) of each word, by the offline Kiwi analyser.

Kiwi reads a 550-character plan element in about 20 ms on this machine: a million prior projects analysed
sentence by sentence would take hours. Words repeat (a corpus of plans has far fewer distinct words than words),
so each distinct word is analysed once, on its own, and remembered; a word read without its sentence loses
Kiwi's context only for the rare word whose analysis depends on its neighbours."""
from __future__ import annotations

import math
import os
import re
from functools import lru_cache
from typing import Any, Iterable

WORD = re.compile(r"[0-9A-Za-z가-힣%]+")
# nouns, proper nouns, numerals, foreign words, numbers, roots, verb and adjective stems
CONTENT_TAGS = ("NNG", "NNP", "NR", "SL", "SN", "XR", "VV", "VA")


@lru_cache(maxsize=2)
def kiwi(threaded: bool = False):
    """Kiwi, loaded once per process (about 1 s): single-threaded for a query's few new words, threaded (every
    core) for the batches of an index build."""
    from kiwipiepy import Kiwi

    return Kiwi(num_workers=(os.cpu_count() or 1) if threaded else -1)


class Analyser:
    """Content morphemes per word, remembered; `learn` analyses many new words in one multithreaded batch."""

    def __init__(self) -> None:
        self._terms: dict[str, tuple[str, ...]] = {}

    def __len__(self) -> int:
        return len(self._terms)

    def learn(self, texts: Iterable[str]) -> None:
        """Analyse the words of `texts` not seen before (many at once: in one multithreaded batch)."""
        words = sorted({w for text in texts for w in WORD.findall(text)} - self._terms.keys())
        analysed: Iterable[tuple[str, Any]]
        if len(words) >= 64:
            analysed = zip(words, kiwi(threaded=True).tokenize(words))
        else:
            analysed = ((w, kiwi().tokenize(w)) for w in words)
        for word, tokens in analysed:
            self._terms[word] = tuple(t.form.lower() for t in tokens if t.tag.startswith(CONTENT_TAGS))

    def terms(self, text: str) -> list[str]:
        """The content morphemes of the text, in order (words not yet learnt are analysed now)."""
        words = WORD.findall(text)
        missing = [w for w in words if w not in self._terms]
        if missing:
            self.learn(missing)
        return [t for w in words for t in self._terms[w]]


def weighted_cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two weighted term vectors, 0–1."""
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return 0.0 if norm == 0 else min(1.0, dot / norm)
