"""schemathesis hooks (SCHEMATHESIS_HOOKS=tests.e2e.nul_bodies): every string of every generated JSON body carries
a NUL or a lone surrogate, the text PostgreSQL refuses. A service answers each such body with a 4xx naming the
field, never a 500 (issue 31: four routes let a NUL reach the database)."""
from __future__ import annotations

from itertools import count
from typing import Any

import schemathesis

_strings = count()


def _poisoned(value: Any) -> Any:
    if isinstance(value, str):
        return value[:1] + ("\x00" if next(_strings) % 2 else "\ud800") + value[1:]
    if isinstance(value, dict):
        return {key: _poisoned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_poisoned(item) for item in value]
    return value


@schemathesis.hook
def map_body(ctx: Any, body: Any) -> Any:
    return _poisoned(body)
