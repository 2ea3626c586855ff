"""How the main job writes for a person at a terminal: columns padded by display width (a Hangul syllable takes
two), long text cut at a word with "…", every instant in one form (KST, to the minute) and every date as
YYYY-MM-DD."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), "KST")
ELLIPSIS = "…"


def width(text: str) -> int:
    """Columns a terminal gives `text`: wide and full-width characters (Hangul, CJK) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, columns: int) -> str:
    """`text` in at most `columns` columns: whole as it is, or cut before the word that does not fit, with "…"."""
    if width(text) <= columns:
        return text
    kept, used = [], width(ELLIPSIS)
    for ch in text:
        if used + width(ch) > columns:
            break
        kept.append(ch)
        used += width(ch)
    cut = "".join(kept)
    at_word = cut.rstrip()
    if " " in at_word and not text[len(cut):len(cut) + 1].isspace():
        at_word = at_word[:at_word.rindex(" ")]
    return at_word.rstrip(" ,;:(") + ELLIPSIS


def pad(text: str, columns: int) -> str:
    """Left-justified in `columns` display columns (cut with "…" when longer)."""
    text = clip(text, columns)
    return text + " " * (columns - width(text))


def instant(value: datetime | str) -> str:
    """2026-11-30 14:05 KST: the one way the job prints an instant."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(KST).strftime("%Y-%m-%d %H:%M KST")


def day(value: date | str) -> str:
    """2027-01-14, also from the registries' 20270114."""
    if isinstance(value, str):
        digits = value.replace("-", "")[:8]
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    return value.isoformat()


def heading(text: str) -> None:
    """A stage's title line."""
    print(f"\n== {text} " + "=" * max(0, 74 - len(text)))
