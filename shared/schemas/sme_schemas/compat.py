"""Compatibility of event schemas within a major version — what the project promises is FULL, in Schema
Registry's terms, transitively over the version's releases: services are released one at a time in any order,
so
- FORWARD: a consumer of the previous release reads every event of the new producer. It ignores fields it does
  not know (`envelope.unwrap` reads tolerantly), so a new optional field is fine; a removed field, or a changed
  type, would make it dead-letter the event.
- BACKWARD: a consumer of the new release reads every event an old producer still sends (and the events already
  on the topics): a new field must be optional (with a default), never required.
`incompatibilities` finds what breaks either; `python -m sme_schemas.export --check` (a unit test) compares the
committed schemas with the code, and tests/integration/test_rolling_release.py proves the readers on the broker.
A change that breaks these is a new major version: a new topic (`….v2`), both published during the migration."""
from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _resolve(node: Schema, root: Schema) -> Schema:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node = root.get("$defs", {})[name]
    return node


def _types(node: Schema, root: Schema) -> set[str]:
    """The JSON types a schema node admits (anyOf/oneOf flattened, enums and consts by their values)."""
    node = _resolve(node, root)
    if "anyOf" in node or "oneOf" in node:
        return set().union(*(_types(n, root) for n in node.get("anyOf") or node.get("oneOf") or []))
    if "type" in node:
        return set(node["type"]) if isinstance(node["type"], list) else {node["type"]}
    if "enum" in node:
        return {f"enum:{v}" for v in node["enum"]}
    if "const" in node:
        return {f"const:{node['const']}"}
    return {"any"}


def incompatibilities(old: Schema, new: Schema) -> list[str]:
    """What makes `new` incompatible with `old`: removed fields, changed types, new required fields."""
    return _compare(old, new, old, new, "")


def _compare(old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str) -> list[str]:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems: list[str] = []
    old_types, new_types = _types(old, old_root), _types(new, new_root)
    if "any" not in new_types and not old_types <= new_types:
        lost = sorted(old_types - new_types)
        problems.append(f"{path or '(root)'}: type changed, no longer admits {', '.join(lost)}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name in old_props:
        if name not in new_props:
            problems.append(f"{path}{name}: field removed")
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{path}{name}: new required field")
    for name in old_props.keys() & new_props.keys():
        problems += _compare(old_props[name], new_props[name], old_root, new_root, f"{path}{name}.")
    old_items, new_items = old.get("items"), new.get("items")
    if isinstance(old_items, dict) and isinstance(new_items, dict):
        problems += _compare(old_items, new_items, old_root, new_root, f"{path}[].")
    for key in ("anyOf", "oneOf"):
        for i, (o, n) in enumerate(zip(old.get(key, []), new.get(key, []))):
            if _resolve(o, old_root).get("properties") and _resolve(n, new_root).get("properties"):
                problems += _compare(o, n, old_root, new_root, f"{path}")
    return problems
