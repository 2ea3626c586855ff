"""What no page, notice or e-mail may show a person (issue 32): an internal identifier or code (docs:// URIs, payment
ids, English enum values), English words strung together (a library's message, a list of party codes), or a rule id
of DOMAIN.md without its Korean words. A rule id is readable only as the portal writes it, `X4 (허위 기재 제외)`:
its words right after it, in brackets, and the words it has in `portal.labels.RULES`."""
from __future__ import annotations

import re

from portal.labels import RULES

INTERNAL = re.compile(r"docs://|portal://|PAY-[A-Z]+-|\b(?:former-employer|in-force|given-up|evaluator-allowance|"
                      r"on-site|follow-up|selection-recheck|waitlisted|below-pass-mark|false-evidence|give-up|"
                      r"disaster-bankruptcy-closure|refused-correction|breach-of-law|clawed-back)\b")
ENGLISH_SENTENCE = re.compile(r"\b[A-Za-z]{2,}(?:,? [A-Za-z]+){2,}\b")
# Every family of DOMAIN.md's rule ids, numbered 1-19 (an industry code such as C29 is not a rule id)
RULE_ID = re.compile(r"(?<![A-Za-z0-9_-])([ACDEFGIKLMPQSTVX](?:1[0-9]|[1-9]))(?![0-9A-Za-z_-])")


def unreadable_text(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        for pattern in (INTERNAL, ENGLISH_SENTENCE):
            found += [f"{m.group(0)!r} in {line.strip()[:80]!r}" for m in pattern.finditer(line)]
        found += [f"{problem} in {line.strip()[:80]!r}" for problem in bare_rule_ids(line)]
    return found


def bare_rule_ids(line: str) -> list[str]:
    """Each rule id on the line not followed by its own Korean words."""
    problems = []
    for m in RULE_ID.finditer(line):
        rule_id = m.group(1)
        if rule_id not in RULES:
            problems.append(f"{rule_id!r} (a rule id the portal has no words for)")
        elif not line.startswith(f" ({RULES[rule_id]})", m.end()):
            problems.append(f"{rule_id!r} without its words ({RULES[rule_id]})")
    return problems
